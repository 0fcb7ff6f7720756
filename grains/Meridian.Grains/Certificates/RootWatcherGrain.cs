using Meridian.Grains.Hosting;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>
/// Watches the primary's roots for one secondary; see <see cref="IRootWatcherGrain"/>. Each round long-polls the
/// primary's CA, checks the primary still is the primary (a second primary is a role mismatch, never a silent second
/// trust domain), hands the roots to the local CA (re-key + new intermediate on a new active root, half-life renewal)
/// and reports how far this datacenter's certificates have moved to the active root.
/// </summary>
public sealed partial class RootWatcherGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    ILogger<RootWatcherGrain> logger) : Grain, IRootWatcherGrain, IRemindable
{
    private IGrainTimer? _timer;
    private ulong _lastIndex;
    private int _failures;
    private ReplicationStatusDto _status = new();

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _status = new ReplicationStatusDto
        {
            Enabled = !datacenter.IsPrimary, SourceDatacenter = datacenter.PrimaryDatacenter, ReplicationType = "ca-roots",
            LastSuccess = DateTimeOffset.MinValue, LastError = DateTimeOffset.MinValue,
        };
        if (!datacenter.IsPrimary) StartTimer();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task EnsureRunningAsync(CancellationToken cancellationToken = default)
    {
        if (datacenter.IsPrimary) return;
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
            DueTime = TimeSpan.Zero, Period = TimeSpan.FromMilliseconds(1), KeepAlive = true, Interleave = true,
        });
    }

    private async Task RoundAsync(CancellationToken ct)
    {
        var localCa = GrainFactory.GetGrain<ICertificateAuthorityGrain>(datacenter.Datacenter);
        try
        {
            var primary = await link.GetPrimaryAsync(settings.ConnectWait, ct);
            if (_lastIndex == 0)
            {
                // SPEC §5 item 1: the datacenter we were told is primary must agree that it is.
                var view = await primary.GetGrain<IDatacenterGrain>(datacenter.PrimaryDatacenter).GetStatusAsync(ct);
                if (view.Role != "primary" || view.PrimaryDatacenter != datacenter.PrimaryDatacenter)
                    throw new MeridianException(
                        $"role mismatch: {datacenter.Datacenter} is configured with primary {datacenter.PrimaryDatacenter}, but {view.Datacenter} says its primary is {view.PrimaryDatacenter}");
            }
            var primaryCa = primary.GetGrain<ICertificateAuthorityGrain>(datacenter.PrimaryDatacenter);
            // Renewal checks need a round at least hourly even when the primary is idle.
            // A primary killed mid-poll never answers: bound the long-poll (else it waits for the 10.5 min response timeout).
            var pollWait = Min(settings.PollWait, TimeSpan.FromHours(1));
            using var timeout = new CancellationTokenSource(pollWait + settings.ConnectWait + TimeSpan.FromSeconds(5), clock);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token, link.ConnectionLost);
            var roots = await primaryCa.WaitForRootsChangeAsync(_lastIndex, pollWait, deadline.Token);
            if (roots.Index < _lastIndex) _lastIndex = 0;
            var status = await localCa.SyncWithPrimaryAsync(roots, ct);
            _lastIndex = roots.Index;
            var progress = await GrainFactory.GetGrain<ICertificateInventoryGrain>(datacenter.Datacenter).GetProgressAsync(ct);
            await primaryCa.ReportRotationProgressAsync(progress with { Datacenter = datacenter.Datacenter }, ct);
            _failures = 0;
            _status = _status with
            {
                ReplicatedIndex = roots.Index, PrimaryIndex = roots.Index, Lag = 0, LastSuccess = clock.GetUtcNow(),
                LastRoundChanges = status.ActiveRootID == roots.ActiveRootID ? 0 : 1,
            };
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _failures++;
            _lastIndex = 0;
            var message = e is OperationCanceledException
                ? $"the primary datacenter {datacenter.PrimaryDatacenter} is unreachable (no answer to the long-poll)"
                : e.Message;
            _status = _status with { LastError = clock.GetUtcNow(), LastErrorMessage = message };
            await localCa.ReportDegradedAsync(message, ct);
            var delay = Backoff.Delay(_failures, Random.Shared.NextDouble());
            LogFailed(logger, datacenter.PrimaryDatacenter, _failures, delay, e.Message);
            try { await Task.Delay(delay, clock, ct); }
            catch (OperationCanceledException) { }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    [LoggerMessage(EventId = MeridianEventIds.RootWatchFailed, Level = LogLevel.Warning,
        Message = "CA root replication from {Primary} failed (attempt {Attempt}), will retry in {Delay}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string primary, int attempt, TimeSpan delay, string reason);
}
