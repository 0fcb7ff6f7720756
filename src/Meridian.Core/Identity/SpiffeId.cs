using System.Text.RegularExpressions;

namespace Meridian.Core.Identity;

/// <summary>
/// A Connect SPIFFE identity (SPEC §3.2). Build one of the concrete records, or <see cref="Parse"/> a URI.
/// Formats and error texts are Consul's (<c>agent/connect/uri*.go</c>).
/// </summary>
public abstract partial record SpiffeId
{
    /// <summary>Partition used when none is given.</summary>
    public const string DefaultPartition = "default";

    /// <summary>Namespace used when none is given.</summary>
    public const string DefaultNamespace = "default";

    /// <summary>The URI host (trust domain, or for a signing ID <c>clusterID.domain</c>).</summary>
    public abstract string Host { get; }

    /// <summary>The URI path, already percent-escaped; empty for a signing ID.</summary>
    protected abstract string EscapedPath { get; }

    /// <summary>The full URI text, e.g. <c>spiffe://&lt;td&gt;/ns/default/dc/dc1/svc/web</c>.</summary>
    public string Uri => $"spiffe://{Host}{EscapedPath}";

    /// <inheritdoc />
    public sealed override string ToString() => Uri;

    /// <summary>Parses a SPIFFE URI, throwing <see cref="FormatException"/> with Consul's message.</summary>
    public static SpiffeId Parse(string input)
        => TryParse(input, out var id, out var error) ? id : throw new FormatException(error);

    /// <summary>Parses a SPIFFE URI. On failure <paramref name="error"/> holds Consul's message.</summary>
    public static bool TryParse(string? input, out SpiffeId id, out string error)
    {
        id = null!;
        error = "";
        if (input is null || !TrySplit(input, out var scheme, out var host, out var rawPath))
        {
            error = $"SPIFFE ID is not in the expected format: {input}";
            return false;
        }
        if (!string.Equals(scheme, "spiffe", StringComparison.OrdinalIgnoreCase))
        {
            error = "SPIFFE ID must have 'spiffe' scheme";
            return false;
        }

        // Match on the raw (still escaped) path, then decode each captured segment, as Consul does.
        Match m;
        if ((m = ServiceRegex().Match(rawPath)).Success)
        {
            id = new ServiceSpiffeId(host, Decode(m.Groups[2]), Decode(m.Groups[3]), Decode(m.Groups[4]),
                m.Groups[1].Success ? Decode(m.Groups[1]) : DefaultPartition);
            return true;
        }
        if ((m = AgentRegex().Match(rawPath)).Success)
        {
            id = new AgentSpiffeId(host, Decode(m.Groups[2]), Decode(m.Groups[3]),
                m.Groups[1].Success ? Decode(m.Groups[1]) : DefaultPartition);
            return true;
        }
        if ((m = ServerRegex().Match(rawPath)).Success)
        {
            id = new ServerSpiffeId(host, Decode(m.Groups[1]));
            return true;
        }
        if ((m = MeshGatewayRegex().Match(rawPath)).Success)
        {
            id = new MeshGatewaySpiffeId(host, Decode(m.Groups[2]),
                m.Groups[1].Success ? Decode(m.Groups[1]) : DefaultPartition);
            return true;
        }
        if (rawPath.Length == 0)
        {
            var dot = host.IndexOf('.');
            if (dot > 0)
            {
                id = new SigningSpiffeId(host[..dot], host[(dot + 1)..]);
                return true;
            }
        }
        error = $"SPIFFE ID is not in the expected format: {input}";
        return false;
    }

    // Minimal URL split (scheme://host/path). Query and fragment make the ID malformed.
    private static bool TrySplit(string input, out string scheme, out string host, out string rawPath)
    {
        scheme = host = rawPath = "";
        var sep = input.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0) return false;
        scheme = input[..sep];
        var rest = input[(sep + 3)..];
        if (rest.IndexOfAny(['?', '#']) >= 0) return false;
        var slash = rest.IndexOf('/');
        host = slash < 0 ? rest : rest[..slash];
        rawPath = slash < 0 ? "" : rest[slash..];
        return host.Length > 0;
    }

    private static string Decode(Group g) => System.Uri.UnescapeDataString(g.Value);

    /// <summary>Percent-escapes one path segment (RFC 3986 unreserved characters stay as they are).</summary>
    protected static string Escape(string segment) => System.Uri.EscapeDataString(segment);

    [GeneratedRegex("^(?:/ap/([^/]+))?/ns/([^/]+)/dc/([^/]+)/svc/([^/]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceRegex();

    [GeneratedRegex("^(?:/ap/([^/]+))?/agent/client/dc/([^/]+)/id/([^/]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex AgentRegex();

    [GeneratedRegex("^/agent/server/dc/([^/]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ServerRegex();

    [GeneratedRegex("^(?:/ap/([^/]+))?/gateway/mesh/dc/([^/]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex MeshGatewayRegex();

    /// <summary>The <c>/ap/&lt;partition&gt;</c> prefix, empty for the default partition.</summary>
    protected static string PartitionPrefix(string partition)
        => string.IsNullOrEmpty(partition) || partition == DefaultPartition ? "" : $"/ap/{Escape(partition)}";
}

/// <summary>A service identity: <c>spiffe://&lt;td&gt;[/ap/&lt;ap&gt;]/ns/&lt;ns&gt;/dc/&lt;dc&gt;/svc/&lt;service&gt;</c>.</summary>
public sealed record ServiceSpiffeId(string TrustDomainHost, string Namespace, string Datacenter, string Service,
    string Partition = SpiffeId.DefaultPartition) : SpiffeId
{
    /// <inheritdoc />
    public override string Host => TrustDomainHost;

    /// <inheritdoc />
    protected override string EscapedPath
        => $"{PartitionPrefix(Partition)}/ns/{Escape(Namespace)}/dc/{Escape(Datacenter)}/svc/{Escape(Service)}";
}

/// <summary>A client agent identity: <c>spiffe://&lt;td&gt;[/ap/&lt;ap&gt;]/agent/client/dc/&lt;dc&gt;/id/&lt;node&gt;</c>.</summary>
public sealed record AgentSpiffeId(string TrustDomainHost, string Datacenter, string Node,
    string Partition = SpiffeId.DefaultPartition) : SpiffeId
{
    /// <inheritdoc />
    public override string Host => TrustDomainHost;

    /// <inheritdoc />
    protected override string EscapedPath
        => $"{PartitionPrefix(Partition)}/agent/client/dc/{Escape(Datacenter)}/id/{Escape(Node)}";
}

/// <summary>A server identity: <c>spiffe://&lt;td&gt;/agent/server/dc/&lt;dc&gt;</c>.</summary>
public sealed record ServerSpiffeId(string TrustDomainHost, string Datacenter) : SpiffeId
{
    /// <inheritdoc />
    public override string Host => TrustDomainHost;

    /// <inheritdoc />
    protected override string EscapedPath => $"/agent/server/dc/{Escape(Datacenter)}";
}

/// <summary>A mesh gateway identity: <c>spiffe://&lt;td&gt;[/ap/&lt;ap&gt;]/gateway/mesh/dc/&lt;dc&gt;</c>.</summary>
public sealed record MeshGatewaySpiffeId(string TrustDomainHost, string Datacenter,
    string Partition = SpiffeId.DefaultPartition) : SpiffeId
{
    /// <inheritdoc />
    public override string Host => TrustDomainHost;

    /// <inheritdoc />
    protected override string EscapedPath => $"{PartitionPrefix(Partition)}/gateway/mesh/dc/{Escape(Datacenter)}";
}

/// <summary>The CA (signing) identity: <c>spiffe://&lt;clusterID&gt;.&lt;domain&gt;</c>, no path.</summary>
public sealed record SigningSpiffeId(string ClusterId, string Domain) : SpiffeId
{
    /// <inheritdoc />
    public override string Host => $"{ClusterId}.{Domain}".ToLowerInvariant();

    /// <inheritdoc />
    protected override string EscapedPath => "";

    /// <summary>
    /// Consul's <c>CanSign</c>: another signing ID only when the URIs are identical; service, mesh-gateway and
    /// server IDs when their host equals this trust domain (ASCII case-insensitive). Agent IDs are not covered.
    /// </summary>
    public bool CanSign(SpiffeId other) => other switch
    {
        SigningSpiffeId s => s.Uri == Uri,
        ServiceSpiffeId or MeshGatewaySpiffeId or ServerSpiffeId => other.Host.ToLowerInvariant() == Host,
        _ => false,
    };
}
