using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Intentions;

/// <summary>
/// Keeps this silo's <see cref="IntentionCache"/> current by long-polling the datacenter's registry for changes
/// after the cache's index: a change arrives within milliseconds; an idle datacenter costs one call per 5 minutes.
/// The poll names the registry epoch the cache holds, so a registry rebuilt on a wiped store answers with a snapshot
/// even when its index is back at the cache's.
/// </summary>
public sealed class IntentionCacheSync(
    IGrainFactory grains, IntentionCache cache, DatacenterContext datacenter, TimeProvider clock, ILogger<IntentionCacheSync> logger)
    : SiloLoop(clock, logger)
{
    /// <summary>How long one poll waits for a change.</summary>
    public static readonly TimeSpan PollWait = TimeSpan.FromMinutes(5);

    /// <inheritdoc />
    protected override string Name => "intention-cache-sync";

    /// <inheritdoc />
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var registry = grains.GetGrain<IIntentionRegistryGrain>(datacenter.Datacenter);
        var after = cache.IsLoaded ? cache.Position : new IntentionPositionDto(0, "");
        // Cancelled here rather than in the grain (see LocalSignerSync); the poll itself ends at the stop (SiloStopping).
        var changes = await registry.WaitForChangesAsync(after, cache.IsLoaded ? PollWait : TimeSpan.Zero).WaitAsync(cancellationToken);
        cache.Apply(changes);
    }
}
