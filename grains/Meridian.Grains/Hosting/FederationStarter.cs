using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Hosting;

/// <summary>
/// In a secondary, makes sure the intention replicator and the root watcher run (their reminders then keep them
/// alive across silo restarts). Runs once per silo start; a primary has nothing to start.
/// </summary>
public sealed class FederationStarter(IGrainFactory grains, DatacenterContext datacenter, TimeProvider clock, ILogger<FederationStarter> logger)
    : SiloLoop(clock, logger)
{
    private bool _started;

    /// <inheritdoc />
    protected override string Name => "federation-starter";

    /// <inheritdoc />
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (_started || datacenter.IsPrimary)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, Clock, cancellationToken);
            return;
        }
        await grains.GetGrain<IIntentionReplicatorGrain>(datacenter.Datacenter).EnsureRunningAsync(cancellationToken);
        await grains.GetGrain<IRootWatcherGrain>(datacenter.Datacenter).EnsureRunningAsync(cancellationToken);
        _started = true;
    }
}
