using Meridian.Core.Federation;
using Meridian.Grains.Hosting;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Intentions;

/// <summary>Keeps this silo's <see cref="IntentionCache"/> current from the datacenter's intention registry (see <see cref="ReplicaCacheSync{TChanges}"/>).</summary>
public sealed class IntentionCacheSync(
    IGrainFactory grains, IntentionCache cache, DatacenterContext datacenter, TimeProvider clock, ILogger<IntentionCacheSync> logger)
    : ReplicaCacheSync<IntentionChangesDto>(cache, clock, logger)
{
    /// <inheritdoc />
    protected override string Name => "intention-cache-sync";

    /// <inheritdoc />
    protected override Task<IntentionChangesDto> FetchAsync(ReplicationPosition after, TimeSpan wait)
        => grains.GetGrain<IIntentionRegistryGrain>(datacenter.Datacenter).WaitForChangesAsync(new IntentionPositionDto(after.Index, after.Epoch), wait);
}
