using Meridian.Core.Certificates;

namespace Meridian.Grains.Certificates;

/// <summary>How often the CA grain prunes rotated-out roots and expired intermediates (tests shorten it).</summary>
/// <param name="PruneInterval">Period of the prune timer; <see cref="RootRetention.PruneInterval"/> (1 hour) by default.</param>
public sealed record CaMaintenanceSettings(TimeSpan PruneInterval)
{
    /// <summary>Hourly, as Consul.</summary>
    public static CaMaintenanceSettings Default { get; } = new(RootRetention.PruneInterval);
}
