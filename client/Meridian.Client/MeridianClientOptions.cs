using System.Net;

namespace Meridian.Client;

/// <summary>How the SDK reaches a datacenter. Section <c>Meridian:Client</c>.</summary>
public sealed class MeridianClientOptions
{
    public const string SectionName = "Meridian:Client";

    /// <summary>Gateway endpoints (<c>host:port</c>) of the datacenter's silos. Default: <c>127.0.0.1:30000</c>.</summary>
    public List<string> Gateways { get; set; } = ["127.0.0.1:30000"];

    /// <summary>The datacenter to talk to. Default: <c>dc1</c>.</summary>
    public string Datacenter { get; set; } = "dc1";

    /// <summary>Orleans ServiceId of the Meridian deployment. Default: <c>meridian</c>.</summary>
    public string ServiceId { get; set; } = "meridian";

    /// <summary>Orleans ClusterId of the datacenter. Default: <c>meridian-&lt;Datacenter&gt;</c>.</summary>
    public string? ClusterId { get; set; }

    /// <summary>ACL token sent with every call (like <c>X-Consul-Token</c>). Never logged.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// How long to keep trying to connect at start before failing with <see cref="MeridianUnreachableException"/>;
    /// also bounds each connection attempt (a port that accepts and never answers must not hold the start).
    /// Default: 5 seconds, long enough for a gateway that is still starting. Zero tries once.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the first round trip may take once connected (Orleans fetches the cluster's manifest while it
    /// starts), so that an endpoint that accepts the client but never answers fails the start instead of hanging it.
    /// Default: 5 seconds.
    /// </summary>
    public TimeSpan FirstCallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a call that is safe to repeat (reads, authorize, intention check, certificate fetch and signing,
    /// intention upsert, which is keyed by source and destination) keeps being retried after a transport failure: the
    /// silo or gateway it went through died or stopped, or a grain it needed was on such a silo and is being
    /// reactivated on another one. Each retry may go through another gateway of <see cref="Gateways"/>. Measured from
    /// the first failure; the delay between attempts grows from 100 ms to 2 s. Default: 30 seconds, above Orleans'
    /// default time to declare a killed silo dead (three missed probes of 5 s, plus the votes). Zero: no retry.
    /// Other writes (delete, CA rotation, ACL changes) are never retried: a lost reply does not tell whether they ran.
    /// </summary>
    public TimeSpan RetryTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How soon a gateway that failed is tried again (Orleans' <c>GatewayOptions.GatewayListRefreshPeriod</c>, one
    /// minute by default): a silo restarted one at a time in a rolling restart serves this client again within about
    /// twice this period. Also used by a secondary's link to its primary's gateways.
    /// </summary>
    public static readonly TimeSpan GatewayRefreshPeriod = TimeSpan.FromSeconds(10);

    /// <summary>
    /// CA certificate PEM of the transport (like <c>CONSUL_CACERT</c>). Set: the client speaks TLS to the gateway and
    /// trusts only this CA. Empty (default): plaintext, for a gateway without TLS.
    /// </summary>
    public string? CaFile { get; set; }

    /// <summary>Client certificate PEM, presented to a gateway that verifies incoming connections (like <c>CONSUL_CLIENT_CERT</c>).</summary>
    public string? ClientCertFile { get; set; }

    /// <summary>Private key PEM of <see cref="ClientCertFile"/> (like <c>CONSUL_CLIENT_KEY</c>).</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>
    /// With TLS: accept only a gateway whose certificate names <c>server.&lt;Datacenter&gt;.&lt;TlsDomain&gt;</c>
    /// (Consul's <c>verify_server_hostname</c>), so a server of another datacenter cannot answer for this one. Default: true.
    /// </summary>
    public bool VerifyServerHostname { get; set; } = true;

    /// <summary>Domain of the transport certificate names. Default: <c>meridian</c> (what <c>meridian tls cert create</c> writes).</summary>
    public string TlsDomain { get; set; } = MeridianTlsMaterial.DefaultDomain;

    /// <summary>True when the client speaks TLS (<see cref="CaFile"/> is set).</summary>
    public bool UseTls => !string.IsNullOrWhiteSpace(CaFile);

    /// <summary>The effective ClusterId.</summary>
    public string EffectiveClusterId => string.IsNullOrEmpty(ClusterId) ? $"meridian-{Datacenter}" : ClusterId;

    /// <summary>Parses <see cref="Gateways"/>; throws <see cref="ArgumentException"/> naming the bad entry.</summary>
    public IPEndPoint[] ParseGateways()
    {
        if (Gateways.Count == 0) throw new ArgumentException("Meridian:Client:Gateways must list at least one HOST:PORT");
        return [.. Gateways.Select(ParseEndpoint)];
    }

    /// <summary>
    /// Returns why <paramref name="text"/> is not <c>HOST:PORT</c>, or null. Syntax only, no DNS lookup. An IPv6
    /// address goes in brackets (<c>[::1]:30000</c>), as in a URL; a URL itself is not an endpoint (Orleans speaks
    /// its own protocol, not HTTP).
    /// </summary>
    public static string? CheckEndpoint(string text)
    {
        const string Form = "must be HOST:PORT with a port between 1 and 65535, e.g. 127.0.0.1:30000";
        if (text.Contains("://", StringComparison.Ordinal))
            return $"\"{text}\" is a URL; give the gateway as HOST:PORT without a scheme, e.g. 127.0.0.1:30000";
        var colon = text.LastIndexOf(':');
        if (colon <= 0) return $"\"{text}\" {Form}";
        var host = text[..colon];
        if (host.StartsWith('[') != host.EndsWith(']')) return $"\"{text}\" {Form}";
        if (host.StartsWith('['))
        {
            host = host[1..^1];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                return $"\"{text}\": only an IPv6 address goes in brackets, e.g. [::1]:30000";
        }
        else if (host.Contains(':'))
        {
            return $"\"{text}\": an IPv6 address needs brackets, e.g. [::1]:30000";
        }
        if (host.Length == 0 || host.Any(char.IsWhiteSpace)
            || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, null, out var port)
            || port is < 1 or > 65535)
        {
            return $"\"{text}\" {Form}";
        }
        return null;
    }

    /// <summary>Parses <c>HOST:PORT</c> or <c>[IPv6]:PORT</c> (host may be a name or an IP address).</summary>
    public static IPEndPoint ParseEndpoint(string text)
    {
        if (CheckEndpoint(text) is { } problem) throw new ArgumentException($"gateway {problem}");
        var colon = text.LastIndexOf(':');
        var port = int.Parse(text.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
        var host = text[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, port);
        var addresses = Dns.GetHostAddresses(host);
        var v4 = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        return new IPEndPoint(v4 ?? addresses.First(), port);
    }
}

/// <summary>The cluster could not be reached; the message names the gateways tried and what answered there.</summary>
public class MeridianUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The gateway answered, but it belongs to another datacenter: <see cref="ServedDatacenter"/> rather than
/// <see cref="Datacenter"/>. Retrying cannot help; the caller needs the other datacenter's gateway.
/// </summary>
public sealed class MeridianWrongDatacenterException(string gateway, string datacenter, string servedDatacenter)
    : MeridianUnreachableException($"gateway {gateway} serves datacenter {servedDatacenter}, not {datacenter}")
{
    /// <summary>The gateway, HOST:PORT as configured.</summary>
    public string Gateway { get; } = gateway;

    /// <summary>The datacenter the client was configured for.</summary>
    public string Datacenter { get; } = datacenter;

    /// <summary>The datacenter the gateway serves.</summary>
    public string ServedDatacenter { get; } = servedDatacenter;
}
