using Meridian.Core.Federation;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Replication;

/// <summary>Replication settings of a secondary. Registered by the silo from <c>Meridian:Replication</c>.</summary>
/// <param name="PollWait">How long one long-poll on the primary waits for a change (Consul: 5 minutes).</param>
/// <param name="AdoptPrimaryState">
/// Follow the primary without asking: apply the first sync over intentions the secondary already holds, and a
/// replaced or reset primary's state (otherwise held until <c>meridian replication adopt</c>; see ReplicationHoldRule).
/// </param>
/// <param name="ConnectWait">How long a round waits for the link to the primary before counting as failed.</param>
public sealed record ReplicationSettings(TimeSpan PollWait, bool AdoptPrimaryState, TimeSpan ConnectWait)
{
    /// <summary>Defaults: 5-minute polls, refuse to overwrite local data, 10 s to connect.</summary>
    public static ReplicationSettings Default { get; } = new(TimeSpan.FromMinutes(5), false, TimeSpan.FromSeconds(10));
}

/// <summary>
/// Pulls the primary's intentions into this secondary; see <see cref="IIntentionReplicatorGrain"/>. Each round is a
/// long-poll on the primary's registry ("changes after index N of epoch E") and one batched apply. A primary whose
/// store was rebuilt since (another epoch) answers with a snapshot, even at the same index, so a failed round need not
/// fall back to a full compare as Consul does (§2.4): the next round asks for a delta from the last applied position.
/// A snapshot from a replaced or reset primary is not followed blindly: the local registry holds it
/// (<c>ReplicationHoldRule</c>), this grain then waits on the held position and reports the hold in its status until
/// <see cref="AdoptAsync"/> (<c>meridian replication adopt</c>) applies it once, or <c>AdoptPrimaryState</c> is set.
/// </summary>
public sealed partial class IntentionReplicatorGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<IntentionReplicatorGrain> logger)
    : PrimaryFollowerGrain(datacenter, link, settings, clock, lifetime, logger), IIntentionReplicatorGrain
{
    private readonly ILogger _logger = logger;
    private IntentionPositionDto _applied = new(0, "");
    private bool _resumed;
    // The round held back for the operator (null: following the primary); waits on it, adopted by AdoptAsync.
    private ReplicationHoldDto? _held;
    // One apply at a time: a round and an adoption (interleaved with the round's long-poll) must not both move the position.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <inheritdoc />
    protected override string ReplicationType => "intentions";

    /// <inheritdoc />
    protected override string FollowedEpoch => _applied.Epoch;

    /// <inheritdoc />
    protected override async Task<(ulong Index, int Changes)> FollowAsync(IGrainFactory primary, CancellationToken ct)
    {
        var local = GrainFactory.GetGrain<IIntentionRegistryGrain>(Datacenter.Datacenter);
        if (!_resumed)
        {
            // What the local registry applied and persisted (index and primary epoch in one write) is where we resume.
            _applied = await local.GetReplicatedPositionAsync(ct);
            _resumed = true;
            RecordReplicatedIndex(_applied.Index);
        }
        var registry = primary.GetGrain<IIntentionRegistryGrain>(Datacenter.PrimaryDatacenter);
        if (_held is { } held)
        {
            // NOTE: while a round is held, a poll from the applied position would be answered at once (another epoch,
            // or an index the primary no longer has, means an immediate snapshot): the loop would spin, pulling the
            // primary's whole state every millisecond. Instead it waits on the held position, as a normal poll would,
            // and reads the primary's state again only when that moved (or the adoption applied it meanwhile).
            var to = new IntentionPositionDto(held.PrimaryIndex, held.PrimaryEpoch);
            var moved = await PollPrimaryAsync(t => registry.WaitForChangesAsync(to, Settings.PollWait, t), Settings.PollWait, ct);
            if (_held is not null && moved.Index == to.Index && moved.Epoch == to.Epoch)
            {
                RecordPrimaryIndex(moved.Index);
                return (_applied.Index, 0); // still held, nothing new: the status keeps the hold
            }
        }
        var last = _applied;
        var changes = await PollPrimaryAsync(t => registry.WaitForChangesAsync(last, Settings.PollWait, t), Settings.PollWait, ct);
        await _gate.WaitAsync(ct);
        try
        {
            // An adoption applied while this poll waited: its answer counts from a position no longer ours.
            if (_applied != last) return (_applied.Index, 0);
            return await ApplyAsync(local, changes, Settings.AdoptPrimaryState, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async Task<ReplicationAdoptResultDto> AdoptAsync(CancellationToken cancellationToken = default)
    {
        if (Datacenter.IsPrimary)
            throw new MeridianException(
                $"{Datacenter.Datacenter} is the primary datacenter: it replicates from nobody, so there is nothing to adopt", MeridianErrorKind.Validation);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_held is not { } held)
                return new ReplicationAdoptResultDto
                {
                    ReplicatedIndex = _applied.Index, PrimaryEpoch = _applied.Epoch,
                    Message = $"nothing is held: {Datacenter.Datacenter} follows {Datacenter.PrimaryDatacenter} (replicated index {_applied.Index})",
                };
            // The primary's state now, at once: from the applied position a held primary answers a snapshot.
            var primary = await Link.GetPrimaryAsync(Settings.ConnectWait, cancellationToken);
            var registry = primary.GetGrain<IIntentionRegistryGrain>(Datacenter.PrimaryDatacenter);
            var last = _applied;
            var changes = await PollPrimaryAsync(t => registry.WaitForChangesAsync(last, TimeSpan.Zero, t), TimeSpan.Zero, cancellationToken);
            // The operator accepted the store that was held (its epoch); a primary replaced again is another decision.
            var covered = ReplicationHoldRule.Covers(new(held.PrimaryIndex, held.PrimaryEpoch), new(changes.Index, changes.Epoch));
            var local = GrainFactory.GetGrain<IIntentionRegistryGrain>(Datacenter.Datacenter);
            var (index, applied) = await ApplyAsync(local, changes, Settings.AdoptPrimaryState || covered, cancellationToken);
            if (_held is { } still)
                return new ReplicationAdoptResultDto
                {
                    Hold = still, ReplicatedIndex = index, PrimaryEpoch = _applied.Epoch,
                    Message = $"not adopted: {Datacenter.PrimaryDatacenter} changed since it was held ({still.Summary}); " +
                        "check `meridian replication status` and adopt again",
                };
            RecordRoundSucceeded(index, applied);
            LogAdoptedByOperator(_logger, Datacenter.Datacenter, held.Summary, index, _applied.Epoch);
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
    private async Task<(ulong Index, int Changes)> ApplyAsync(IIntentionRegistryGrain local, IntentionChangesDto changes, bool adopt, CancellationToken ct)
    {
        var last = _applied;
        RecordPrimaryIndex(changes.Index); // before the apply, which may be held or fail
        if (!string.IsNullOrEmpty(last.Epoch) && changes.Epoch != last.Epoch)
            LogEpochChanged(_logger, Datacenter.PrimaryDatacenter, last.Epoch, last.Index, changes.Epoch, changes.Index);
        else if (changes.Index < last.Index)
            LogIndexBackwards(_logger, Datacenter.PrimaryDatacenter, last.Index, changes.Index);
        // Nothing changed at the same position: no write. A first answer with an epoch (after an upgrade) is applied
        // even when empty, so the epoch is persisted with the index.
        var result = changes.Index == last.Index && changes.Epoch == last.Epoch && !changes.IsSnapshot
            ? new ReplicationApplyResultDto()
            : await local.ApplyReplicatedAsync(changes, adopt, ct);
        _held = result.Held;
        RecordHold(result.Held);
        if (result.Held is not null) return (last.Index, 0);
        _applied = new IntentionPositionDto(changes.Index, changes.Epoch);
        return (changes.Index, result.Changes);
    }

    /// <inheritdoc />
    protected override Task OnRoundFailedAsync(string reason, CancellationToken cancellationToken)
    {
        // Consul resets its remote index to 0 here (a full compare). With epochs the primary itself answers with a
        // snapshot when a delta would be wrong (rebuilt store, index ahead of its own or older than its change log),
        // so the next round resumes from the applied position, re-read from the local registry: an apply whose answer
        // was lost may have been persisted all the same.
        _resumed = false;
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = MeridianEventIds.ReplicationAdoptedByOperator, Level = LogLevel.Warning,
        Message = "Intention replication into {Datacenter}: the operator adopted the held state ({Summary}), now at index {Index} of epoch {Epoch}")]
    private static partial void LogAdoptedByOperator(ILogger logger, string datacenter, string summary, ulong index, string epoch);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationIndexBackwards, Level = LogLevel.Warning,
        Message = "Intention replication: the index of {Primary} moved backwards from {Last} to {Current}, forcing a full sync")]
    private static partial void LogIndexBackwards(ILogger logger, string primary, ulong last, ulong current);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationEpochChanged, Level = LogLevel.Warning,
        Message = "Intention replication: {Primary} was rebuilt (epoch {OldEpoch} at index {OldIndex}, now epoch {NewEpoch} at index {NewIndex}): comparing its full state")]
    private static partial void LogEpochChanged(ILogger logger, string primary, string oldEpoch, ulong oldIndex, string newEpoch, ulong newIndex);
}
