using Meridian.Core.Intentions;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Intentions;

/// <summary>Replication into a secondary (SPEC §2, §5.2-5.4) and forwarding of its writes to the primary.</summary>
public sealed partial class IntentionRegistryGrain
{
    private readonly ChangeSignal _replicated = new(stopping);

    /// <inheritdoc />
    public Task<ulong> GetReplicatedIndexAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(ReplicatedPosition.Index);

    /// <inheritdoc />
    public Task<IntentionPositionDto> GetReplicatedPositionAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(ReplicatedPosition);

    // One answer for both calls: a secondary's applied position, or the primary's own.
    private IntentionPositionDto ReplicatedPosition => datacenter.IsPrimary
        ? new IntentionPositionDto(_index.Index, state.State.Epoch)
        : new IntentionPositionDto(state.State.ReplicatedIndex, state.State.ReplicatedEpoch);

    /// <inheritdoc />
    public async Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        if (datacenter.IsPrimary) return _index.Index >= primaryIndex;
        var deadline = clock.GetUtcNow() + ChangeSignal.Clamp(maxWait);
        while (state.State.ReplicatedIndex < primaryIndex)
        {
            var left = deadline - clock.GetUtcNow();
            if (left <= TimeSpan.Zero || _replicated.Stopping) return false;
            await _replicated.WaitAsync(left, clock, cancellationToken);
        }
        return true;
    }

    /// <inheritdoc />
    public async Task<int> ApplyReplicatedAsync(IntentionChangesDto fromPrimary, bool adoptPrimaryState, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fromPrimary);
        if (datacenter.IsPrimary)
            throw new InvalidOperationException("the primary datacenter does not replicate intentions from anyone");

        // A delta lists what changed since an index of one epoch; on top of another epoch's data it would leave
        // entries of the old store behind. The replicator passes the applied epoch, so the primary answers a snapshot
        // instead; this guards against a poll that raced with another apply.
        var applied = state.State.ReplicatedEpoch;
        if (!fromPrimary.IsSnapshot && !string.IsNullOrEmpty(applied) && !string.IsNullOrEmpty(fromPrimary.Epoch) && fromPrimary.Epoch != applied)
            throw new InvalidOperationException(
                $"a delta from epoch {fromPrimary.Epoch} of {datacenter.PrimaryDatacenter} cannot apply on top of epoch {applied}: only a snapshot crosses epochs");

        List<ServiceIntentionsEntry> upserts;
        List<string> deletes;
        if (fromPrimary.IsSnapshot)
        {
            var remote = fromPrimary.Upserts.Select(e => e.ToCore()).ToList();
            // Index 0 as "last remote index": compare every pair by content (a snapshot carries no delta information,
            // and one from a new epoch shares no index history with what we hold).
            var diff = IntentionDiff.Compute([.. _index.Entries], remote, 0, fromPrimary.Index);
            // Only the very first sync: after it, what we hold came from the primary, and a primary rebuilt since (new
            // epoch) is still the authority.
            if (state.State.ReplicatedIndex == 0 && _index.EntryCount > 0 && !adoptPrimaryState
                && (diff.Deletes.Length > 0 || diff.Upserts.Length > 0))
            {
                // SPEC §5 item 2: joining a datacenter that holds its own intentions must not silently wipe them.
                LogRefused(logger, datacenter.Datacenter, diff.Deletes.Length, diff.Upserts.Length);
                throw new MeridianException(
                    $"refusing the first sync from {datacenter.PrimaryDatacenter}: {datacenter.Datacenter} holds {_index.EntryCount} intention entries of its own; " +
                    $"replication would delete {diff.Deletes.Length} ({Names(diff.Deletes)}) and write {diff.Upserts.Length} ({Names(diff.Upserts)}). " +
                    "Set Meridian:Replication:AdoptPrimaryState=true to accept the primary's state.");
            }
            upserts = [.. diff.Upserts];
            deletes = [.. diff.Deletes.Select(DestinationMatchIndex.KeyOf)];
        }
        else
        {
            upserts = [.. fromPrimary.Upserts.Select(e => e.ToCore())];
            deletes = [.. fromPrimary.DeletedDestinations.Where(k => _index.Find(k) is not null)];
        }

        if (upserts.Count == 0 && deletes.Count == 0)
        {
            if ((state.State.ReplicatedIndex, state.State.ReplicatedEpoch) != (fromPrimary.Index, fromPrimary.Epoch))
            {
                (state.State.ReplicatedIndex, state.State.ReplicatedEpoch) = (fromPrimary.Index, fromPrimary.Epoch);
                await state.WriteStateAsync(cancellationToken);
                _persistedReplicated = (fromPrimary.Index, fromPrimary.Epoch);
            }
            _replicated.Notify();
            return 0;
        }

        // One local index per round: the whole batch becomes visible at once (Consul applies entry by entry).
        var index = _index.Index + 1;
        var stamped = upserts
            .Select(e => e with { CreateIndex = _index.Find(DestinationMatchIndex.KeyOf(e))?.CreateIndex ?? index, ModifyIndex = index })
            .ToList();
        (state.State.ReplicatedIndex, state.State.ReplicatedEpoch) = (fromPrimary.Index, fromPrimary.Epoch);
        await CommitAsync(stamped, deletes, index, cancellationToken);
        _replicated.Notify();
        LogApplied(logger, datacenter.Datacenter, stamped.Count, deletes.Count, fromPrimary.Index);
        return stamped.Count + deletes.Count;
    }

    // Writes made in a secondary go to the primary; the answer carries the primary's index (SPEC §5 item 3).
    private async Task<IIntentionRegistryGrain> PrimaryRegistryAsync(CancellationToken ct)
    {
        var primary = await link.GetPrimaryAsync(TimeSpan.FromSeconds(10), ct);
        return primary.GetGrain<IIntentionRegistryGrain>(datacenter.PrimaryDatacenter);
    }

    private static string Names(IEnumerable<ServiceIntentionsEntry> entries)
    {
        var names = entries.Select(e => $"{e.Namespace}/{e.Name}").Take(5).ToList();
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }

    [LoggerMessage(EventId = MeridianEventIds.ReplicationApplied, Level = LogLevel.Debug,
        Message = "Replicated into {Datacenter}: {Upserts} upserts, {Deletes} deletes, primary index {PrimaryIndex}")]
    private static partial void LogApplied(ILogger logger, string datacenter, int upserts, int deletes, ulong primaryIndex);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationRefused, Level = LogLevel.Warning,
        Message = "Refusing the first intention sync into {Datacenter}: it would delete {Deletes} and write {Upserts} local entries")]
    private static partial void LogRefused(ILogger logger, string datacenter, int deletes, int upserts);
}
