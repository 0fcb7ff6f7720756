namespace Meridian.Core.Certificates;

/// <summary>Why a rotated-out root may or may not be pruned.</summary>
public enum RootPruneReason
{
    /// <summary>Retention has elapsed and every secondary has moved to the new root.</summary>
    Prunable,
    /// <summary>The root is active (it was never rotated out).</summary>
    NotRotatedOut,
    /// <summary>Less than 2 × the leaf TTL has passed since the root was rotated out.</summary>
    RetentionNotElapsed,
    /// <summary>Some secondary has not yet reported that its certificates chain to the new root.</summary>
    SecondariesNotMigrated,
}

/// <summary>The outcome of <see cref="RootRetention.CanPrune"/>.</summary>
/// <param name="CanPrune">True when the root may be removed from the trust bundle.</param>
/// <param name="Reason">Machine-readable reason.</param>
/// <param name="RetainedUntil">End of the time-based retention (prunable strictly after it); null for an active root.</param>
/// <param name="Message">Human-readable explanation.</param>
public sealed record RootPruneDecision(bool CanPrune, RootPruneReason Reason, DateTimeOffset? RetainedUntil, string Message);

/// <summary>
/// Old-root retention (SPEC §3.9). Consul prunes, hourly, an inactive root once <c>now − RotatedOutAt &gt; 2 × LeafCertTTL</c>:
/// by then every leaf signed under it has expired. Meridian also waits until every known secondary has reported
/// that its certificates moved to the new root, because a secondary stuck on the old root (Consul #9443) would
/// otherwise lose trust across datacenters.
/// </summary>
public static class RootRetention
{
    /// <summary>How often pruning runs: 1 hour.</summary>
    public static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    /// <summary>Retention as a multiple of the current leaf TTL: 2 (default 144 h).</summary>
    public const int LeafTtlMultiple = 2;

    /// <summary>How long a rotated-out root is kept: 2 × <paramref name="leafTtl"/>.</summary>
    public static TimeSpan RetentionPeriod(TimeSpan leafTtl) => leafTtl * LeafTtlMultiple;

    /// <summary>
    /// Whether a root rotated out at <paramref name="rotatedOutAt"/> (null: still active) may be pruned at
    /// <paramref name="now"/>, given the <em>current</em> leaf TTL and whether all secondaries have migrated.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="leafTtl"/> is not positive.</exception>
    public static RootPruneDecision CanPrune(DateTimeOffset now, DateTimeOffset? rotatedOutAt, TimeSpan leafTtl, bool allSecondariesMigrated)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(leafTtl, TimeSpan.Zero);
        if (rotatedOutAt is not { } rotated)
            return new(false, RootPruneReason.NotRotatedOut, null, "root is active (never rotated out); it is never pruned");

        var retainedUntil = rotated + RetentionPeriod(leafTtl);
        var retention = GoDuration.Format(RetentionPeriod(leafTtl));
        if (now - rotated <= RetentionPeriod(leafTtl))
            return new(false, RootPruneReason.RetentionNotElapsed, retainedUntil,
                $"rotated out at {rotated:O}; kept for 2 x leaf TTL ({retention}) until {retainedUntil:O}");
        if (!allSecondariesMigrated)
            return new(false, RootPruneReason.SecondariesNotMigrated, retainedUntil,
                "retention elapsed, but not every secondary has reported its certificates moved to the new root");
        return new(true, RootPruneReason.Prunable, retainedUntil,
            $"rotated out at {rotated:O}, more than {retention} ago, and every secondary has migrated");
    }
}
