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
/// Pulls the primary's intentions into this secondary; see <see cref="IIntentionReplicatorGrain"/>: the generic
/// <see cref="ReplicatorGrain{TChanges}"/> over <see cref="IntentionReplication"/>.
/// </summary>
public sealed class IntentionReplicatorGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<IntentionReplicatorGrain> logger)
    : ReplicatorGrain<IntentionChangesDto>(new IntentionReplication(datacenter), datacenter, link, settings, clock, lifetime, logger),
        IIntentionReplicatorGrain;
