using Meridian.Core.Federation;
using Meridian.Core.Replication;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Replication;

/// <summary>
/// The replicator of one type into this secondary, over its <see cref="IReplicatedType{TChanges}"/>. Each round is a
/// long-poll on the primary ("changes after index N of epoch E") and one batched apply. A primary whose store was
/// rebuilt since (another epoch) answers with a snapshot, even at the same index, so a failed round need not fall back
/// to a full compare as Consul does (§2.4): the next round asks for a delta from the last applied position. A snapshot
/// from a replaced or reset primary is not followed blindly: the local store holds it (<c>ReplicationHoldRule</c>),
/// this grain then waits on the held position and reports the hold in its status until <see cref="AdoptAsync"/>
/// (<c>meridian replication adopt</c>) applies it once, or <c>AdoptPrimaryState</c> is set.
/// </summary>
public abstract class ReplicatorGrain<TChanges>(
    IReplicatedType<TChanges> type,
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger logger)
    : PrimaryFollowerGrain(datacenter, link, settings, clock, lifetime, logger)
{
    private readonly ILogger _logger = logger;
    private ReplicationPosition _applied = new(0, "");
    private bool _resumed;
    // The round held back for the operator (null: following the primary); waits on it, adopted by AdoptAsync.
    private ReplicationHoldDto? _held;
    // The last applied answer was filtered by the primary's ACLs: the next round asks for a snapshot (FilteredRound).
    // The local store persists it with the applied position, so a restarted replicator resumes it (and its status).
    private bool _lastFiltered;
    // One apply at a time: a round and an adoption (interleaved with the round's long-poll) must not both move the position.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <inheritdoc />
    protected override string ReplicationType => type.Name;

    /// <inheritdoc />
    protected override string FollowedEpoch => _applied.Epoch;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        if (Datacenter.IsPrimary) return;
        try
        {
            // Now rather than at the first round, which waits for the primary: a hold persisted before a restart is in
            // the status, and adoptable, even while the primary cannot be reached.
            await ResumeAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The local store did not answer: the first round resumes (and reports the failure) instead.
        }
    }

    /// <inheritdoc />
    protected override async Task<(ulong Index, int Changes)> FollowAsync(IGrainFactory primary, CancellationToken ct)
    {
        if (!_resumed) await ResumeAsync(ct);
        if (_held is { } held)
        {
            // NOTE: while a round is held, a poll from the applied position would be answered at once (another epoch,
            // or an index the primary no longer has, means an immediate snapshot): the loop would spin, pulling the
            // primary's whole state every millisecond. Instead it waits on the held position, as a normal poll would,
            // and reads the primary's state again only when that moved (or the adoption applied it meanwhile).
            var to = new ReplicationPosition(held.PrimaryIndex, held.PrimaryEpoch);
            var moved = type.PositionOf(await PollPrimaryAsync(t => type.FetchSinceAsync(primary, to, Settings.PollWait, t), Settings.PollWait, ct));
            if (_held is not null && moved == to)
            {
                RecordPrimaryIndex(moved.Index);
                return (_applied.Index, 0); // still held, nothing new: the status keeps the hold
            }
        }
        var last = _applied;
        TChanges changes;
        if (_lastFiltered)
        {
            // Wait for a change (bounded), then ask for the whole readable state: entries skipped before arrive even if
            // they never change, once the token may read them.
            var wait = FilteredRound.ResyncWait(Settings.PollWait);
            changes = await PollPrimaryAsync(t => type.FetchSinceAsync(primary, last, wait, t), wait, ct);
            if (!type.IsSnapshot(changes))
            {
                var from = FilteredRound.NextRequest(last, lastFiltered: true);
                changes = await PollPrimaryAsync(t => type.FetchSinceAsync(primary, from, TimeSpan.Zero, t), TimeSpan.Zero, ct);
            }
        }
        else
        {
            // Never synced (no primary epoch yet): answered at once, not parked in a long-poll, so the first contact is
            // recorded as a success (an empty primary has nothing to wake the poll; a refused first round would stay the
            // status's last word until the primary's first write).
            var wait = string.IsNullOrEmpty(last.Epoch) ? TimeSpan.Zero : Settings.PollWait;
            changes = await PollPrimaryAsync(t => type.FetchSinceAsync(primary, last, wait, t), wait, ct);
        }
        await _gate.WaitAsync(ct);
        try
        {
            // An adoption applied while this poll waited: its answer counts from a position no longer ours.
            if (_applied != last) return (_applied.Index, 0);
            return await ApplyAsync(changes, Settings.AdoptPrimaryState, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    // What the local store applied and persisted (index and primary epoch in one write) is where we resume, with the
    // round it held, if any.
    private async Task ResumeAsync(CancellationToken ct)
    {
        var progress = await type.ReadProgressAsync(GrainFactory, ct);
        // With AdoptPrimaryState the next round applies what was held (and so clears the stored hold): not waiting on it.
        (_applied, _held, _resumed) = (new(progress.Index, progress.Epoch), Settings.AdoptPrimaryState ? null : progress.Held, true);
        RecordReplicatedIndex(_applied.Index);
        RecordHold(_held);
        // A filtered answer applied before the restart: the status names the missing permission at once, not only once
        // the next round (a long-poll) answers; that round asks for the whole state again.
        _lastFiltered = progress.Filtered;
        if (_lastFiltered && _held is null) RecordResumedError(FilteredMessage());
    }

    /// <summary>Applies the held round once (see <c>IIntentionReplicatorGrain.AdoptAsync</c>).</summary>
    public async Task<ReplicationAdoptResultDto> AdoptAsync(CancellationToken cancellationToken = default)
    {
        if (Datacenter.IsPrimary)
            throw new MeridianException(
                $"{Datacenter.Datacenter} is the primary datacenter: it replicates from nobody, so there is nothing to adopt", MeridianErrorKind.Validation);
        // Not replicated here (ACLs off): nothing can be held, and the local store is not read.
        if (!Follows)
            return new ReplicationAdoptResultDto { Message = $"{type.Name} replication is not enabled in {Datacenter.Datacenter}: nothing is held" };
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_resumed) await ResumeAsync(cancellationToken);
            if (_held is not { } held)
                return new ReplicationAdoptResultDto
                {
                    ReplicatedIndex = _applied.Index, PrimaryEpoch = _applied.Epoch,
                    Message = $"nothing is held: {Datacenter.Datacenter} follows {Datacenter.PrimaryDatacenter} (replicated index {_applied.Index})",
                };
            // The primary's state now, at once: from the applied position a held primary answers a snapshot. Asked with
            // the replication token, not the operator's (whose token only had to pass operator:write here).
            using var token = UseReplicationToken();
            var primary = await Link.GetPrimaryAsync(Settings.ConnectWait, cancellationToken);
            var last = _applied;
            var changes = await PollPrimaryAsync(t => type.FetchSinceAsync(primary, last, TimeSpan.Zero, t), TimeSpan.Zero, cancellationToken);
            // The operator accepted the store that was held (its epoch); a primary replaced again is another decision.
            var covered = ReplicationHoldRule.Covers(new(held.PrimaryIndex, held.PrimaryEpoch), type.PositionOf(changes));
            var (index, applied) = await ApplyAsync(changes, Settings.AdoptPrimaryState || covered, cancellationToken);
            if (_held is { } still)
                return new ReplicationAdoptResultDto
                {
                    Hold = still, ReplicatedIndex = index, PrimaryEpoch = _applied.Epoch,
                    Message = $"not adopted: {Datacenter.PrimaryDatacenter} changed since it was held ({still.Summary}); " +
                        "check `meridian replication status` and adopt again",
                };
            RecordRoundSucceeded(index, applied);
            ReplicatorLog.AdoptedByOperator(_logger, type.Name, Datacenter.Datacenter, held.Summary, index, _applied.Epoch);
            return new ReplicationAdoptResultDto
            {
                Adopted = true, Hold = held, Changes = applied, ReplicatedIndex = index, PrimaryEpoch = _applied.Epoch,
                Message = $"adopted {Datacenter.PrimaryDatacenter}'s state ({held.Summary}): {applied} entries applied, replicated index {index}",
            };
        }
        finally
        {
            _gate.Release();
        }
    }

    // Applies one answer and moves the position, or records the hold (the position stays: nothing was applied).
    private async Task<(ulong Index, int Changes)> ApplyAsync(TChanges changes, bool adopt, CancellationToken ct)
    {
        var last = _applied;
        var at = type.PositionOf(changes);
        RecordPrimaryIndex(at.Index); // before the apply, which may be held or fail
        if (!string.IsNullOrEmpty(last.Epoch) && at.Epoch != last.Epoch)
            ReplicatorLog.EpochChanged(_logger, type.Name, Datacenter.PrimaryDatacenter, last.Epoch, last.Index, at.Epoch, at.Index);
        else if (at.Index < last.Index)
            ReplicatorLog.IndexBackwards(_logger, type.Name, Datacenter.PrimaryDatacenter, last.Index, at.Index);
        // Nothing changed at the same position: no write. A first answer with an epoch (after an upgrade) is applied
        // even when empty, so the epoch is persisted with the index; so is one that ends a hold, which clears it.
        var result = at == last && !type.IsSnapshot(changes) && _held is null
            ? new ReplicationApplyResultDto()
            : await type.ApplyAsync(GrainFactory, changes, adopt, ct);
        _held = result.Held;
        RecordHold(result.Held);
        if (result.Held is not null) return (last.Index, 0);
        _applied = at;
        _lastFiltered = type.IsFiltered(changes);
        RecordFiltered(_lastFiltered ? FilteredMessage() : null);
        return (at.Index, result.Changes);
    }

    private string FilteredMessage()
        => $"{Datacenter.PrimaryDatacenter} filtered its answer: the replication token lacks {type.FilteredPermission} " +
           "(Consul's replication policy grants service_prefix \"\" { intentions = \"read\" }); those entries are not replicated, " +
           "nothing is deleted here, and each round asks for the whole state until the token can read everything";

    /// <inheritdoc />
    protected override Task OnRoundFailedAsync(string reason, CancellationToken cancellationToken)
    {
        // Consul resets its remote index to 0 here (a full compare). With epochs the primary itself answers with a
        // snapshot when a delta would be wrong (rebuilt store, index ahead of its own or older than its change log),
        // so the next round resumes from the applied position, re-read from the local store: an apply whose answer
        // was lost may have been persisted all the same.
        _resumed = false;
        return Task.CompletedTask;
    }
}

/// <summary>The replicators' logs (a generic class cannot hold the generated logging methods).</summary>
internal static partial class ReplicatorLog
{
    [LoggerMessage(EventId = MeridianEventIds.ReplicationAdoptedByOperator, Level = LogLevel.Warning,
        Message = "Replication of {ReplicationType} into {Datacenter}: the operator adopted the held state ({Summary}), now at index {Index} of epoch {Epoch}")]
    public static partial void AdoptedByOperator(ILogger logger, string replicationType, string datacenter, string summary, ulong index, string epoch);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationIndexBackwards, Level = LogLevel.Warning,
        Message = "Replication of {ReplicationType}: the index of {Primary} moved backwards from {Last} to {Current}, forcing a full sync")]
    public static partial void IndexBackwards(ILogger logger, string replicationType, string primary, ulong last, ulong current);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationEpochChanged, Level = LogLevel.Warning,
        Message = "Replication of {ReplicationType}: {Primary} was rebuilt (epoch {OldEpoch} at index {OldIndex}, now epoch {NewEpoch} at index {NewIndex}): comparing its full state")]
    public static partial void EpochChanged(ILogger logger, string replicationType, string primary, string oldEpoch, ulong oldIndex, string newEpoch, ulong newIndex);
}
