using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>An address and port a service publishes under a tag (Consul's service <c>TaggedAddresses</c> values).</summary>
[GenerateSerializer, Alias("meridian.catalog.ServiceAddress"), Immutable]
public sealed record ServiceAddressDto
{
    [Id(0)] public string Address { get; init; } = "";
    [Id(1)] public int Port { get; init; }
}

/// <summary>A mesh gateway mode (Consul's <c>MeshGateway</c> block).</summary>
[GenerateSerializer, Alias("meridian.catalog.MeshGateway"), Immutable]
public sealed record MeshGatewayDto
{
    [Id(0)] public string Mode { get; init; } = "";
}

/// <summary>One upstream of a sidecar proxy (Consul's <c>Proxy.Upstreams[]</c>), stored as sent.</summary>
[GenerateSerializer, Alias("meridian.catalog.Upstream"), Immutable]
public sealed record UpstreamDto
{
    [Id(0)] public string DestinationType { get; init; } = "";
    [Id(1)] public string DestinationNamespace { get; init; } = "";
    [Id(2)] public string DestinationPartition { get; init; } = "";
    [Id(3)] public string DestinationPeer { get; init; } = "";
    [Id(4)] public string DestinationName { get; init; } = "";
    [Id(5)] public string Datacenter { get; init; } = "";
    [Id(6)] public string LocalBindAddress { get; init; } = "";
    [Id(7)] public int LocalBindPort { get; init; }
    [Id(8)] public string LocalBindSocketPath { get; init; } = "";
    [Id(9)] public string LocalBindSocketMode { get; init; } = "";
    [Id(10)] public ImmutableDictionary<string, string> Config { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(11)] public MeshGatewayDto MeshGateway { get; init; } = new();
}

/// <summary>What a <c>connect-proxy</c> instance proxies for (Consul's <c>Proxy</c>).</summary>
[GenerateSerializer, Alias("meridian.catalog.Proxy"), Immutable]
public sealed record ProxyDto
{
    [Id(0)] public string DestinationServiceName { get; init; } = "";
    [Id(1)] public string DestinationServiceID { get; init; } = "";
    [Id(2)] public string LocalServiceAddress { get; init; } = "";
    [Id(3)] public int LocalServicePort { get; init; }
    [Id(4)] public ImmutableArray<UpstreamDto> Upstreams { get; init; } = [];
}

/// <summary>Consul's <c>Connect</c> block of a service (only <c>Native</c> is kept).</summary>
[GenerateSerializer, Alias("meridian.catalog.Connect"), Immutable]
public sealed record ConnectDto
{
    [Id(0)] public bool Native { get; init; }
}

/// <summary>A node of a datacenter's catalog, with Consul's field names (<c>/v1/catalog/nodes</c> entries).</summary>
[GenerateSerializer, Alias("meridian.catalog.Node"), Immutable]
public sealed record CatalogNodeDto
{
    [Id(0)] public string ID { get; init; } = "";
    [Id(1)] public string Node { get; init; } = "";
    [Id(2)] public string Address { get; init; } = "";
    [Id(3)] public string Datacenter { get; init; } = "";
    [Id(4)] public ImmutableDictionary<string, string> TaggedAddresses { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(5)] public ImmutableDictionary<string, string> Meta { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(6)] public ulong CreateIndex { get; init; }
    [Id(7)] public ulong ModifyIndex { get; init; }
}

/// <summary>A service instance on a node (Consul's <c>NodeService</c>; <c>Service</c> is the name).</summary>
[GenerateSerializer, Alias("meridian.catalog.NodeService"), Immutable]
public sealed record NodeServiceDto
{
    [Id(0)] public string Kind { get; init; } = "";
    [Id(1)] public string ID { get; init; } = "";
    [Id(2)] public string Service { get; init; } = "";
    [Id(3)] public ImmutableArray<string> Tags { get; init; } = [];
    [Id(4)] public string Address { get; init; } = "";
    [Id(5)] public ImmutableDictionary<string, ServiceAddressDto> TaggedAddresses { get; init; } = ImmutableDictionary<string, ServiceAddressDto>.Empty;
    [Id(6)] public ImmutableDictionary<string, string> Meta { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(7)] public int Port { get; init; }
    [Id(8)] public string SocketPath { get; init; } = "";
    [Id(9)] public ProxyDto? Proxy { get; init; }
    [Id(10)] public ConnectDto? Connect { get; init; }
    [Id(11)] public ulong CreateIndex { get; init; }
    [Id(12)] public ulong ModifyIndex { get; init; }
}

/// <summary>The part of a check's definition the catalog keeps (Consul's <c>Definition</c>): the TTL, as Go text (<c>30s</c>).</summary>
[GenerateSerializer, Alias("meridian.catalog.CheckDefinition"), Immutable]
public sealed record HealthCheckDefinitionDto
{
    [Id(0)] public string TTL { get; init; } = "";
}

/// <summary>
/// A check (Consul's <c>HealthCheck</c>): on a service instance when <see cref="ServiceID"/> is set, else on the node.
/// <see cref="Type"/> <c>ttl</c> with <c>Definition.TTL</c> turns critical when not refreshed within the TTL.
/// </summary>
[GenerateSerializer, Alias("meridian.catalog.HealthCheck"), Immutable]
public sealed record HealthCheckDto
{
    [Id(0)] public string Node { get; init; } = "";
    [Id(1)] public string CheckID { get; init; } = "";
    [Id(2)] public string Name { get; init; } = "";
    [Id(3)] public string Status { get; init; } = "";
    [Id(4)] public string Notes { get; init; } = "";
    [Id(5)] public string Output { get; init; } = "";
    [Id(6)] public string ServiceID { get; init; } = "";
    [Id(7)] public string ServiceName { get; init; } = "";
    [Id(8)] public ImmutableArray<string> ServiceTags { get; init; } = [];
    [Id(9)] public string Type { get; init; } = "";
    [Id(10)] public HealthCheckDefinitionDto Definition { get; init; } = new();
    [Id(11)] public ulong CreateIndex { get; init; }
    [Id(12)] public ulong ModifyIndex { get; init; }
}

/// <summary>One instance as health answers carry it (Consul's <c>CheckServiceNode</c>): node, service, every check that affects it.</summary>
[GenerateSerializer, Alias("meridian.catalog.CheckServiceNode"), Immutable]
public sealed record CheckServiceNodeDto
{
    [Id(0)] public CatalogNodeDto Node { get; init; } = new();
    [Id(1)] public NodeServiceDto Service { get; init; } = new();
    [Id(2)] public ImmutableArray<HealthCheckDto> Checks { get; init; } = [];
}

/// <summary>
/// <c>PUT /v1/catalog/register</c>'s body: a node, optionally a service on it and checks (<see cref="Check"/> and
/// <see cref="Checks"/> are both accepted, as Consul). <see cref="Datacenter"/> (empty: the caller's) chooses where
/// it is written; another datacenter's is reached over its link.
/// </summary>
[GenerateSerializer, Alias("meridian.catalog.RegisterRequest"), Immutable]
public sealed record CatalogRegisterRequestDto
{
    [Id(0)] public string ID { get; init; } = "";
    [Id(1)] public string Node { get; init; } = "";
    [Id(2)] public string Address { get; init; } = "";
    [Id(3)] public string Datacenter { get; init; } = "";
    [Id(4)] public ImmutableDictionary<string, string> TaggedAddresses { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(5)] public ImmutableDictionary<string, string> NodeMeta { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(6)] public NodeServiceDto? Service { get; init; }
    [Id(7)] public HealthCheckDto? Check { get; init; }
    [Id(8)] public ImmutableArray<HealthCheckDto> Checks { get; init; } = [];
    [Id(9)] public bool SkipNodeUpdate { get; init; }
}

/// <summary>
/// <c>PUT /v1/catalog/deregister</c>'s body: the node, or one of its services (<see cref="ServiceID"/>) or checks
/// (<see cref="CheckID"/>).
/// </summary>
[GenerateSerializer, Alias("meridian.catalog.DeregisterRequest"), Immutable]
public sealed record CatalogDeregisterRequestDto
{
    [Id(0)] public string Node { get; init; } = "";
    [Id(1)] public string Datacenter { get; init; } = "";
    [Id(2)] public string ServiceID { get; init; } = "";
    [Id(3)] public string CheckID { get; init; } = "";
}

/// <summary>Sets a check's status and output (<c>meridian check pass|warn|fail</c>; refreshes a TTL check).</summary>
[GenerateSerializer, Alias("meridian.catalog.CheckUpdate"), Immutable]
public sealed record CheckUpdateDto
{
    [Id(0)] public string Datacenter { get; init; } = "";
    [Id(1)] public string Node { get; init; } = "";
    [Id(2)] public string CheckID { get; init; } = "";
    [Id(3)] public string Status { get; init; } = "";
    [Id(4)] public string Output { get; init; } = "";
}

/// <summary><c>/v1/catalog/services</c>: name to tags, the index it reflects, and whether ACLs left names out.</summary>
[GenerateSerializer, Alias("meridian.catalog.Services"), Immutable]
public sealed record CatalogServicesDto
{
    [Id(0)] public ulong Index { get; init; }
    [Id(1)] public string Datacenter { get; init; } = "";
    [Id(2)] public ImmutableSortedDictionary<string, ImmutableArray<string>> Services { get; init; } = ImmutableSortedDictionary<string, ImmutableArray<string>>.Empty;
    [Id(3)] public bool FilteredByAcls { get; init; }
}

/// <summary><c>/v1/catalog/nodes</c>: the nodes sorted by name.</summary>
[GenerateSerializer, Alias("meridian.catalog.Nodes"), Immutable]
public sealed record CatalogNodesDto
{
    [Id(0)] public ulong Index { get; init; }
    [Id(1)] public string Datacenter { get; init; } = "";
    [Id(2)] public ImmutableArray<CatalogNodeDto> Nodes { get; init; } = [];
    [Id(3)] public bool FilteredByAcls { get; init; }

    /// <summary>The addresses are WAN-translated (<c>translate_wan_addrs</c>, an answer about another datacenter).</summary>
    [Id(4)] public bool AddressesTranslated { get; init; }
}

/// <summary>
/// One service's instances in a datacenter with every check that affects each (node checks first), sorted by node
/// then service ID; <see cref="Index"/> is the service's index (it moves on every change to the service's instances,
/// their checks or their nodes).
/// </summary>
[GenerateSerializer, Alias("meridian.catalog.ServiceHealth"), Immutable]
public sealed record ServiceHealthDto
{
    [Id(0)] public ulong Index { get; init; }
    [Id(1)] public string Datacenter { get; init; } = "";
    [Id(2)] public string Service { get; init; } = "";
    [Id(3)] public ImmutableArray<CheckServiceNodeDto> Instances { get; init; } = [];
    [Id(4)] public bool FilteredByAcls { get; init; }

    /// <summary>The addresses are WAN-translated (<c>translate_wan_addrs</c>, an answer about another datacenter).</summary>
    [Id(5)] public bool AddressesTranslated { get; init; }
}

/// <summary>A check as stored: the check (with its last status as given), its TTL and when it was last set.</summary>
[GenerateSerializer, Alias("meridian.catalog.StoredCheck"), Immutable]
public sealed record StoredCheckDto
{
    [Id(0)] public HealthCheckDto Check { get; init; } = new();
    [Id(1)] public TimeSpan? Ttl { get; init; }
    [Id(2)] public DateTimeOffset Refreshed { get; init; }
}

/// <summary>
/// One entry of a service's (or the node directory's) stored buckets: a copy of the node, the node's checks, and for
/// a service the instance and its own checks (<see cref="Service"/> is null for a directory entry).
/// </summary>
[GenerateSerializer, Alias("meridian.catalog.Instance"), Immutable]
public sealed record CatalogInstanceDto
{
    [Id(0)] public CatalogNodeDto Node { get; init; } = new();
    [Id(1)] public ImmutableArray<StoredCheckDto> NodeChecks { get; init; } = [];
    [Id(2)] public NodeServiceDto? Service { get; init; }
    [Id(3)] public ImmutableArray<StoredCheckDto> Checks { get; init; } = [];

    /// <summary>For a node's directory entry: the service name of each service ID on the node.</summary>
    [Id(4)] public ImmutableDictionary<string, string> ServiceNames { get; init; } = ImmutableDictionary<string, string>.Empty;
}

/// <summary>
/// The catalog and health of a datacenter (key: this datacenter's name), the one entry point of the SDK: writes go to
/// the node's grain, reads to one service's grain or to the directory. A non-empty <c>datacenter</c> other than this
/// one is forwarded over that datacenter's link with the caller's token (Consul's <c>?dc=</c>): an unknown one answers
/// <c>No path to datacenter</c>, an unreachable one <c>Remote DC has no server currently reachable</c>. Reads are
/// filtered per entry by <c>node:read</c> and <c>service:read</c> when ACLs are on.
/// </summary>
[GrainSurface(Surface.Public)]
[Alias("meridian.catalog.ICatalogGrain")]
public interface ICatalogGrain : IGrainWithStringKey
{
    /// <summary>
    /// Registers (creates or replaces) a node, optionally a service on it and checks, in the request's datacenter.
    /// Needs <c>node:write</c> on the node, and <c>service:write</c> on the service (and on the name already registered
    /// under its ID, and on the service of each service check). Returns the write's index.
    /// </summary>
    [Acl(AclTarget.Node, AclLevel.Write, Name = "request.Node")]
    [Alias("Register")]
    Task<ulong> RegisterAsync(CatalogRegisterRequestDto request, CancellationToken cancellationToken = default);

    /// <summary>Removes a node (with its services and checks), one service or one check. Needs <c>node:write</c> (and <c>service:write</c> for a service).</summary>
    [Acl(AclTarget.Node, AclLevel.Write, Name = "request.Node")]
    [Alias("Deregister")]
    Task<ulong> DeregisterAsync(CatalogDeregisterRequestDto request, CancellationToken cancellationToken = default);

    /// <summary>Sets a check's status and output, refreshing a TTL check. Needs <c>node:write</c> on the node.</summary>
    [Acl(AclTarget.Node, AclLevel.Write, Name = "update.Node")]
    [Alias("UpdateCheck")]
    Task<HealthCheckDto> UpdateCheckAsync(CheckUpdateDto update, CancellationToken cancellationToken = default);

    /// <summary>The checks with this ID in the datacenter, whichever node they are on (for <c>meridian check</c> without <c>--node</c>).</summary>
    [Acl(AclTarget.Node, AclLevel.Read, Filtered = true)]
    [Alias("FindChecks")]
    Task<ImmutableArray<HealthCheckDto>> FindChecksAsync(string checkId, string datacenter = "", CancellationToken cancellationToken = default);

    /// <summary>Service names and their tags (<c>/v1/catalog/services</c>).</summary>
    [Acl(AclTarget.Service, AclLevel.Read, Filtered = true)]
    [Alias("GetServices")]
    Task<CatalogServicesDto> GetServicesAsync(string datacenter = "", CancellationToken cancellationToken = default);

    /// <summary>The nodes (<c>/v1/catalog/nodes</c>).</summary>
    [Acl(AclTarget.Node, AclLevel.Read, Filtered = true)]
    [Alias("GetNodes")]
    Task<CatalogNodesDto> GetNodesAsync(string datacenter = "", CancellationToken cancellationToken = default);

    /// <summary>
    /// One service's instances with their checks (<c>/v1/health/service/:name</c>; the catalog's service view is the
    /// same data). <paramref name="passingOnly"/> drops an instance when any of its checks, its own or its node's, is
    /// not passing. One call to the service's grain in the answering datacenter.
    /// </summary>
    [Acl(AclTarget.Service, AclLevel.Read, Filtered = true)]
    [Alias("GetServiceHealth")]
    Task<ServiceHealthDto> GetServiceHealthAsync(string service, bool passingOnly = false, string datacenter = "", CancellationToken cancellationToken = default);

    /// <summary>
    /// Consul's blocking <c>/v1/health/service/:name?index=</c>: as <see cref="GetServiceHealthAsync"/>, answered once
    /// the service's index is greater than <paramref name="afterIndex"/> or after <paramref name="maxWait"/> (at most
    /// 10 minutes) with the data as it is. A TTL check that expires changes the status without a write, so it does not
    /// end a wait (the next read shows it).
    /// </summary>
    [Acl(AclTarget.Service, AclLevel.Read, Filtered = true)]
    [Alias("WaitForServiceHealth"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<ServiceHealthDto> WaitForServiceHealthAsync(string service, bool passingOnly, ulong afterIndex, TimeSpan maxWait, string datacenter = "", CancellationToken cancellationToken = default);
}

/// <summary>
/// One node of a datacenter's catalog (key: <c>dc/node</c>): the node, its checks and the IDs of its services; the
/// single writer for everything on the node. Pushes node changes to the services on it.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.catalog.ICatalogNodeGrain")]
public interface ICatalogNodeGrain : IGrainWithStringKey
{
    /// <summary>Validates and applies a registration of this node; durable before it returns.</summary>
    [Alias("Register")]
    Task<ulong> RegisterAsync(CatalogRegisterRequestDto request);

    /// <summary>Removes the node, a service or a check.</summary>
    [Alias("Deregister")]
    Task<ulong> DeregisterAsync(CatalogDeregisterRequestDto request);

    /// <summary>Sets a check of the node or of one of its services.</summary>
    [Alias("UpdateCheck")]
    Task<HealthCheckDto> UpdateCheckAsync(CheckUpdateDto update);

    /// <summary>The node entry with its checks (null when not registered), for the dashboard and tests.</summary>
    [Alias("GetState")]
    Task<CatalogInstanceDto?> GetState();
}

/// <summary>
/// One service of a datacenter's catalog (key: <c>dc/service</c>): every instance with a copy of its node and the
/// checks that affect it, in memory; stored in buckets (<see cref="ICatalogBucketGrain"/>), so a write persists one
/// bucket, never the service.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.catalog.ICatalogServiceGrain")]
public interface ICatalogServiceGrain : IGrainWithStringKey
{
    /// <summary>Creates or replaces an instance (key: node and service ID); durable before it returns.</summary>
    [Alias("Upsert")]
    Task<ulong> UpsertAsync(CatalogInstanceDto instance);

    /// <summary>Removes an instance; a no-op when absent.</summary>
    [Alias("Remove")]
    Task<ulong> RemoveAsync(string node, string serviceId);

    /// <summary>The instances with their checks' statuses as of now (TTL applied); see <see cref="ICatalogGrain.GetServiceHealthAsync"/>.</summary>
    [Alias("GetHealth"), AlwaysInterleave]
    Task<ServiceHealthDto> GetHealthAsync(bool passingOnly);

    /// <summary>As <see cref="GetHealthAsync"/>, once the index is greater than <paramref name="afterIndex"/> or after <paramref name="maxWait"/> (at most 10 minutes).</summary>
    [Alias("WaitForChange"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<ServiceHealthDto> WaitForChangeAsync(ulong afterIndex, bool passingOnly, TimeSpan maxWait);
}

/// <summary>
/// The directory of a datacenter's catalog (key: datacenter name): service names with their tags (stored), and the
/// nodes with the IDs of their checks (in memory, stored in node buckets).
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.catalog.ICatalogDirectoryGrain")]
public interface ICatalogDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Sets a service's tags; an empty default array removes the service.</summary>
    [Alias("SetService")]
    Task SetServiceAsync(string service, ImmutableArray<string> tags, bool present);

    /// <summary>Sets (or with null, removes) a node's directory entry: the node and its checks.</summary>
    [Alias("SetNode")]
    Task SetNodeAsync(string node, CatalogInstanceDto? entry);

    /// <summary>Service names and tags.</summary>
    [Alias("GetServices"), AlwaysInterleave]
    Task<CatalogServicesDto> GetServicesAsync();

    /// <summary>The nodes.</summary>
    [Alias("GetNodes"), AlwaysInterleave]
    Task<CatalogNodesDto> GetNodesAsync();

    /// <summary>Every check with this ID (node checks and service checks), with its node.</summary>
    [Alias("FindChecks"), AlwaysInterleave]
    Task<ImmutableArray<HealthCheckDto>> FindChecksAsync(string checkId);
}

/// <summary>
/// One stored bucket of a service's instances or of the node directory (key: <c>dc/&lt;owner&gt;/NN</c>); written only
/// by its owner. Splitting keeps a write to one entry from rewriting the whole service or node list.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.catalog.ICatalogBucketGrain")]
public interface ICatalogBucketGrain : IGrainWithStringKey
{
    /// <summary>Every entry of the bucket.</summary>
    [Alias("List")]
    Task<ImmutableDictionary<string, CatalogInstanceDto>> ListAsync();

    /// <summary>Sets (or with null, removes) one entry; durable before it returns.</summary>
    [Alias("Set")]
    Task SetAsync(string key, CatalogInstanceDto? entry);
}
