namespace Meridian.Core.Identity;

/// <summary>
/// The mesh trust domain, <c>&lt;clusterID&gt;.consul</c> (lower case). The primary generates the cluster ID
/// (a UUID) once; every federated datacenter shares it (SPEC §3.2).
/// </summary>
public readonly record struct TrustDomain
{
    /// <summary>Consul's fixed domain suffix.</summary>
    public const string DefaultDomain = "consul";

    public TrustDomain(string clusterId, string domain = DefaultDomain)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        ArgumentException.ThrowIfNullOrEmpty(domain);
        ClusterId = clusterId.ToLowerInvariant();
        Domain = domain.ToLowerInvariant();
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

    public static bool TryParse(string? host, out TrustDomain trustDomain)
    {
        trustDomain = default;
        if (string.IsNullOrEmpty(host)) return false;
        var dot = host.IndexOf('.');
        if (dot <= 0 || dot == host.Length - 1) return false;
        trustDomain = new TrustDomain(host[..dot], host[(dot + 1)..]);
        return true;
    }

    /// <summary>The signing (CA) SPIFFE ID of this trust domain.</summary>
    public SigningSpiffeId SigningId => new(ClusterId, Domain);

    /// <inheritdoc />
    public override string ToString() => ClusterId is null ? "" : Host;
}
