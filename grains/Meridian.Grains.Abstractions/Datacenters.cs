using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>
/// One datacenter as it registered itself in the primary: how other datacenters reach it. Replicated to every
/// datacenter (<see cref="IDatacenterRegistryGrain"/>).
/// </summary>
[GenerateSerializer, Alias("meridian.datacenters.Entry"), Immutable]
public sealed record DatacenterEntryDto
{
    /// <summary>The datacenter's name.</summary>
    [Id(0)] public string Name { get; init; } = "";
    /// <summary>Its gateway endpoints as reachable from other datacenters, <c>HOST:PORT</c> (<c>Meridian:Wan:Gateways</c>).</summary>
    [Id(1)] public ImmutableArray<string> Gateways { get; init; } = [];
    /// <summary>Its WAN address (<c>Meridian:Wan:Address</c>), what <c>translate_wan_addrs</c> answers; "" when unset.</summary>
    [Id(2)] public string WanAddress { get; init; } = "";
    /// <summary>Its Orleans ClusterId, which a link to it must use.</summary>
    [Id(3)] public string ClusterId { get; init; } = "";
    /// <summary>The registry index at which the entry was created.</summary>
    [Id(4)] public ulong CreateIndex { get; init; }
    /// <summary>The registry index at which the entry last changed.</summary>
    [Id(5)] public ulong ModifyIndex { get; init; }
}

/// <summary>One answer of the primary's datacenter feed (see <see cref="IDatacenterRegistryGrain.WaitForChangesAsync"/>).</summary>
[GenerateSerializer, Alias("meridian.datacenters.Changes"), Immutable]
public sealed record DatacenterChangesDto
{
    /// <summary>The primary's registry index when it answered.</summary>
    [Id(0)] public ulong Index { get; init; }
    /// <summary>The primary registry's epoch that <see cref="Index"/> counts in.</summary>
    [Id(1)] public string Epoch { get; init; } = "";
    /// <summary>Every datacenter: the receiver drops the ones not listed.</summary>
    [Id(2)] public bool IsSnapshot { get; init; }
    /// <summary>The entries sent (for a snapshot: all).</summary>
    [Id(3)] public ImmutableArray<DatacenterEntryDto> Entries { get; init; } = [];
    /// <summary>For a delta: the names deleted.</summary>
    [Id(4)] public ImmutableArray<string> DeletedNames { get; init; } = [];
}

/// <summary>One line of <c>meridian datacenters</c>, as the answering datacenter sees it.</summary>
[GenerateSerializer, Alias("meridian.datacenters.Info"), Immutable]
public sealed record DatacenterInfoDto
{
    /// <summary>The datacenter's name.</summary>
    [Id(0)] public string Name { get; init; } = "";
    /// <summary>Whether it is the federation's primary.</summary>
    [Id(1)] public bool Primary { get; init; }
    /// <summary>Whether it is the datacenter that answered.</summary>
    [Id(2)] public bool Local { get; init; }
    /// <summary>Whether the answering datacenter has a connected link to it (always true for itself).</summary>
    [Id(3)] public bool Reachable { get; init; }
    /// <summary>The smoothed round-trip time from the answering datacenter (zero for itself); null = not measured (+∞).</summary>
    [Id(4)] public TimeSpan? Rtt { get; init; }
    /// <summary>Its WAN address, "" when it registered none.</summary>
    [Id(5)] public string WanAddress { get; init; } = "";
    /// <summary>
    /// Its gateway endpoints as it registered them for other datacenters, <c>HOST:PORT</c> (<c>Meridian:Wan:Gateways</c>);
    /// empty when not registered yet. What the SDK's <c>MeridianClientPool</c> connects to for that datacenter.
    /// </summary>
    [Id(6)] public ImmutableArray<string> Gateways { get; init; } = [];
    /// <summary>Its Orleans ClusterId, "" when not registered yet (a client of it must use this one).</summary>
    [Id(7)] public string ClusterId { get; init; } = "";
}

/// <summary>Every known datacenter ranked by distance from <see cref="AnsweredBy"/> (Consul's rule: nearest first, unmeasured last).</summary>
[GenerateSerializer, Alias("meridian.datacenters.List"), Immutable]
public sealed record DatacenterListDto
{
    /// <summary>The datacenter that answered (the RTTs are measured from it).</summary>
    [Id(0)] public string AnsweredBy { get; init; } = "";
    /// <summary>Ranked, the answering datacenter first.</summary>
    [Id(1)] public ImmutableArray<DatacenterInfoDto> Datacenters { get; init; } = [];
}

/// <summary>
/// The datacenters of the federation (key: this datacenter's name). Each datacenter registers itself in the primary
/// (its gateways and WAN address); every secondary replicates the primary's list and keeps it persisted, so links to
/// any datacenter open from it, even while the primary is down.
/// </summary>
[Alias("meridian.datacenters.IDatacenterRegistryGrain")]
public interface IDatacenterRegistryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Registers (or updates) a datacenter in the primary; in a secondary the call is forwarded to the primary.
    /// Idempotent: the same entry twice changes nothing. A secondary calls it with its replication token, which
    /// needs <c>operator:write</c> (as Consul's federation-state writes; docs/acl.md). Returns the registry index.
    /// </summary>
    [GrainSurface(Surface.Federation)]
    [Acl(AclTarget.Operator, AclLevel.Write)]
    [Alias("Register")]
    Task<ulong> RegisterAsync(DatacenterEntryDto entry, CancellationToken cancellationToken = default);

    /// <summary>Every datacenter this one knows, sorted by name (what its links open from).</summary>
    [GrainSurface(Surface.ClusterInternal)]
    [Alias("List"), AlwaysInterleave]
    Task<ImmutableArray<DatacenterEntryDto>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>meridian datacenters</c>: every known datacenter, ranked by the RTT measured from this one (Consul's
    /// <c>/v1/catalog/datacenters</c> order), with whether it is the primary and reachable now.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [AclNone("Consul's /v1/catalog/datacenters needs no token; names, reachability and RTTs only, no addresses of gateways")]
    [Alias("GetDatacenters"), AlwaysInterleave]
    Task<DatacenterListDto> GetDatacentersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The primary's feed for a secondary's replicator: answers at once with a snapshot for another epoch, waits up to
    /// <paramref name="maxWait"/> (at most 10 minutes) when the caller is up to date, else the delta.
    /// Requires <c>operator:read</c> (gateways and addresses; Consul's federation states need it too).
    /// </summary>
    [GrainSurface(Surface.Federation)]
    [Acl(AclTarget.Operator, AclLevel.Read)]
    [Alias("WaitForChanges"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<DatacenterChangesDto> WaitForChangesAsync(ulong afterIndex, string afterEpoch, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>Secondary: the primary's position applied (0, "": never synced).</summary>
    [GrainSurface(Surface.ClusterInternal)]
    [Alias("GetReplicationProgress"), AlwaysInterleave]
    Task<ReplicationProgressDto> GetReplicationProgressAsync(CancellationToken cancellationToken = default);

    /// <summary>Secondary: applies one answer of the primary's feed, with the primary's position. Idempotent.</summary>
    [GrainSurface(Surface.ClusterInternal)]
    [Alias("ApplyReplicated")]
    Task<ReplicationApplyResultDto> ApplyReplicatedAsync(DatacenterChangesDto changes, CancellationToken cancellationToken = default);
}

/// <summary>
/// A round trip to a datacenter's gateway silo for the RTT measurement: answers at once, on the silo the caller is
/// connected to (a stateless worker), and tells which datacenter answered.
/// </summary>
[GrainSurface(Surface.Federation)]
[Alias("meridian.datacenters.IDatacenterPingGrain")]
public interface IDatacenterPingGrain : IGrainWithIntegerKey
{
    /// <summary>The answering datacenter's name.</summary>
    [AclNone("a ping reveals only the datacenter's name, which its gateway's certificate already tells")]
    [Alias("Ping")]
    Task<string> PingAsync();
}

/// <summary>Pulls the primary's datacenter list into one secondary (key: the secondary's name).</summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.replication.IDatacenterReplicatorGrain")]
public interface IDatacenterReplicatorGrain : IGrainWithStringKey
{
    /// <summary>Starts replication if it is not running (idempotent).</summary>
    [Alias("EnsureRunning")]
    Task EnsureRunningAsync(CancellationToken cancellationToken = default);

    /// <summary>The replicator's status.</summary>
    [Alias("GetStatus"), AlwaysInterleave]
    Task<ReplicationStatusDto> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>The replicator's status, for the Orleans dashboard's Grain Details.</summary>
    [Alias("GetState"), AlwaysInterleave]
    Task<ReplicationStatusDto> GetState();
}
