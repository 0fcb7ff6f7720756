using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Acl;

/// <summary>
/// Keeps this silo's <see cref="AclAuthorizerSource"/> honest: long-polls the datacenter's ACL store index and drops
/// the cached resolutions older than it, so a changed token, role or policy applies at once on every silo (Consul
/// waits out token_ttl instead). Idle when ACLs are off.
/// </summary>
public sealed class AclCacheSync(
    IGrainFactory grains, AclAuthorizerSource source, AclSettings settings, DatacenterContext datacenter, TimeProvider clock, ILogger<AclCacheSync> logger)
    : SiloLoop(clock, logger)
{
    /// <summary>How long one poll waits for a change.</summary>
    public static readonly TimeSpan PollWait = TimeSpan.FromMinutes(5);

    /// <inheritdoc />
    protected override string Name => "acl-cache-sync";

    /// <inheritdoc />
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        if (!settings.Enabled)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, Clock, cancellationToken);
            return;
        }
        var store = grains.GetGrain<IAclStoreGrain>(datacenter.Datacenter);
        // Cancelled here rather than in the grain (see LocalSignerSync); the poll itself ends at the stop (SiloStopping).
        var index = await store.WaitForIndexAsync(source.Index, source.Index == 0 ? TimeSpan.Zero : PollWait).WaitAsync(cancellationToken);
        source.Invalidate(index);
    }
}
