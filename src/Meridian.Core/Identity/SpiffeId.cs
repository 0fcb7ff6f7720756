using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;

namespace Meridian.Core.Identity;

/// <summary>
/// A Connect SPIFFE identity (SPEC §3.2). Build one of the concrete records, or <see cref="Parse"/> a URI.
/// Formats and error texts are Consul's (<c>agent/connect/uri*.go</c>).
/// </summary>
/// <remarks>
/// Differences from Consul, all stricter or round-trip fixes:
/// <list type="bullet">
/// <item>Building escapes <c>/</c> inside a segment (<c>web/api</c> becomes <c>web%2Fapi</c>); Consul wrote it raw, producing a
/// URI that no longer parses. Other characters are escaped as Go's URL path encoding does, so ordinary names give the
/// same text as Consul.</item>
/// <item>Parsing rejects an empty host, user info, a query, a fragment, control characters and malformed
/// percent-escapes with the format error instead of ignoring them.</item>
/// </list>
/// </remarks>
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
    public static bool TryParse(string? input, [MaybeNullWhen(false)] out SpiffeId id, out string error)
    {
        id = null;
        error = "";
        var formatError = $"SPIFFE ID is not in the expected format: {input}";
        if (input is null || HasControlCharacter(input))
        {
            error = formatError;
            return false;
        }

        var schemeEnd = SchemeLength(input);
        if (schemeEnd < 0)
        {
            error = formatError;             // ":foo" - Go's url.Parse fails with "missing protocol scheme"
            return false;
        }
        // Go lower-cases the scheme while parsing, so SPIFFE:// is accepted (as Consul does).
        if (!input.AsSpan(0, schemeEnd).Equals("spiffe", StringComparison.OrdinalIgnoreCase))
        {
            error = "SPIFFE ID must have 'spiffe' scheme";
            return false;
        }
        if (!TrySplit(input.AsSpan(schemeEnd + 1), out var host, out var rawPath))
        {
            error = formatError;
            return false;
        }

        // Match on the raw (still escaped) path, then decode each captured segment, as Consul does.
        try
        {
            id = Match(host, rawPath);
        }
        catch (FormatException)
        {
            id = null;                       // a malformed %-escape or bytes that are not UTF-8
        }
        if (id is null) error = formatError;
        return id is not null;
    }

    private static SpiffeId? Match(string host, string rawPath)
    {
        Match m;
        if ((m = ServiceRegex().Match(rawPath)).Success)
        {
            return new ServiceSpiffeId(host, Decode(m.Groups[2]), Decode(m.Groups[3]), Decode(m.Groups[4]),
                m.Groups[1].Success ? Decode(m.Groups[1]) : DefaultPartition);
        }
        if ((m = AgentRegex().Match(rawPath)).Success)
        {
            return new AgentSpiffeId(host, Decode(m.Groups[2]), Decode(m.Groups[3]),
                m.Groups[1].Success ? Decode(m.Groups[1]) : DefaultPartition);
        }
        if ((m = ServerRegex().Match(rawPath)).Success)
            return new ServerSpiffeId(host, Decode(m.Groups[1]));
        if ((m = MeshGatewayRegex().Match(rawPath)).Success)
        {
            return new MeshGatewaySpiffeId(host, Decode(m.Groups[2]),
                m.Groups[1].Success ? Decode(m.Groups[1]) : DefaultPartition);
        }
        // A signing ID has no path and a '.' after at least one character: clusterID.domain.
        var dot = host.IndexOf('.');
        return rawPath.Length == 0 && dot > 0 ? new SigningSpiffeId(host[..dot], host[(dot + 1)..]) : null;
    }

    // Go's getScheme: [A-Za-z][A-Za-z0-9+.-]* before the first ':'. Returns the index of that ':',
    // 0 when there is no scheme at all (a relative reference: Consul reports the scheme error), -1 for ":...".
    private static int SchemeLength(string input)
    {
        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            if (char.IsAsciiLetter(c)) continue;
            if (char.IsAsciiDigit(c) || c is '+' or '-' or '.')
            {
                if (i == 0) return 0;
                continue;
            }
            if (c == ':') return i == 0 ? -1 : i;
            return 0;
        }
        return 0;
    }

    // After "spiffe:": "//host[/path]". User info, query and fragment make the ID malformed.
    private static bool TrySplit(ReadOnlySpan<char> rest, out string host, out string rawPath)
    {
        host = rawPath = "";
        if (!rest.StartsWith("//")) return false;
        rest = rest[2..];
        if (rest.IndexOfAny('?', '#') >= 0) return false;
        var slash = rest.IndexOf('/');
        var authority = slash < 0 ? rest : rest[..slash];
        if (!IsValidHost(authority)) return false;
        host = authority.ToString();
        rawPath = slash < 0 ? "" : rest[slash..].ToString();
        return true;
    }

    /// <summary>True when <paramref name="host"/> can be the host of a SPIFFE URI (non-empty, no delimiters or spaces).</summary>
    internal static bool IsValidHost(ReadOnlySpan<char> host)
    {
        if (host.IsEmpty) return false;
        foreach (var c in host)
        {
            if (c is '/' or '?' or '#' or '@' or '%' or ' ' || char.IsControl(c) || char.IsWhiteSpace(c)) return false;
        }
        return true;
    }

    private static bool HasControlCharacter(string s)
    {
        foreach (var c in s)
        {
            if (char.IsControl(c)) return true;
        }
        return false;
    }

    private static string Decode(Group g) => Unescape(g.Value);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Go's url.PathUnescape: every '%' must start a two-digit hex escape; the result must be UTF-8.
    private static string Unescape(string segment)
    {
        if (!segment.Contains('%')) return segment;
        var bytes = new List<byte>(segment.Length);
        Span<byte> buffer = stackalloc byte[4];
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            if (c == '%')
            {
                if (i + 2 >= segment.Length || !char.IsAsciiHexDigit(segment[i + 1]) || !char.IsAsciiHexDigit(segment[i + 2]))
                    throw new FormatException("invalid URL escape");
                bytes.Add((byte)Convert.ToInt32(segment.Substring(i + 1, 2), 16));
                i += 2;
                continue;
            }
            if (char.IsSurrogate(c))
            {
                if (i + 1 >= segment.Length) throw new FormatException("invalid UTF-16");
                bytes.AddRange(Encoding.UTF8.GetBytes(segment.Substring(i, 2)));
                i++;
                continue;
            }
            var n = Encoding.UTF8.GetBytes([c], buffer);
            for (var k = 0; k < n; k++) bytes.Add(buffer[k]);
        }
        try
        {
            return StrictUtf8.GetString([.. bytes]);
        }
        catch (ArgumentException e)
        {
            throw new FormatException("escaped bytes are not UTF-8", e);
        }
    }

    /// <summary>
    /// Percent-escapes one path segment like Go's URL path encoding (letters, digits, <c>-_.~$&amp;+,:;=@</c> stay as
    /// they are), except that <c>/</c> is escaped too so the segment survives a round trip.
    /// </summary>
    protected static string Escape(string segment)
    {
        StringBuilder? sb = null;
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' or '$' or '&' or '+' or ',' or ':' or ';' or '=' or '@')
            {
                sb?.Append(c);
                continue;
            }
            sb ??= new StringBuilder(segment.Length + 8).Append(segment, 0, i);
            var len = char.IsHighSurrogate(c) && i + 1 < segment.Length ? 2 : 1;
            foreach (var b in Encoding.UTF8.GetBytes(segment.Substring(i, len)))
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            i += len - 1;
        }
        return sb?.ToString() ?? segment;
    }

    [GeneratedRegex(@"^(?:/ap/([^/]+))?/ns/([^/]+)/dc/([^/]+)/svc/([^/]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceRegex();

    [GeneratedRegex(@"^(?:/ap/([^/]+))?/agent/client/dc/([^/]+)/id/([^/]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex AgentRegex();

    [GeneratedRegex(@"^/agent/server/dc/([^/]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex ServerRegex();

    [GeneratedRegex(@"^(?:/ap/([^/]+))?/gateway/mesh/dc/([^/]+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex MeshGatewayRegex();

    /// <summary>The <c>/ap/&lt;partition&gt;</c> prefix, empty for the default partition.</summary>
    protected static string PartitionPrefix(string partition)
        => string.IsNullOrEmpty(partition) || partition == DefaultPartition ? "" : $"/ap/{Escape(partition)}";

    /// <summary>Lower-cases ASCII letters only: hosts compare under ASCII case folding, never culture rules.</summary>
    internal static string AsciiLower(string s)
    {
        foreach (var c in s)
        {
            if (char.IsAsciiLetterUpper(c))
                return string.Create(s.Length, s, static (span, src) =>
                {
                    for (var i = 0; i < src.Length; i++) span[i] = char.IsAsciiLetterUpper(src[i]) ? (char)(src[i] | 0x20) : src[i];
                });
        }
        return s;
    }

    /// <summary>Validates a host for a constructor, throwing <see cref="ArgumentException"/>.</summary>
    protected static string RequireHost(string? value, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, paramName);
        if (!IsValidHost(value))
            throw new ArgumentException($"\"{value}\" is not a valid SPIFFE host (no '/', '?', '#', '@', '%' or whitespace).", paramName);
        return value;
    }

    /// <summary>Validates a required path segment value (any text, escaped when built), throwing <see cref="ArgumentException"/>.</summary>
    protected static string RequireSegment(string? value, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, paramName);
        return value;
    }

    /// <summary>Normalises a missing partition to <see cref="DefaultPartition"/> so built and parsed IDs compare equal.</summary>
    protected static string NormalizePartition(string? value) => string.IsNullOrEmpty(value) ? DefaultPartition : value;
}

/// <summary>A service identity: <c>spiffe://&lt;td&gt;[/ap/&lt;ap&gt;]/ns/&lt;ns&gt;/dc/&lt;dc&gt;/svc/&lt;service&gt;</c>.</summary>
/// <param name="TrustDomainHost">The trust domain host, e.g. <c>11111111-2222-3333-4444-555555555555.consul</c>.</param>
/// <param name="Namespace">Namespace (unescaped text).</param>
/// <param name="Datacenter">Datacenter (unescaped text).</param>
/// <param name="Service">Service name (unescaped text; <c>/</c> is escaped when built).</param>
/// <param name="Partition">Admin partition; empty means <see cref="SpiffeId.DefaultPartition"/>, which has no <c>/ap/</c> prefix.</param>
public sealed record ServiceSpiffeId(string TrustDomainHost, string Namespace, string Datacenter, string Service,
    string Partition = SpiffeId.DefaultPartition) : SpiffeId
{
    /// <summary>The trust domain host.</summary>
    public string TrustDomainHost { get; init => field = RequireHost(value, nameof(TrustDomainHost)); } = RequireHost(TrustDomainHost, nameof(TrustDomainHost));

    /// <summary>Namespace.</summary>
    public string Namespace { get; init => field = RequireSegment(value, nameof(Namespace)); } = RequireSegment(Namespace, nameof(Namespace));

    /// <summary>Datacenter.</summary>
    public string Datacenter { get; init => field = RequireSegment(value, nameof(Datacenter)); } = RequireSegment(Datacenter, nameof(Datacenter));

    /// <summary>Service name.</summary>
    public string Service { get; init => field = RequireSegment(value, nameof(Service)); } = RequireSegment(Service, nameof(Service));

    /// <summary>Admin partition, never empty.</summary>
    public string Partition { get; init => field = NormalizePartition(value); } = NormalizePartition(Partition);

    /// <inheritdoc />
    public override string Host => TrustDomainHost;

    /// <inheritdoc />
    protected override string EscapedPath
        => $"{PartitionPrefix(Partition)}/ns/{Escape(Namespace)}/dc/{Escape(Datacenter)}/svc/{Escape(Service)}";
}

/// <summary>A client agent identity: <c>spiffe://&lt;td&gt;[/ap/&lt;ap&gt;]/agent/client/dc/&lt;dc&gt;/id/&lt;node&gt;</c>.</summary>
/// <param name="TrustDomainHost">The trust domain host.</param>
/// <param name="Datacenter">Datacenter.</param>
/// <param name="Node">Node name.</param>
/// <param name="Partition">Admin partition; empty means <see cref="SpiffeId.DefaultPartition"/>.</param>
public sealed record AgentSpiffeId(string TrustDomainHost, string Datacenter, string Node,
    string Partition = SpiffeId.DefaultPartition) : SpiffeId
{
    /// <summary>The trust domain host.</summary>
    public string TrustDomainHost { get; init => field = RequireHost(value, nameof(TrustDomainHost)); } = RequireHost(TrustDomainHost, nameof(TrustDomainHost));

    /// <summary>Datacenter.</summary>
    public string Datacenter { get; init => field = RequireSegment(value, nameof(Datacenter)); } = RequireSegment(Datacenter, nameof(Datacenter));

    /// <summary>Node name.</summary>
    public string Node { get; init => field = RequireSegment(value, nameof(Node)); } = RequireSegment(Node, nameof(Node));

    /// <summary>Admin partition, never empty.</summary>
    public string Partition { get; init => field = NormalizePartition(value); } = NormalizePartition(Partition);

    /// <inheritdoc />
    public override string Host => TrustDomainHost;

    /// <inheritdoc />
    protected override string EscapedPath
        => $"{PartitionPrefix(Partition)}/agent/client/dc/{Escape(Datacenter)}/id/{Escape(Node)}";
}

/// <summary>A server identity: <c>spiffe://&lt;td&gt;/agent/server/dc/&lt;dc&gt;</c>.</summary>
/// <param name="TrustDomainHost">The trust domain host.</param>
/// <param name="Datacenter">Datacenter.</param>
public sealed record ServerSpiffeId(string TrustDomainHost, string Datacenter) : SpiffeId
{
    /// <summary>The trust domain host.</summary>
    public string TrustDomainHost { get; init => field = RequireHost(value, nameof(TrustDomainHost)); } = RequireHost(TrustDomainHost, nameof(TrustDomainHost));

    /// <summary>Datacenter.</summary>
    public string Datacenter { get; init => field = RequireSegment(value, nameof(Datacenter)); } = RequireSegment(Datacenter, nameof(Datacenter));

    /// <inheritdoc />
    public override string Host => TrustDomainHost;

    /// <inheritdoc />
    protected override string EscapedPath => $"/agent/server/dc/{Escape(Datacenter)}";
}

/// <summary>A mesh gateway identity: <c>spiffe://&lt;td&gt;[/ap/&lt;ap&gt;]/gateway/mesh/dc/&lt;dc&gt;</c>.</summary>
/// <param name="TrustDomainHost">The trust domain host.</param>
/// <param name="Datacenter">Datacenter.</param>
/// <param name="Partition">Admin partition; empty means <see cref="SpiffeId.DefaultPartition"/>.</param>
public sealed record MeshGatewaySpiffeId(string TrustDomainHost, string Datacenter,
    string Partition = SpiffeId.DefaultPartition) : SpiffeId
{
    /// <summary>The trust domain host.</summary>
    public string TrustDomainHost { get; init => field = RequireHost(value, nameof(TrustDomainHost)); } = RequireHost(TrustDomainHost, nameof(TrustDomainHost));

    /// <summary>Datacenter.</summary>
    public string Datacenter { get; init => field = RequireSegment(value, nameof(Datacenter)); } = RequireSegment(Datacenter, nameof(Datacenter));

    /// <summary>Admin partition, never empty.</summary>
    public string Partition { get; init => field = NormalizePartition(value); } = NormalizePartition(Partition);

    /// <inheritdoc />
    public override string Host => TrustDomainHost;

    /// <inheritdoc />
    protected override string EscapedPath => $"{PartitionPrefix(Partition)}/gateway/mesh/dc/{Escape(Datacenter)}";
}

/// <summary>The CA (signing) identity: <c>spiffe://&lt;clusterID&gt;.&lt;domain&gt;</c>, no path.</summary>
/// <param name="ClusterId">Cluster ID, the text before the first <c>.</c> of the host (may not contain <c>.</c>).</param>
/// <param name="Domain">Domain after the first <c>.</c>, normally <c>consul</c>.</param>
public sealed record SigningSpiffeId(string ClusterId, string Domain) : SpiffeId
{
    /// <summary>Cluster ID as given (case preserved; <see cref="Host"/> is lower case).</summary>
    public string ClusterId { get; init => field = RequireClusterId(value); } = RequireClusterId(ClusterId);

    /// <summary>Domain as given (case preserved).</summary>
    public string Domain { get; init => field = RequireDomain(value); } = RequireDomain(Domain);

    /// <inheritdoc />
    public override string Host => AsciiLower($"{ClusterId}.{Domain}");

    /// <inheritdoc />
    protected override string EscapedPath => "";

    /// <summary>
    /// Consul's <c>CanSign</c>: another signing ID only when it is the same ID (cluster ID and domain compared exactly,
    /// as Consul compares the structs); service, mesh-gateway and server IDs when their host equals this trust domain
    /// under ASCII case folding. Agent IDs are never covered: the server rewrites an agent CSR's host instead.
    /// </summary>
    public bool CanSign(SpiffeId other) => other switch
    {
        SigningSpiffeId s => s == this,
        ServiceSpiffeId or MeshGatewaySpiffeId or ServerSpiffeId => AsciiLower(other.Host) == Host,
        _ => false,
    };

    private static string RequireClusterId(string? value)
    {
        var v = RequireHost(value, nameof(ClusterId));
        if (v.Contains('.')) throw new ArgumentException($"Cluster ID \"{v}\" may not contain '.'.", nameof(ClusterId));
        return v;
    }

    // Consul accepts "spiffe://abc." (empty domain) as a signing ID; keep that so parsing round-trips.
    private static string RequireDomain(string? value)
    {
        ArgumentNullException.ThrowIfNull(value, nameof(Domain));
        return value.Length == 0 ? value : RequireHost(value, nameof(Domain));
    }
}
