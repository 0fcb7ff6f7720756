using System.Collections.Immutable;

namespace Meridian.Core.Discovery;

/// <summary>
/// A health check's status, as Consul's catalog keeps it (https://developer.hashicorp.com/consul/api-docs/health):
/// <c>passing</c>, <c>warning</c> or <c>critical</c>. A check registered without a status is <see cref="Critical"/>.
/// </summary>
public enum HealthStatus
{
    /// <summary><c>passing</c>.</summary>
    Passing = 0,

    /// <summary><c>warning</c>.</summary>
    Warning = 1,

    /// <summary><c>critical</c>.</summary>
    Critical = 2,
}

/// <summary>Consul's service kinds (<c>Kind</c> of a service instance); <see cref="Typical"/> is the empty kind.</summary>
public static class ServiceKinds
{
    /// <summary>An ordinary service: <c>""</c>.</summary>
    public const string Typical = "";

    /// <summary>A sidecar proxy: <c>connect-proxy</c>.</summary>
    public const string ConnectProxy = "connect-proxy";
}

/// <summary>An address and port a service publishes under a tag (<c>lan</c>, <c>wan</c>, <c>wan_ipv4</c>…).</summary>
public sealed record ServiceAddress(string Address, int Port);

/// <summary>
/// A node of one datacenter's catalog (Consul's <c>Node</c>): <see cref="TaggedAddresses"/> uses Consul's keys
/// <c>lan</c>, <c>lan_ipv4</c>, <c>lan_ipv6</c>, <c>wan</c>, <c>wan_ipv4</c>, <c>wan_ipv6</c>.
/// </summary>
public sealed record CatalogNode(
    string Name,
    string Address,
    string Datacenter,
    ImmutableDictionary<string, string> TaggedAddresses,
    ImmutableDictionary<string, string> Meta,
    string Id = "");

/// <summary>
/// One upstream of a sidecar proxy (Consul's <c>Proxy.Upstreams[]</c>; Consul's connect proxy configuration reference,
/// https://developer.hashicorp.com/consul/docs/connect/proxies/proxy-config-reference#upstream-configuration-reference).
/// </summary>
public sealed record Upstream
{
    /// <summary><c>service</c> (also when empty) or <c>prepared_query</c>.</summary>
    public string DestinationType { get; init; } = "";

    /// <summary>The service or prepared query; required, never a wildcard.</summary>
    public string DestinationName { get; init; } = "";

    /// <summary>The destination's namespace (empty: the proxy's).</summary>
    public string DestinationNamespace { get; init; } = "";

    /// <summary>The destination's partition (empty: the proxy's).</summary>
    public string DestinationPartition { get; init; } = "";

    /// <summary>A cluster peer; not together with <see cref="Datacenter"/>.</summary>
    public string DestinationPeer { get; init; } = "";

    /// <summary>The datacenter of the destination (empty: the proxy's own).</summary>
    public string Datacenter { get; init; } = "";

    /// <summary>Where the proxy listens for this upstream (empty: 127.0.0.1).</summary>
    public string LocalBindAddress { get; init; } = "";

    /// <summary>The local port; exactly one of this and <see cref="LocalBindSocketPath"/>.</summary>
    public int LocalBindPort { get; init; }

    /// <summary>A unix socket instead of a port.</summary>
    public string LocalBindSocketPath { get; init; } = "";

    /// <summary>The socket's mode, octal text.</summary>
    public string LocalBindSocketMode { get; init; } = "";

    /// <summary><c>""</c> (inherit), <c>none</c>, <c>local</c> or <c>remote</c>.</summary>
    public string MeshGatewayMode { get; init; } = "";

    /// <summary>Opaque per-upstream settings (<c>connect_timeout_ms</c>, <c>protocol</c>…).</summary>
    public ImmutableDictionary<string, string> Config { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>
    /// Set by central configuration (Consul's <c>CentrallyConfigured</c>): may name <c>*</c> and needs no local bind.
    /// </summary>
    public bool CentrallyConfigured { get; init; }
}

/// <summary>
/// What a <c>connect-proxy</c> instance proxies for (Consul's <c>Proxy</c> block): the destination service and the
/// upstreams it dials.
/// </summary>
public sealed record ProxySettings(
    string DestinationServiceName,
    string DestinationServiceId,
    string LocalServiceAddress,
    int LocalServicePort,
    ImmutableArray<Upstream> Upstreams);

/// <summary>
/// A service instance registered on a node (Consul's <c>NodeService</c>). <see cref="ConnectNative"/> is Consul's
/// <c>Connect.Native</c>: the service speaks mTLS itself, so Connect queries return it without a sidecar.
/// </summary>
public sealed record CatalogService(
    string Id,
    string Name,
    ImmutableArray<string> Tags,
    string Address,
    ImmutableDictionary<string, ServiceAddress> TaggedAddresses,
    int Port,
    ImmutableDictionary<string, string> Meta,
    string Kind = ServiceKinds.Typical,
    ProxySettings? Proxy = null,
    bool ConnectNative = false);

/// <summary>
/// A check (Consul's <c>HealthCheck</c>): on a service instance when <see cref="ServiceId"/> is set, else on the node
/// (a node check affects every instance on the node).
/// </summary>
public sealed record CatalogCheck(
    string Node,
    string CheckId,
    string Name,
    HealthStatus Status,
    string ServiceId = "",
    string ServiceName = "",
    string Notes = "",
    string Output = "",
    string Type = "");

/// <summary>One instance as health answers carry it (Consul's <c>CheckServiceNode</c>): the node, the service, and every check that affects it.</summary>
public sealed record ServiceInstance(CatalogNode Node, CatalogService Service, ImmutableArray<CatalogCheck> Checks);
