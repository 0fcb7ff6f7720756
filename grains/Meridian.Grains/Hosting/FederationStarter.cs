using Meridian.Grains.Replication;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Hosting;

/// <summary>
/// In a secondary, makes sure every loop following the primary runs (<see cref="ReplicatedTypes.All"/>: each replicated
/// type and the root watch; their reminders then keep them alive across silo restarts). Runs once per silo start; a primary has nothing to start.
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
        foreach (var replicator in ReplicatedTypes.All) await replicator.EnsureRunning(grains, datacenter.Datacenter, cancellationToken);
        _started = true;
    }
}
