using Meridian.Core.Federation;
using Meridian.Core.Intentions;
using Meridian.Grains.Hosting;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Intentions;

/// <summary>Replication into a secondary (SPEC §2, §5.2-5.4) and forwarding of its writes to the primary.</summary>
public sealed partial class IntentionRegistryGrain
{
    private readonly ChangeSignal _replicated = new(stopping);
    // The round held back last (in memory: each round re-reads the primary and decides again); keeps its Since.
    private ReplicationHold? _hold;
    // The replicated position whose round is visible in _index. NOTE: state.State.ReplicatedIndex is set before the
    // round's writes are awaited (it is persisted with them), and WaitForReplicatedAsync and ListAsync interleave with
    // that turn: answering from the state would let a caller see "applied" and then read the index without the write.
    private (ulong Index, string Epoch) _applied;

    /// <inheritdoc />
    public Task<ulong> GetReplicatedIndexAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(ReplicatedPosition.Index);

    /// <inheritdoc />
    public Task<IntentionPositionDto> GetReplicatedPositionAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(ReplicatedPosition);

    // One answer for both calls: a secondary's applied position, or the primary's own.
    private IntentionPositionDto ReplicatedPosition => datacenter.IsPrimary
        ? new IntentionPositionDto(_index.Index, state.State.Epoch)
        : new IntentionPositionDto(_applied.Index, _applied.Epoch);

    /// <inheritdoc />
    public async Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        if (datacenter.IsPrimary) return _index.Index >= primaryIndex;
        var deadline = clock.GetUtcNow() + ChangeSignal.Clamp(maxWait);
        while (_applied.Index < primaryIndex)
        {
            var left = deadline - clock.GetUtcNow();
            if (left <= TimeSpan.Zero || _replicated.Stopping) return false;
            await _replicated.WaitAsync(left, clock, cancellationToken);
        }
        return true;
    }

    /// <inheritdoc />
    public async Task<ReplicationApplyResultDto> ApplyReplicatedAsync(IntentionChangesDto fromPrimary, bool adoptPrimaryState, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fromPrimary);
        if (datacenter.IsPrimary)
            throw new InvalidOperationException("the primary datacenter does not replicate intentions from anyone");

        // A delta lists what changed since an index of one epoch; on top of another epoch's data it would leave
        // entries of the old store behind. The replicator passes the applied epoch, so the primary answers a snapshot
        // instead; this guards against a poll that raced with another apply.
        var applied = _applied.Epoch;
        if (!fromPrimary.IsSnapshot && !string.IsNullOrEmpty(applied) && !string.IsNullOrEmpty(fromPrimary.Epoch) && fromPrimary.Epoch != applied)
            throw new InvalidOperationException(
                $"a delta from epoch {fromPrimary.Epoch} of {datacenter.PrimaryDatacenter} cannot apply on top of epoch {applied}: only a snapshot crosses epochs");

        List<ServiceIntentionsEntry> upserts;
        List<ServiceIntentionsEntry> deleted;
        if (fromPrimary.IsSnapshot)
        {
            var remote = fromPrimary.Upserts.Select(e => e.ToCore()).ToList();
            // Index 0 as "last remote index": compare every pair by content (a snapshot carries no delta information,
            // and one from a new epoch shares no index history with what we hold).
            var diff = IntentionDiff.Compute([.. _index.Entries], remote, 0, fromPrimary.Index);
            upserts = [.. diff.Upserts];
            // A snapshot the primary filtered by the replication token's intention:read lists only what the token may
            // read: what it does not list is not known to be gone (Consul's replication diff deletes it anyway).
            deleted = fromPrimary.FilteredByAcls ? [] : [.. diff.Deletes];
        }
        else
        {
            upserts = [.. fromPrimary.Upserts.Select(e => e.ToCore())];
            deleted = [.. fromPrimary.DeletedDestinations.Select(k => _index.Find(k)).OfType<ServiceIntentionsEntry>()];
        }

        // NOTE: the primary is the authority, but not a blind one. Consul makes every secondary equal to whatever its
        // primary answers, so a primary rebuilt empty wipes every secondary's intentions (and ACLs) within one round,
        // when the secondaries' copy is the last one left. A round from another epoch, a reset index, a snapshot that
        // deletes everything or a first sync over our own entries is held, unchanged here, until an operator adopts it
        // (ReplicationHoldRule has the cases and Consul's references). A normal delete in the primary is a delta of the
        // same epoch and flows as before.
        var round = new ReplicationRound(
            new(_applied.Index, _applied.Epoch), new(fromPrimary.Index, fromPrimary.Epoch),
            fromPrimary.IsSnapshot, _index.EntryCount,
            ReplicationDiff.Of(upserts, deleted, e => _index.Find(DestinationMatchIndex.KeyOf(e)), IntentionDiff.ContentHash, NameOf));
        var wouldHold = ReplicationHoldRule.Decide(round, adopt: false, _hold, clock.GetUtcNow());
        if (wouldHold is not null && !adoptPrimaryState)
        {
            if (wouldHold.Since != _hold?.Since)
                LogHeld(logger, datacenter.Datacenter, datacenter.PrimaryDatacenter, wouldHold.Summary, round.Diff.Deletes, round.Diff.Adds, round.Diff.Changes);
            _hold = wouldHold;
            return new ReplicationApplyResultDto { Held = wouldHold.ToDto(datacenter.Datacenter) };
        }
        _hold = null;
        if (wouldHold is not null)
            LogAdopted(logger, datacenter.Datacenter, wouldHold.Summary, round.Diff.Deletes, round.Diff.Adds, round.Diff.Changes);
        var deletes = deleted.Select(DestinationMatchIndex.KeyOf).ToList();

        if (upserts.Count == 0 && deletes.Count == 0)
        {
            if ((state.State.ReplicatedIndex, state.State.ReplicatedEpoch) != (fromPrimary.Index, fromPrimary.Epoch))
            {
                (state.State.ReplicatedIndex, state.State.ReplicatedEpoch) = (fromPrimary.Index, fromPrimary.Epoch);
                await state.WriteStateAsync(cancellationToken);
                _persistedReplicated = (fromPrimary.Index, fromPrimary.Epoch);
            }
            _applied = (fromPrimary.Index, fromPrimary.Epoch);
            _replicated.Notify();
            return new ReplicationApplyResultDto();
        }

        // One local index per round: the whole batch becomes visible at once (Consul applies entry by entry).
        var index = _index.Index + 1;
        var stamped = upserts
            .Select(e => e with { CreateIndex = _index.Find(DestinationMatchIndex.KeyOf(e))?.CreateIndex ?? index, ModifyIndex = index })
            .ToList();
        (state.State.ReplicatedIndex, state.State.ReplicatedEpoch) = (fromPrimary.Index, fromPrimary.Epoch);
        await CommitAsync(stamped, deletes, index, cancellationToken);
        _applied = (fromPrimary.Index, fromPrimary.Epoch);
        _replicated.Notify();
        LogApplied(logger, datacenter.Datacenter, stamped.Count, deletes.Count, fromPrimary.Index);
        return new ReplicationApplyResultDto { Changes = stamped.Count + deletes.Count };
    }

    // Writes made in a secondary go to the primary; the answer carries the primary's index (SPEC §5 item 3).
    private async Task<IIntentionRegistryGrain> PrimaryRegistryAsync(CancellationToken ct)
    {
        var primary = await link.GetPrimaryAsync(TimeSpan.FromSeconds(10), ct);
        return primary.GetGrain<IIntentionRegistryGrain>(datacenter.PrimaryDatacenter);
    }

    private static string NameOf(ServiceIntentionsEntry e) => $"{e.Namespace}/{e.Name}";

    [LoggerMessage(EventId = MeridianEventIds.ReplicationApplied, Level = LogLevel.Debug,
        Message = "Replicated into {Datacenter}: {Upserts} upserts, {Deletes} deletes, primary index {PrimaryIndex}")]
    private static partial void LogApplied(ILogger logger, string datacenter, int upserts, int deletes, ulong primaryIndex);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationHeld, Level = LogLevel.Warning,
        Message = "Holding intention replication into {Datacenter} from {Primary} for the operator ({Summary}): it would delete {Deletes}, add {Adds} and change {Changes} entries")]
    private static partial void LogHeld(ILogger logger, string datacenter, string primary, string summary, int deletes, int adds, int changes);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationAdopted, Level = LogLevel.Information,
        Message = "Adopted the primary's intentions in {Datacenter} ({Summary}): deleting {Deletes}, adding {Adds} and changing {Changes} entries")]
    private static partial void LogAdopted(ILogger logger, string datacenter, string summary, int deletes, int adds, int changes);
}
