using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>
/// One replicator's health (SPEC §2.6, §5 item 5), with Consul's ACL-replication field names plus the primary's
/// index and the lag. Times are UTC; <see cref="DateTimeOffset.MinValue"/> means never.
/// </summary>
[GenerateSerializer, Alias("meridian.replication.Status"), Immutable]
public sealed record ReplicationStatusDto
{
    [Id(0)] public bool Enabled { get; init; }
    [Id(1)] public bool Running { get; init; }
    [Id(2)] public string SourceDatacenter { get; init; } = "";
    /// <summary>What is replicated: <c>intentions</c> or <c>ca-roots</c>.</summary>
    [Id(3)] public string ReplicationType { get; init; } = "";
    /// <summary>The primary's index this datacenter has applied.</summary>
    [Id(4)] public ulong ReplicatedIndex { get; init; }
    /// <summary>The primary's index in its last answer, recorded whether or not applying it succeeded.</summary>
    [Id(5)] public ulong PrimaryIndex { get; init; }
    /// <summary><see cref="PrimaryIndex"/> − <see cref="ReplicatedIndex"/>.</summary>
    [Id(6)] public ulong Lag { get; init; }
    [Id(7)] public DateTimeOffset LastSuccess { get; init; }
    [Id(8)] public DateTimeOffset LastError { get; init; }
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
