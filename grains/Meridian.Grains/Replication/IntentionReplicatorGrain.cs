using Meridian.Grains.Hosting;
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
/// long-poll on the primary's registry ("changes after N") and one batched apply; after a failure the next round is a
/// full compare (Consul §2.4).
/// </summary>
public sealed partial class IntentionReplicatorGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    ILogger<IntentionReplicatorGrain> logger)
    : PrimaryFollowerGrain(datacenter, link, settings, clock, logger), IIntentionReplicatorGrain
{
    private readonly ILogger _logger = logger;
    private ulong _lastRemoteIndex;
    private bool _resumed;

    /// <inheritdoc />
    protected override string ReplicationType => "intentions";

    /// <inheritdoc />
    protected override async Task<(ulong Index, int Changes)> FollowAsync(IGrainFactory primary, CancellationToken ct)
    {
        var local = GrainFactory.GetGrain<IIntentionRegistryGrain>(Datacenter.Datacenter);
        if (!_resumed)
        {
            _lastRemoteIndex = await local.GetReplicatedIndexAsync(ct);
            _resumed = true;
        }
        var registry = primary.GetGrain<IIntentionRegistryGrain>(Datacenter.PrimaryDatacenter);
        var changes = await PollPrimaryAsync(t => registry.WaitForChangesAsync(_lastRemoteIndex, Settings.PollWait, t), Settings.PollWait, ct);
        if (changes.Index < _lastRemoteIndex)
            LogIndexBackwards(_logger, Datacenter.PrimaryDatacenter, _lastRemoteIndex, changes.Index);
        var applied = changes.Index == _lastRemoteIndex && !changes.IsSnapshot
            ? 0
            : await local.ApplyReplicatedAsync(changes, Settings.AdoptPrimaryState, ct);
        _lastRemoteIndex = changes.Index;
        return (changes.Index, applied);
    }

    /// <inheritdoc />
    protected override Task OnRoundFailedAsync(string reason, CancellationToken cancellationToken)
    {
        _lastRemoteIndex = 0; // next round compares everything (Consul resets lastRemoteIndex on failure)
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = MeridianEventIds.ReplicationIndexBackwards, Level = LogLevel.Warning,
        Message = "Intention replication: the index of {Primary} moved backwards from {Last} to {Current}, forcing a full sync")]
    private static partial void LogIndexBackwards(ILogger logger, string primary, ulong last, ulong current);
}
