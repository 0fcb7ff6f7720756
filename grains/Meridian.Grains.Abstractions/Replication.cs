using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>
/// One replicator's health (Consul's `/v1/acl/replication` fields; docs/consul-pain-points.md row 5), with Consul's ACL-replication field names plus the primary's
/// index and the lag. Times are UTC; <see cref="DateTimeOffset.MinValue"/> means never.
/// </summary>
[GenerateSerializer, Alias("meridian.replication.Status"), Immutable]
public sealed record ReplicationStatusDto
{
    [Id(0)] public bool Enabled { get; init; }
    [Id(1)] public bool Running { get; init; }
    [Id(2)] public string SourceDatacenter { get; init; } = "";
    /// <summary>What is replicated: a replicated type (<c>intentions</c>, …) or <c>ca-roots</c> (the names of <c>ReplicatedTypes</c>).</summary>
    [Id(3)] public string ReplicationType { get; init; } = "";
    /// <summary>The primary's index this datacenter has applied.</summary>
    [Id(4)] public ulong ReplicatedIndex { get; init; }
    /// <summary>The primary's index in its last answer, recorded whether or not applying it succeeded.</summary>
    [Id(5)] public ulong PrimaryIndex { get; init; }
    /// <summary><see cref="PrimaryIndex"/> − <see cref="ReplicatedIndex"/>.</summary>
    [Id(6)] public ulong Lag { get; init; }
    [Id(7)] public DateTimeOffset LastSuccess { get; init; }
    [Id(8)] public DateTimeOffset LastError { get; init; }
    /// <summary>
    /// The last failure's text (or the hold's, the filtered answer's, the wait for a token). As in Consul's
    /// <c>/v1/acl/replication</c> it stays after a later round succeeds: healthy is <see cref="LastSuccess"/> later than
    /// <see cref="LastError"/>, which is what <c>Degraded</c>, /health and the CLI's "(recovered ...)" go by.
    /// </summary>
    [Id(9)] public string LastErrorMessage { get; init; } = "";
    /// <summary>Entries applied by the last round (upserts + deletes).</summary>
    [Id(10)] public int LastRoundChanges { get; init; }
    /// <summary>
    /// The epoch of the primary's store that <see cref="ReplicatedIndex"/> counts in (a wiped and rebuilt primary has
    /// a new one); empty for what is replicated without epochs (<c>ca-roots</c>) or before the first sync.
    /// </summary>
    [Id(11)] public string PrimaryEpoch { get; init; } = "";
    /// <summary>Time since <see cref="LastSuccess"/> when the status was read; null if there was none yet.</summary>
    [Id(12)] public TimeSpan? LastSuccessAge { get; init; }
    /// <summary>
    /// A round from the primary held back for the operator (a replaced or reset primary, a snapshot deleting
    /// everything, a first sync over own entries); null when replication follows the primary. Applied by
    /// <c>meridian replication adopt</c> (<see cref="IDatacenterGrain.AdoptPrimaryStateAsync"/>).
    /// </summary>
    [Id(13)] public ReplicationHoldDto? Held { get; init; }
}

/// <summary>
/// A round held back instead of applied (see <c>Meridian.Core.Federation.ReplicationHoldRule</c>): why, the applied
/// position and the primary's, and what applying it would change here (counts, and up to 10 names of each).
/// </summary>
[GenerateSerializer, Alias("meridian.replication.Hold"), Immutable]
public sealed record ReplicationHoldDto
{
    /// <summary><c>first-sync</c>, <c>primary-replaced</c>, <c>index-reset</c> or <c>deletes-everything</c>.</summary>
    [Id(0)] public string Reason { get; init; } = "";
    /// <summary>One line: <c>held: primary replaced (epoch 0f3c9a1b→77e0d2c4)</c>.</summary>
    [Id(1)] public string Summary { get; init; } = "";
    [Id(2)] public ulong AppliedIndex { get; init; }
    [Id(3)] public string AppliedEpoch { get; init; } = "";
    [Id(4)] public ulong PrimaryIndex { get; init; }
    [Id(5)] public string PrimaryEpoch { get; init; } = "";
    /// <summary>Entries applying would delete here.</summary>
    [Id(6)] public int Deletes { get; init; }
    /// <summary>Entries applying would add here.</summary>
    [Id(7)] public int Adds { get; init; }
    /// <summary>Entries applying would change here.</summary>
    [Id(8)] public int Changes { get; init; }
    /// <summary>Up to 10 destinations (<c>namespace/name</c>) that would be deleted, sorted.</summary>
    [Id(9)] public ImmutableArray<string> DeleteNames { get; init; } = [];
    [Id(10)] public ImmutableArray<string> AddNames { get; init; } = [];
    [Id(11)] public ImmutableArray<string> ChangeNames { get; init; } = [];
    /// <summary>When this hold (same reason, same primary epoch) was first seen.</summary>
    [Id(12)] public DateTimeOffset Since { get; init; }
    /// <summary>The summary, the diff and how to apply it, in one line (the replicator's error message).</summary>
    [Id(13)] public string Message { get; init; } = "";
}

/// <summary>What one <see cref="IIntentionRegistryGrain.ApplyReplicatedAsync"/> did: entries applied, or the hold.</summary>
[GenerateSerializer, Alias("meridian.replication.ApplyResult"), Immutable]
public sealed record ReplicationApplyResultDto
{
    /// <summary>Entries applied (upserts + deletes); 0 when held.</summary>
    [Id(0)] public int Changes { get; init; }
    /// <summary>Non-null when nothing was applied because the round is held for the operator.</summary>
    [Id(1)] public ReplicationHoldDto? Held { get; init; }
    /// <summary>
    /// Deletes not applied because the primary's snapshot was filtered by the caller's token (an entry it cannot read
    /// is unseen, not deleted; Consul deletes it).
    /// </summary>
    [Id(2)] public int WithheldDeletes { get; init; }
}

/// <summary>Where a secondary's copy of one replicated type stands: the primary's position applied, and the hold.</summary>
[GenerateSerializer, Alias("meridian.replication.Progress"), Immutable]
public sealed record ReplicationProgressDto
{
    /// <summary>The primary's index applied here (0: never synced).</summary>
    [Id(0)] public ulong Index { get; init; }
    /// <summary>The primary's epoch <see cref="Index"/> counts in ("" = not known).</summary>
    [Id(1)] public string Epoch { get; init; } = "";
    /// <summary>The round held for the operator, or null.</summary>
    [Id(2)] public ReplicationHoldDto? Held { get; init; }
    /// <summary>
    /// The primary filtered the answer applied last (the replication token may not read everything): the replicator,
    /// restarted, asks for the whole state again and its status keeps naming the missing permission.
    /// </summary>
    [Id(3)] public bool Filtered { get; init; }
}

/// <summary>The answer of <c>meridian replication adopt</c>.</summary>
[GenerateSerializer, Alias("meridian.replication.AdoptResult"), Immutable]
public sealed record ReplicationAdoptResultDto
{
    /// <summary>True when a held state was applied.</summary>
    [Id(0)] public bool Adopted { get; init; }
    /// <summary>The hold that was adopted, or (when <see cref="Adopted"/> is false) the one still held, if any.</summary>
    [Id(1)] public ReplicationHoldDto? Hold { get; init; }
    /// <summary>Entries applied by the adoption.</summary>
    [Id(2)] public int Changes { get; init; }
    /// <summary>The primary's position now applied here.</summary>
    [Id(3)] public ulong ReplicatedIndex { get; init; }
    [Id(4)] public string PrimaryEpoch { get; init; } = "";
    /// <summary>What happened, in one line.</summary>
    [Id(5)] public string Message { get; init; } = "";
    /// <summary>The replicated type (<c>intentions</c>, …) this answer is about; empty for a summary of several.</summary>
    [Id(6)] public string ReplicationType { get; init; } = "";
    /// <summary>For a summary of several replicated types: each one's answer (empty when there is one type).</summary>
    [Id(7)] public ImmutableArray<ReplicationAdoptResultDto> Types { get; init; } = [];
}

/// <summary>
/// Pulls the primary's intentions into one secondary (key: the secondary's name). Kept alive by a reminder; each
/// round long-polls the primary's registry and applies what changed in one batch.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.replication.IIntentionReplicatorGrain")]
public interface IIntentionReplicatorGrain : IGrainWithStringKey
{
    /// <summary>Starts replication if it is not running (idempotent); called by every silo of a secondary at start.</summary>
    [Alias("EnsureRunning")]
    Task EnsureRunningAsync(CancellationToken cancellationToken = default);

    /// <summary>The replicator's status.</summary>
    [Alias("GetStatus"), AlwaysInterleave]
    Task<ReplicationStatusDto> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The replicator's status, for the Orleans dashboard's Grain Details, which calls a parameterless method named <c>GetState</c>
    /// (hence the name without <c>Async</c>). Read-only; never a private key.
    /// </summary>
    [Alias("GetState"), AlwaysInterleave]
    Task<ReplicationStatusDto> GetState();

    /// <summary>
    /// Applies the held round once (see <see cref="ReplicationStatusDto.Held"/>): re-reads the primary's state and
    /// applies it if it is still the store that was held (same epoch); a primary replaced again stays held. Nothing
    /// held: nothing happens (idempotent). Secondaries only; called through <see cref="IDatacenterGrain.AdoptPrimaryStateAsync"/>.
    /// </summary>
    [Alias("Adopt")]
    Task<ReplicationAdoptResultDto> AdoptAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Pulls the primary's ACL policies, roles and non-local tokens into one secondary (key: the secondary's name), with
/// the replication token (<c>Meridian:Acl:Tokens:Replication</c>); runs only where ACLs are enabled.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.replication.IAclReplicatorGrain")]
public interface IAclReplicatorGrain : IGrainWithStringKey
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

    /// <summary>
    /// Applies the held round once, as <see cref="IIntentionReplicatorGrain.AdoptAsync"/> does for intentions (a
    /// replaced, reset or emptied primary's ACLs, or a first sync over global ACLs of this datacenter's own); this
    /// datacenter's local tokens are never touched. ACLs off: nothing is held. Called through
    /// <see cref="IDatacenterGrain.AdoptPrimaryStateAsync"/>.
    /// </summary>
    [Alias("Adopt")]
    Task<ReplicationAdoptResultDto> AdoptAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Watches the primary's CA roots for one secondary (key: the secondary's name): on a new active root it has the
/// local CA re-key and obtain a new intermediate, then the certificates are re-issued.
/// </summary>
[GrainSurface(Surface.ClusterInternal)]
[Alias("meridian.replication.IRootWatcherGrain")]
public interface IRootWatcherGrain : IGrainWithStringKey
{
    /// <summary>Starts watching if it is not (idempotent).</summary>
    [Alias("EnsureRunning")]
    Task EnsureRunningAsync(CancellationToken cancellationToken = default);

    /// <summary>The watcher's status.</summary>
    [Alias("GetStatus"), AlwaysInterleave]
    Task<ReplicationStatusDto> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The watcher's status, for the Orleans dashboard's Grain Details, which calls a parameterless method named <c>GetState</c>
    /// (hence the name without <c>Async</c>). Read-only; never a private key.
    /// </summary>
    [Alias("GetState"), AlwaysInterleave]
    Task<ReplicationStatusDto> GetState();
}
