using Meridian.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Replication;

/// <summary>Replication settings of a secondary. Registered by the silo from <c>Meridian:Replication</c>.</summary>
/// <param name="PollWait">How long one long-poll on the primary waits for a change (Consul: 5 minutes).</param>
/// <param name="AdoptPrimaryState">Allow the first sync to replace intentions the secondary already holds (SPEC §5.2).</param>
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
        var last = _applied;
        var changes = await PollPrimaryAsync(t => registry.WaitForChangesAsync(last, Settings.PollWait, t), Settings.PollWait, ct);
        RecordPrimaryIndex(changes.Index); // before the apply, which may be refused (first sync) or fail
        if (!string.IsNullOrEmpty(last.Epoch) && changes.Epoch != last.Epoch)
            LogEpochChanged(_logger, Datacenter.PrimaryDatacenter, last.Epoch, last.Index, changes.Epoch, changes.Index);
        else if (changes.Index < last.Index)
            LogIndexBackwards(_logger, Datacenter.PrimaryDatacenter, last.Index, changes.Index);
        // Nothing changed at the same position: no write. A first answer with an epoch (after an upgrade) is applied
        // even when empty, so the epoch is persisted with the index.
        var applied = changes.Index == last.Index && changes.Epoch == last.Epoch && !changes.IsSnapshot
            ? 0
            : await local.ApplyReplicatedAsync(changes, Settings.AdoptPrimaryState, ct);
        _applied = new IntentionPositionDto(changes.Index, changes.Epoch);
        return (changes.Index, applied);
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

    [LoggerMessage(EventId = MeridianEventIds.ReplicationIndexBackwards, Level = LogLevel.Warning,
        Message = "Intention replication: the index of {Primary} moved backwards from {Last} to {Current}, forcing a full sync")]
    private static partial void LogIndexBackwards(ILogger logger, string primary, ulong last, ulong current);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationEpochChanged, Level = LogLevel.Warning,
        Message = "Intention replication: {Primary} was rebuilt (epoch {OldEpoch} at index {OldIndex}, now epoch {NewEpoch} at index {NewIndex}), full sync")]
    private static partial void LogEpochChanged(ILogger logger, string primary, string oldEpoch, ulong oldIndex, string newEpoch, ulong newIndex);
}
