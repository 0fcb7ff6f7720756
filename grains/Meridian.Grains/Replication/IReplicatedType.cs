using Meridian.Core.Federation;

namespace Meridian.Grains.Replication;

/// <summary>
/// One type a secondary replicates from the primary, as the generic round of <see cref="ReplicatorGrain{TChanges}"/>
/// sees it: where the local store stands, the primary's changes since a position, and the local apply. Consul has the
/// same split, one replication loop (agent/consul/replication.go) over one small adapter per replicated type
/// (agent/consul/acl_replication_types.go).
/// </summary>
/// <typeparam name="TChanges">The primary's answer to a poll: a delta or a snapshot, at a position.</typeparam>
public interface IReplicatedType<TChanges>
{
    /// <summary>What is replicated, for status and logs: <c>intentions</c>.</summary>
    string Name { get; }

    /// <summary>
    /// The primary's position the local store has applied and persisted (index 0, epoch "": never synced), and the
    /// round it holds for the operator, as persisted.
    /// </summary>
    Task<ReplicationProgressDto> ReadProgressAsync(IGrainFactory local, CancellationToken cancellationToken);

    /// <summary>Long-polls the primary for its changes after <paramref name="after"/>, waiting up to <paramref name="wait"/>.</summary>
    Task<TChanges> FetchSinceAsync(IGrainFactory primary, ReplicationPosition after, TimeSpan wait, CancellationToken cancellationToken);

    /// <summary>Where the primary stood when it answered.</summary>
    ReplicationPosition PositionOf(TChanges changes);

    /// <summary>Whether the answer is the primary's whole state rather than a delta.</summary>
    bool IsSnapshot(TChanges changes);

    /// <summary>Applies the answer locally, or holds it (see ReplicationHoldRule) unless <paramref name="adopt"/>.</summary>
    Task<ReplicationApplyResultDto> ApplyAsync(IGrainFactory local, TChanges changes, bool adopt, CancellationToken cancellationToken);

    /// <summary>Whether the primary left out entries the replication token may not read (see FilteredRound).</summary>
    bool IsFiltered(TChanges changes) => false;

    /// <summary>The permission a filtered answer says the replication token lacks, for status: <c>intention:read</c>.</summary>
    string FilteredPermission => "";
}
