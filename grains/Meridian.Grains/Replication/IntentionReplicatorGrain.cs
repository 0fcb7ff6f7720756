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
/// Pulls the primary's intentions into this secondary; see <see cref="IIntentionReplicatorGrain"/>. One activation per
/// secondary (the grain key), kept alive by a reminder (it comes back after a silo restart) and driven by a timer whose
/// callback is one round: a long-poll on the primary's registry (wakes at once on a change) and one batched apply.
/// Failures back off 1 s, 2 s, … 120 s with jitter, and the next round is a full compare (Consul §2.4).
/// </summary>
public sealed partial class IntentionReplicatorGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    ILogger<IntentionReplicatorGrain> logger) : Grain, IIntentionReplicatorGrain, IRemindable
{
    private IGrainTimer? _timer;
    private ulong _lastRemoteIndex;
    private bool _resumed;
    private int _failures;
    private ReplicationStatusDto _status = new();

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _status = new ReplicationStatusDto
        {
            Enabled = !datacenter.IsPrimary, SourceDatacenter = datacenter.PrimaryDatacenter, ReplicationType = "intentions",
            LastSuccess = DateTimeOffset.MinValue, LastError = DateTimeOffset.MinValue,
        };
        if (!datacenter.IsPrimary) StartTimer();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task EnsureRunningAsync(CancellationToken cancellationToken = default)
    {
        if (datacenter.IsPrimary) return;
        // The reminder re-activates this grain (and so its loop) after a restart of the silo that hosted it.
        await this.RegisterOrUpdateReminder("keep-alive", TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        StartTimer();
    }

    /// <inheritdoc />
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        StartTimer();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<ReplicationStatusDto> GetStatusAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(_status with { Running = _timer is not null });

    private void StartTimer()
    {
        _timer ??= this.RegisterGrainTimer(RoundAsync, new GrainTimerCreationOptions
        {
            // The next round starts right after the previous one finishes (the long-poll paces the loop).
            DueTime = TimeSpan.Zero, Period = TimeSpan.FromMilliseconds(1), KeepAlive = true, Interleave = true,
        });
    }

    private async Task RoundAsync(CancellationToken ct)
    {
        var local = GrainFactory.GetGrain<IIntentionRegistryGrain>(datacenter.Datacenter);
        try
        {
            if (!_resumed)
            {
                _lastRemoteIndex = await local.GetReplicatedIndexAsync(ct);
                _resumed = true;
            }
            var primary = await link.GetPrimaryAsync(settings.ConnectWait, ct);
            // A primary killed mid-poll never answers: bound the long-poll (else it waits for the 10.5 min response timeout).
            using var timeout = new CancellationTokenSource(settings.PollWait + settings.ConnectWait + TimeSpan.FromSeconds(5), clock);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token, link.ConnectionLost);
            var changes = await primary.GetGrain<IIntentionRegistryGrain>(datacenter.PrimaryDatacenter)
                .WaitForChangesAsync(_lastRemoteIndex, settings.PollWait, deadline.Token);
            if (changes.Index < _lastRemoteIndex)
                LogIndexBackwards(logger, datacenter.PrimaryDatacenter, _lastRemoteIndex, changes.Index);
            var applied = changes.Index == _lastRemoteIndex && !changes.IsSnapshot
                ? 0
                : await local.ApplyReplicatedAsync(changes, settings.AdoptPrimaryState, ct);
            _lastRemoteIndex = changes.Index;
            _failures = 0;
            _status = _status with
            {
                ReplicatedIndex = changes.Index, PrimaryIndex = changes.Index, Lag = 0,
                LastSuccess = clock.GetUtcNow(), LastRoundChanges = applied,
            };
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _failures++;
            _lastRemoteIndex = 0; // next round compares everything (Consul resets lastRemoteIndex on failure)
            var message = e switch
            {
                MeridianValidationException v => string.Join("; ", v.Problems),
                OperationCanceledException => $"the primary datacenter {datacenter.PrimaryDatacenter} is unreachable (no answer to the long-poll)",
                _ => e.Message,
            };
            _status = _status with { LastError = clock.GetUtcNow(), LastErrorMessage = message };
            var delay = Backoff.Delay(_failures, Random.Shared.NextDouble());
            LogRoundFailed(logger, datacenter.PrimaryDatacenter, _failures, delay, message);
            try { await Task.Delay(delay, clock, ct); }
            catch (OperationCanceledException) { }
        }
    }

    [LoggerMessage(EventId = MeridianEventIds.ReplicationRoundFailed, Level = LogLevel.Warning,
        Message = "Intention replication from {Primary} failed (attempt {Attempt}), retrying in {Delay}: {Reason}")]
    private static partial void LogRoundFailed(ILogger logger, string primary, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationIndexBackwards, Level = LogLevel.Warning,
        Message = "Intention replication: the index of {Primary} moved backwards from {Last} to {Current}, forcing a full sync")]
    private static partial void LogIndexBackwards(ILogger logger, string primary, ulong last, ulong current);
}
