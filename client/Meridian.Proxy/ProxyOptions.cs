using System.Globalization;
using System.Net;
using Meridian.Core.Validation;

namespace Meridian.Proxy;

/// <summary>One upstream of the proxy: a local listener and the destination it carries connections to.</summary>
/// <param name="DestinationType"><c>service</c> or <c>prepared_query</c>.</param>
/// <param name="DestinationName">The service or prepared query.</param>
/// <param name="Datacenter">For a service: the datacenter it lives in (empty: the proxy's).</param>
/// <param name="LocalBindAddress">Where the application connects. Default <c>127.0.0.1</c>: an upstream is plain TCP, so it is not exposed beyond the host unless asked.</param>
/// <param name="LocalBindPort">The local port (0: any free port, see <see cref="ConnectProxy.UpstreamEndpoints"/>).</param>
public sealed record ProxyUpstream(string DestinationType, string DestinationName, string Datacenter, string LocalBindAddress, int LocalBindPort)
{
    /// <summary><c>service</c>.</summary>
    public const string Service = "service";

    /// <summary><c>prepared_query</c>.</summary>
    public const string PreparedQuery = "prepared_query";

    /// <summary>
    /// The <c>--upstream</c> flag: <c>NAME:PORT[:DC]</c> for a service (in this datacenter or DC), <c>query:NAME:PORT</c>
    /// for a prepared query, bound on <c>127.0.0.1</c> (another address comes from the catalog's <c>LocalBindAddress</c>
    /// with <c>--sidecar-for</c>). Throws <see cref="DomainValidationException"/> naming <paramref name="field"/>.
    /// </summary>
    public static ProxyUpstream Parse(string value, string field = "--upstream")
    {
        var parts = (value ?? "").Split(':');
        string Fix() => $"{field} \"{value}\" must be NAME:PORT[:DC] or query:NAME:PORT (e.g. db:9191, db:9191:dc2, query:db-geo:9192)";
        if (parts.Length >= 1 && parts[0] == "query")
        {
            if (parts.Length != 3 || parts[1].Length == 0 || !TryPort(parts[2], out var qp))
                throw new DomainValidationException(field, ValidationCodes.InvalidValue, Fix());
            return new ProxyUpstream(PreparedQuery, parts[1], "", "127.0.0.1", qp);
        }
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || !TryPort(parts[1], out var port) || (parts.Length == 3 && parts[2].Length == 0))
            throw new DomainValidationException(field, ValidationCodes.InvalidValue, Fix());
        return new ProxyUpstream(Service, parts[0], parts.Length == 3 ? parts[2] : "", "127.0.0.1", port);
    }

    private static bool TryPort(string text, out int port)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;

    /// <summary>How logs and the ready line name it: <c>db (dc2)</c>, <c>query db-geo</c>.</summary>
    public override string ToString() => DestinationType == PreparedQuery
        ? $"query {DestinationName}" : DestinationName + (Datacenter.Length > 0 ? $" ({Datacenter})" : "");
}

/// <summary>What one <see cref="ConnectProxy"/> serves. Everything but <see cref="Service"/> has a default.</summary>
public sealed class ProxyOptions
{
    /// <summary>The service the proxy represents: its certificate names it, and inbound connections are authorized to it. Required.</summary>
    public string Service { get; set; } = "";

    /// <summary>
    /// The public mTLS listener (<c>address:port</c>); null: no inbound listener (an upstream-only proxy). Always mutual
    /// TLS: there is no plain-text inbound mode.
    /// </summary>
    public IPEndPoint? Listen { get; set; }

    /// <summary>The local application inbound connections are forwarded to (<c>127.0.0.1:8080</c>). Required with <see cref="Listen"/>.</summary>
    public DnsEndPoint? LocalApp { get; set; }

    /// <summary>The upstreams, each with its own local listener.</summary>
    public List<ProxyUpstream> Upstreams { get; set; } = [];

    /// <summary>
    /// Register the proxy in the catalog as <c>connect-proxy</c> (service <c>&lt;Service&gt;-sidecar-proxy</c>) with a TTL
    /// check it keeps passing, and deregister it on stop. Default: true when there is an inbound listener.
    /// </summary>
    public bool? Register { get; set; }

    /// <summary>Catalog node the proxy registers on. Default: the machine name.</summary>
    public string Node { get; set; } = Environment.MachineName;

    /// <summary>
    /// The address registered for the node and the proxy service. Default: the listen address, or <c>127.0.0.1</c>
    /// when it listens on every address.
    /// </summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>The registered service ID. Default: <c>&lt;Service&gt;-sidecar-proxy</c> (Consul's sidecar naming).</summary>
    public string? ProxyId { get; set; }

    /// <summary>TTL of the registered heartbeat check; it is passed every third of it. Default: 30 seconds (Consul's built-in proxy).</summary>
    public TimeSpan CheckTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="ConnectProxy.StopAsync"/> lets open connections finish before closing them. Default: 10 seconds.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>TLS handshake limit for one connection. Default: 10 seconds (Consul's built-in proxy).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>TCP connect limit to the local application and to each upstream endpoint. Default: 1 second (Consul: 1000 ms local).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long an authorize decision is reused for the same caller identity. Default: 1 second. The SDK offers no
    /// intentions watch yet, so a changed intention takes effect for new connections within this time (Consul calls
    /// authorize once per connection; this bounds the calls under a burst of connections).
    /// </summary>
    public TimeSpan AuthorizeCacheTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often the CA roots are read to notice a rotation (the SDK has no roots watch yet). Default: 1 second; one
    /// small call, answered from the CA grain's memory.
    /// </summary>
    public TimeSpan RootsPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Called after every completed TLS handshake (inbound and upstream), e.g. to count which certificate each used.</summary>
    public Action<ProxyHandshake>? OnHandshake { get; set; }

    /// <summary>The effective registration switch.</summary>
    public bool ShouldRegister => Register ?? Listen is not null;

    /// <summary>The effective service ID.</summary>
    public string EffectiveProxyId => string.IsNullOrEmpty(ProxyId) ? Service + "-sidecar-proxy" : ProxyId;

    /// <summary>Every problem, each naming its field; empty when the options can run.</summary>
    public IReadOnlyList<ValidationProblem> Validate()
    {
        List<ValidationProblem> problems = [];
        if (string.IsNullOrWhiteSpace(Service)) problems.Add(new("Service", ValidationCodes.Required, "Service must be given: the proxied service's name, --service NAME or --sidecar-for NAME"));
        if (Listen is not null && LocalApp is null) problems.Add(new("LocalApp", ValidationCodes.Required, "LocalApp is required with an inbound listener: the local application's address (--local-app HOST:PORT)"));
        if (Listen is null && Upstreams.Count == 0) problems.Add(new("Listen", ValidationCodes.Required, "Listen or an upstream is required: give an inbound listener (--listen ADDRESS:PORT) or at least one --upstream"));
        if (ShouldRegister && Listen is null) problems.Add(new("Register", ValidationCodes.InvalidValue, "Register needs an inbound listener: the catalog entry is where others dial the proxy"));
        if (ShouldRegister && string.IsNullOrWhiteSpace(Node)) problems.Add(new("Node", ValidationCodes.Required, "Node is required: the catalog node to register on"));
        foreach (var (name, value) in new[] { ("CheckTtl", CheckTtl), ("DrainTimeout", DrainTimeout), ("HandshakeTimeout", HandshakeTimeout), ("ConnectTimeout", ConnectTimeout), ("RootsPollInterval", RootsPollInterval) })
            if (value <= TimeSpan.Zero) problems.Add(new(name, ValidationCodes.OutOfRange, $"{name} must be positive"));
        if (AuthorizeCacheTtl < TimeSpan.Zero) problems.Add(new("AuthorizeCacheTtl", ValidationCodes.OutOfRange, "AuthorizeCacheTtl must not be negative (0: authorize every connection)"));
        var seen = new HashSet<(string, int)>();
        for (var i = 0; i < Upstreams.Count; i++)
        {
            var u = Upstreams[i];
            if (u.LocalBindPort != 0 && !seen.Add((u.LocalBindAddress, u.LocalBindPort)))
                problems.Add(new($"Upstreams[{i}].LocalBindPort", ValidationCodes.InvalidValue, $"upstreams cannot contain duplicates by local bind address and port; \"{u.LocalBindAddress}:{u.LocalBindPort}\" is specified twice"));
            if (!IPAddress.TryParse(u.LocalBindAddress, out _))
                problems.Add(new($"Upstreams[{i}].LocalBindAddress", ValidationCodes.InvalidValue, $"Upstreams[{i}].LocalBindAddress \"{u.LocalBindAddress}\" must be an IP address"));
        }
        return problems;
    }
}

/// <summary>One completed handshake, as <see cref="ProxyOptions.OnHandshake"/> sees it.</summary>
/// <param name="Inbound">True on the public listener, false when dialing an upstream.</param>
/// <param name="LocalSerial">Serial of the certificate this proxy presented.</param>
/// <param name="PeerUri">The peer's SPIFFE ID.</param>
/// <param name="PeerSerial">Serial of the peer's certificate.</param>
public sealed record ProxyHandshake(bool Inbound, string LocalSerial, string PeerUri, string PeerSerial);
