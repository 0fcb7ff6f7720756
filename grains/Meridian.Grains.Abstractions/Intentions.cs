using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>An L7 HTTP header match (Consul's <c>IntentionHTTPHeaderPermission</c>).</summary>
[GenerateSerializer, Alias("meridian.intentions.HttpHeaderPermission"), Immutable]
public sealed record IntentionHttpHeaderDto
{
    [Id(0)] public string Name { get; init; } = "";
    [Id(1)] public bool Present { get; init; }
    [Id(2)] public string? Exact { get; init; }
    [Id(3)] public string? Prefix { get; init; }
    [Id(4)] public string? Suffix { get; init; }
    [Id(5)] public string? Contains { get; init; }
    [Id(6)] public string? Regex { get; init; }
    [Id(7)] public bool Invert { get; init; }
    [Id(8)] public bool IgnoreCase { get; init; }
}

/// <summary>L7 HTTP criteria of a permission (Consul's <c>IntentionHTTPPermission</c>).</summary>
[GenerateSerializer, Alias("meridian.intentions.HttpPermission"), Immutable]
public sealed record IntentionHttpDto
{
    [Id(0)] public string? PathExact { get; init; }
    [Id(1)] public string? PathPrefix { get; init; }
    [Id(2)] public string? PathRegex { get; init; }
    [Id(3)] public ImmutableArray<IntentionHttpHeaderDto> Header { get; init; } = [];
    [Id(4)] public ImmutableArray<string> Methods { get; init; } = [];
}

/// <summary>One L7 permission: an action and the HTTP criteria it applies to.</summary>
[GenerateSerializer, Alias("meridian.intentions.Permission"), Immutable]
public sealed record IntentionPermissionDto
{
    [Id(0)] public string Action { get; init; } = "";
    [Id(1)] public IntentionHttpDto? HTTP { get; init; }
}

/// <summary>
/// The flat intention view, with Consul's field names, plus Meridian's datacenter scoping
/// (<see cref="SourceDatacenter"/>, <see cref="DestinationDatacenter"/>; empty = any datacenter).
/// Precedence and the indexes are read-only: values sent by callers are ignored.
/// </summary>
[GenerateSerializer, Alias("meridian.intentions.Intention"), Immutable]
public sealed record IntentionDto
{
    [Id(0)] public string? ID { get; init; }
    [Id(1)] public string Description { get; init; } = "";
    [Id(2)] public string SourceNS { get; init; } = "";
    [Id(3)] public string SourceName { get; init; } = "";
    [Id(4)] public string DestinationNS { get; init; } = "";
    [Id(5)] public string DestinationName { get; init; } = "";
    [Id(6)] public string SourcePartition { get; init; } = "";
    [Id(7)] public string DestinationPartition { get; init; } = "";
    [Id(8)] public string SourceType { get; init; } = "";
    [Id(9)] public string Action { get; init; } = "";
    [Id(10)] public ImmutableArray<IntentionPermissionDto> Permissions { get; init; } = [];
    [Id(11)] public ImmutableDictionary<string, string> Meta { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(12)] public int Precedence { get; init; }
    [Id(13)] public ulong CreateIndex { get; init; }
    [Id(14)] public ulong ModifyIndex { get; init; }
    [Id(15)] public string SourceDatacenter { get; init; } = "";
    [Id(16)] public string DestinationDatacenter { get; init; } = "";
}

/// <summary>Identifies one intention: its source and destination (each <c>[ns/]name</c>) and datacenter scope.</summary>
[GenerateSerializer, Alias("meridian.intentions.IntentionRef"), Immutable]
public sealed record IntentionRefDto
{
    [Id(0)] public string Source { get; init; } = "";
    [Id(1)] public string Destination { get; init; } = "";
    [Id(2)] public string SourceDatacenter { get; init; } = "";
    [Id(3)] public string DestinationDatacenter { get; init; } = "";
}

/// <summary>The result of a write: the index at which it was committed in the primary.</summary>
[GenerateSerializer, Alias("meridian.intentions.WriteResult"), Immutable]
public sealed record IntentionWriteResultDto(
    [property: Id(0)] ulong Index,
    [property: Id(1)] string CommittedIn);

/// <summary>
/// A list result and the index it reflects. <see cref="FilteredByAcls"/>: with ACLs on, intentions the caller's token
/// may not read were left out (Consul's <c>X-Consul-Results-Filtered-By-ACLs: true</c>; never set for the anonymous
/// token, as in Consul).
/// </summary>
[GenerateSerializer, Alias("meridian.intentions.List"), Immutable]
public sealed record IntentionListDto(
    [property: Id(0)] ulong Index,
    [property: Id(1)] ImmutableArray<IntentionDto> Intentions,
    [property: Id(2)] bool FilteredByAcls = false);

/// <summary>The datacenter's intention index and how many intentions it holds.</summary>
[GenerateSerializer, Alias("meridian.intentions.Summary"), Immutable]
public sealed record IntentionSummaryDto(
    [property: Id(0)] ulong Index,
    [property: Id(1)] int Count);

/// <summary>Match results: one ordered list per requested name, in request order.</summary>
[GenerateSerializer, Alias("meridian.intentions.Match"), Immutable]
public sealed record IntentionMatchDto(
    [property: Id(0)] ulong Index,
    [property: Id(1)] ImmutableArray<IntentionMatchEntryDto> Matches);

/// <summary>The intentions matching one requested name, highest precedence first.</summary>
[GenerateSerializer, Alias("meridian.intentions.MatchEntry"), Immutable]
public sealed record IntentionMatchEntryDto(
    [property: Id(0)] string Name,
    [property: Id(1)] ImmutableArray<IntentionDto> Intentions);

/// <summary>L4 authorization request (Consul's <c>/v1/agent/connect/authorize</c> body).</summary>
[GenerateSerializer, Alias("meridian.intentions.AuthorizeRequest"), Immutable]
public sealed record AuthorizeRequestDto
{
    [Id(0)] public string Target { get; init; } = "";
    [Id(1)] public string ClientCertURI { get; init; } = "";
    [Id(2)] public string ClientCertSerial { get; init; } = "";
    [Id(3)] public string Namespace { get; init; } = "";
    [Id(4)] public string Partition { get; init; } = "";
}

/// <summary>L4 authorization result with Consul's <c>Reason</c> texts.</summary>
[GenerateSerializer, Alias("meridian.intentions.AuthorizeResult"), Immutable]
public sealed record AuthorizeResultDto(
    [property: Id(0)] bool Authorized,
    [property: Id(1)] string Reason);

/// <summary>
/// Everything that changed in a datacenter's intentions after an index: the entries changed since then
/// (whole per-destination entries) and the destinations deleted. When <see cref="IsSnapshot"/> is set the
/// answer holds every entry and the caller must drop what is not in it (the index it asked from is older
/// than the registry's memory, went backwards, or belongs to another epoch).
/// </summary>
[GenerateSerializer, Alias("meridian.intentions.Changes"), Immutable]
public sealed record IntentionChangesDto
{
    [Id(0)] public ulong Index { get; init; }
    [Id(1)] public bool IsSnapshot { get; init; }
    [Id(2)] public ImmutableArray<IntentionEntryDto> Upserts { get; init; } = [];
    [Id(3)] public ImmutableArray<string> DeletedDestinations { get; init; } = [];
    /// <summary>The answering registry's epoch: <see cref="Index"/> counts within it (see <see cref="IntentionPositionDto"/>).</summary>
    [Id(4)] public string Epoch { get; init; } = "";
    /// <summary>
    /// With ACLs on, entries (and deletions) of destinations the caller's token may not read (<c>intention:read</c>)
    /// were left out. A filtered snapshot is not the whole state: its receiver must not delete what it does not list.
    /// </summary>
    [Id(5)] public bool FilteredByAcls { get; init; }
}

/// <summary>
/// A point in a registry's history: an index and the epoch it counts in. The epoch is an id the registry creates
/// when it first activates on an empty store, so a registry wiped and rebuilt counts from 0 again in a new epoch:
/// the same index in two epochs says nothing about equal content. Empty <see cref="Epoch"/> = unknown.
/// </summary>
[GenerateSerializer, Alias("meridian.intentions.Position"), Immutable]
public sealed record IntentionPositionDto(
    [property: Id(0)] ulong Index,
    [property: Id(1)] string Epoch);

/// <summary>One source rule inside a destination's entry (Consul's <c>SourceIntention</c>).</summary>
[GenerateSerializer, Alias("meridian.intentions.SourceRule"), Immutable]
public sealed record SourceIntentionDto
{
    [Id(0)] public string Name { get; init; } = "";
    [Id(1)] public string Namespace { get; init; } = "";
    [Id(2)] public string Partition { get; init; } = "";
    [Id(3)] public string SourceDatacenter { get; init; } = "";
    [Id(4)] public string DestinationDatacenter { get; init; } = "";
    [Id(5)] public string Action { get; init; } = "";
    [Id(6)] public ImmutableArray<IntentionPermissionDto> Permissions { get; init; } = [];
    [Id(7)] public int Precedence { get; init; }
    [Id(8)] public string Type { get; init; } = "";
    [Id(9)] public string Description { get; init; } = "";
}

/// <summary>
/// All intentions of one destination (Consul's <c>service-intentions</c> config entry), as stored and replicated.
/// Every source shares the entry's <see cref="Meta"/> and indexes.
/// </summary>
[GenerateSerializer, Alias("meridian.intentions.Entry"), Immutable]
public sealed record IntentionEntryDto
{
    [Id(0)] public string Name { get; init; } = "";
    [Id(1)] public string Namespace { get; init; } = "";
    [Id(2)] public string Partition { get; init; } = "";
    [Id(3)] public ImmutableArray<SourceIntentionDto> Sources { get; init; } = [];
    [Id(4)] public ImmutableDictionary<string, string> Meta { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(5)] public ulong CreateIndex { get; init; }
    [Id(6)] public ulong ModifyIndex { get; init; }
}

/// <summary>
/// Durable holder of one destination's entry (key: <c>dc/ns/name</c>). Written only by the datacenter's
/// <see cref="IIntentionRegistryGrain"/>, which owns the index; read when the registry loads.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.intentions.IIntentionGrain")]
public interface IIntentionGrain : IGrainWithStringKey
{
    /// <summary>The stored entry, or null when there is none.</summary>
    [Alias("Get")]
    Task<IntentionEntryDto?> GetAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores <paramref name="entry"/> (null deletes). Durable before it returns. Idempotent.</summary>
    [Alias("Set")]
    Task SetAsync(IntentionEntryDto? entry, CancellationToken cancellationToken = default);

    /// <summary>
    /// The stored entry (null when none), for the Orleans dashboard's Grain Details, which calls a parameterless method named <c>GetState</c>
    /// (hence the name without <c>Async</c>). Read-only; never a private key.
    /// </summary>
    [Alias("GetState")]
    Task<IntentionEntryDto?> GetState();
}

/// <summary>One bucket of a datacenter's destination list (key: <c>dc/NN</c>). Written only by the registry.</summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.intentions.IIntentionCatalogGrain")]
public interface IIntentionCatalogGrain : IGrainWithStringKey
{
    /// <summary>The destination keys in this bucket.</summary>
    [Alias("List")]
    Task<IReadOnlyList<string>> ListAsync();

    /// <summary>Adds and removes keys; durable before it returns.</summary>
    [Alias("Update")]
    Task UpdateAsync(IReadOnlyList<string> added, IReadOnlyList<string> removed);
}

/// <summary>
/// The intentions of one datacenter (key: datacenter name). Single writer of the datacenter's index; serves
/// list, match and the change feed that silos' caches and secondary datacenters pull.
/// Writes are accepted only in the primary; a secondary forwards them (issue 5).
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.intentions.IIntentionRegistryGrain")]
public interface IIntentionRegistryGrain : IGrainWithStringKey
{
    /// <summary>Creates or replaces the intention for its source/destination pair. Idempotent. Durable before it returns.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Intention, AclLevel.Write, Name = "intention.DestinationName")]
    [Alias("Upsert")]
    Task<IntentionWriteResultDto> UpsertAsync(IntentionDto intention, CancellationToken cancellationToken = default);

    /// <summary>Deletes the intention; a no-op (still answered with the current index) when absent, as Consul.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Intention, AclLevel.Write, Name = "intention.Destination")]
    [Alias("Delete")]
    Task<IntentionWriteResultDto> DeleteAsync(IntentionRefDto intention, CancellationToken cancellationToken = default);

    /// <summary>The intention for an exact source/destination pair; throws <see cref="MeridianNotFoundException"/> when absent.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Intention, AclLevel.Read, Name = "intention.Destination", OrName = "intention.Source")]
    [Alias("Get")]
    Task<IntentionDto> GetAsync(IntentionRefDto intention, CancellationToken cancellationToken = default);

    /// <summary>The index and the number of intentions, without building the list (for status and health probes).</summary>
    [Alias("GetSummary"), AlwaysInterleave]
    Task<IntentionSummaryDto> GetSummaryAsync(CancellationToken cancellationToken = default);

    /// <summary>Every intention, sorted by precedence. Built off the registry's activation: never delays a write.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Intention, AclLevel.Read, Filtered = true)]
    [Alias("List"), AlwaysInterleave]
    Task<IntentionListDto> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Consul's match: <paramref name="by"/> is <c>source</c> or <c>destination</c>; names are <c>[ns/]name</c>.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Intention, AclLevel.Read, Name = "names")]
    [Alias("Match"), AlwaysInterleave]
    Task<IntentionMatchDto> MatchAsync(string by, ImmutableArray<string> names, CancellationToken cancellationToken = default);

    /// <summary>
    /// Long-poll: answers at once when the index is past <paramref name="afterIndex"/>, else waits up to
    /// <paramref name="maxWait"/> (at most 10 minutes) for a change and answers with whatever changed (possibly nothing).
    /// </summary>
    /// <remarks>Knows no epoch: a caller that holds nothing yet (index 0) gets a snapshot either way.</remarks>
    [GrainSurface(Surface.Federation)]
    [Acl(AclTarget.Intention, AclLevel.Read, Filtered = true)]
    [Alias("WaitForChanges"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<IntentionChangesDto> WaitForChangesAsync(ulong afterIndex, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>
    /// Long-poll from a position: when <paramref name="after"/> names an epoch other than this registry's (it was
    /// wiped and rebuilt since), answers at once with a snapshot, never waits; otherwise (same or empty epoch) as
    /// <see cref="WaitForChangesAsync(ulong, TimeSpan, CancellationToken)"/> with <c>after.Index</c>.
    /// </summary>
    [GrainSurface(Surface.Federation)]
    [Acl(AclTarget.Intention, AclLevel.Read, Filtered = true)]
    [Alias("WaitForChangesFrom"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<IntentionChangesDto> WaitForChangesAsync(IntentionPositionDto after, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>
    /// Secondary only: applies one replication round from the primary in one batch (a snapshot is diffed against
    /// local state) and records the primary's index and epoch with it, in the same write. A round from a replaced or
    /// reset primary, a snapshot deleting everything held here, or a first sync over entries of this datacenter's own
    /// is not applied but held (<c>Meridian.Core.Federation.ReplicationHoldRule</c>) unless
    /// <paramref name="adoptPrimaryState"/>. A delta from an epoch other than the one applied last is refused (only a
    /// snapshot crosses epochs). Returns the number of entries written or deleted, or the hold.
    /// </summary>
    [Alias("ApplyReplicated")]
    Task<ReplicationApplyResultDto> ApplyReplicatedAsync(IntentionChangesDto fromPrimary, bool adoptPrimaryState, CancellationToken cancellationToken = default);

    /// <summary>The primary's index this datacenter has applied (the primary answers its own index).</summary>
    [Alias("GetReplicatedIndex"), AlwaysInterleave]
    Task<ulong> GetReplicatedIndexAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The primary's index this datacenter has applied and the primary epoch it belongs to (empty before the first
    /// sync, or when it was applied by a version without epochs); the primary answers its own index and epoch.
    /// </summary>
    [Alias("GetReplicatedPosition"), AlwaysInterleave]
    Task<IntentionPositionDto> GetReplicatedPositionAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Secondary: the applied position (as <see cref="GetReplicatedPositionAsync"/>) and the round held for the
    /// operator, as persisted (the replicator resumes from both after a restart); the primary answers its own position.
    /// </summary>
    [Alias("GetReplicationProgress"), AlwaysInterleave]
    Task<ReplicationProgressDto> GetReplicationProgressAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Read-your-writes after a forwarded write: waits (at most <paramref name="maxWait"/>) until this datacenter has
    /// applied the primary's <paramref name="primaryIndex"/>. True when it has.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [AclNone("answers only whether this datacenter has applied an index of the primary; the write it waits for was checked")]
    [Alias("WaitForReplicated"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>
    /// The datacenter's intentions and index, for the Orleans dashboard's Grain Details, which calls a parameterless method named <c>GetState</c>
    /// (hence the name without <c>Async</c>). Read-only; never a private key.
    /// </summary>
    [Alias("GetState"), AlwaysInterleave]
    Task<IntentionListDto> GetState();
}

/// <summary>
/// Authorization in the local datacenter, decided from the silo's in-memory intention cache
/// (no storage read, no cross-datacenter call). Stateless worker: scales with cores. Key: datacenter name.
/// </summary>
[GrainSurface(Surface.Public)]
[Alias("meridian.intentions.IAuthorizerGrain")]
public interface IAuthorizerGrain : IGrainWithStringKey
{
    /// <summary>Consul's <c>/v1/agent/connect/authorize</c>. Bad input throws <see cref="MeridianValidationException"/>.</summary>
    [Acl(AclTarget.Service, AclLevel.Write, Name = "request.Target")]
    [Alias("Authorize")]
    Task<AuthorizeResultDto> AuthorizeAsync(AuthorizeRequestDto request);

    /// <summary>Consul's <c>/v1/connect/intentions/check</c>: whether <paramref name="source"/> may reach <paramref name="destination"/>.</summary>
    [Acl(AclTarget.Service, AclLevel.Read, Name = "destination")]
    [Alias("Check")]
    Task<bool> CheckAsync(string source, string destination, string sourceType = "consul");
}
