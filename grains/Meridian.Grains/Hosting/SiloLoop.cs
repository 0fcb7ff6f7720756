using Meridian.Core.Replication;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Hosting;

/// <summary>
/// A loop that runs in every silo while it is active (started at <c>ServiceLifecycleStage.Active</c>, so grains can
/// be called) and stops with the silo. Failures back off 1 s, 2 s, 4 s … up to 2 minutes with jitter (<see cref="Backoff"/>), then the loop
/// goes on; it never takes the silo down.
/// </summary>
public abstract class SiloLoop(TimeProvider clock, ILogger logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;

    /// <summary>The injected clock.</summary>
    protected TimeProvider Clock { get; } = clock;

    /// <summary>Name used in logs and the lifecycle.</summary>
    protected abstract string Name { get; }

    /// <summary>One round (for example one long-poll and its apply). Throw to back off.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle)
        => lifecycle.Subscribe(Name, ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private Task OnStartAsync(CancellationToken _)
    {
        _run = Task.Run(() => LoopAsync(_stop.Token));
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await Task.WhenAny(_run, Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken));
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(ct);
                failures = 0;
            }
            catch (Exception e) when (ct.IsCancellationRequested)
            {
                // The silo is stopping: a round cut short by it (cancelled, or a call into a stopping silo) is no failure.
                LoopLog.Stopped(logger, Name, e.GetType().Name);
                return;
            }
            catch (Exception e)
            {
                failures++;
                var delay = Backoff.Delay(failures, Random.Shared.NextDouble());
                LoopLog.RoundFailed(logger, Name, failures, delay, e);
                try { await Task.Delay(delay, Clock, ct); }
                catch (OperationCanceledException) { return; }
            }
        }
    }
}

internal static partial class LoopLog
{
    [LoggerMessage(EventId = MeridianEventIds.SiloLoopRoundFailed, Level = LogLevel.Warning, Message = "{Loop} round failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void RoundFailed(ILogger logger, string loop, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = MeridianEventIds.SiloLoopStopped, Level = LogLevel.Debug, Message = "{Loop} stopped with the silo ({Exception})")]
    public static partial void Stopped(ILogger logger, string loop, string exception);
}
