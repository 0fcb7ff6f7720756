using System.Diagnostics.CodeAnalysis;

namespace Meridian.Core.Identity;

/// <summary>
/// The mesh trust domain, <c>&lt;clusterID&gt;.consul</c> (lower case). The primary generates the cluster ID
/// (a UUID) once; every federated datacenter shares it (SPEC §3.2).
/// </summary>
/// <remarks>
/// Both parts are lower-cased and limited to the SPIFFE trust-domain alphabet (<c>a-z 0-9 - _</c>, plus <c>.</c>
/// between domain labels). The cluster ID may not contain <c>.</c>: a secondary recovers it as the text before
/// the first <c>.</c>, so a dotted ID would silently change on the way.
/// </remarks>
public readonly record struct TrustDomain
{
    /// <summary>Consul's fixed domain suffix.</summary>
    public const string DefaultDomain = "consul";

    /// <summary>Creates a trust domain; throws <see cref="ArgumentException"/> when a part is empty or malformed.</summary>
    public TrustDomain(string clusterId, string domain = DefaultDomain)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        ArgumentException.ThrowIfNullOrEmpty(domain);
        var id = SpiffeId.AsciiLower(clusterId);
        var dom = SpiffeId.AsciiLower(domain);
        if (!IsValidClusterId(id))
            throw new ArgumentException($"Cluster ID \"{clusterId}\" may contain only letters, digits, '-' and '_'.", nameof(clusterId));
        if (!IsValidDomain(dom))
            throw new ArgumentException($"Domain \"{domain}\" must be dot-separated labels of letters, digits, '-' and '_'.", nameof(domain));
        ClusterId = id;
        Domain = dom;
    }

    /// <summary>Cluster ID (UUID text), lower case.</summary>
    public string ClusterId { get; }

    /// <summary>Domain part, <c>consul</c>.</summary>
    public string Domain { get; }

    /// <summary>The host form, <c>&lt;clusterID&gt;.&lt;domain&gt;</c>.</summary>
    public string Host => $"{ClusterId}.{Domain}";

    /// <summary>A fresh trust domain for a new primary.</summary>
    public static TrustDomain New() => new(Guid.NewGuid().ToString());

    /// <summary>
    /// Parses the host form. Like Consul's secondary, the cluster ID is the text before the first <c>.</c>.
    /// </summary>
    public static TrustDomain Parse(string host)
    {
        if (!TryParse(host, out var td))
            throw new FormatException($"trust domain \"{host}\" is not of the form <cluster-id>.<domain>");
        return td;
    }

    /// <summary>Parses the host form (case-insensitive); false when it is empty or malformed.</summary>
    public static bool TryParse([NotNullWhen(true)] string? host, out TrustDomain trustDomain)
    {
        trustDomain = default;
        if (string.IsNullOrEmpty(host)) return false;
        var lower = SpiffeId.AsciiLower(host);
        var dot = lower.IndexOf('.');
        if (dot <= 0) return false;
        string id = lower[..dot], domain = lower[(dot + 1)..];
        if (!IsValidClusterId(id) || !IsValidDomain(domain)) return false;
        trustDomain = new TrustDomain(id, domain);
        return true;
    }

    /// <summary>The signing (CA) SPIFFE ID of this trust domain.</summary>
    public SigningSpiffeId SigningId => new(ClusterId, Domain);

    /// <summary>True when <paramref name="host"/> (any case) is this trust domain's host.</summary>
    public bool Matches(string? host) => host is not null && ClusterId is not null && SpiffeId.AsciiLower(host) == Host;

    /// <inheritdoc />
    public override string ToString() => ClusterId is null ? "" : Host;

    private static bool IsLabel(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty) return false;
        foreach (var c in s)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_')) return false;
        }
        return true;
    }

    private static bool IsValidClusterId(string s) => IsLabel(s);

    private static bool IsValidDomain(string s)
    {
        foreach (var range in s.AsSpan().Split('.'))
        {
            if (!IsLabel(s.AsSpan()[range])) return false;
        }
        return true;
    }
}
