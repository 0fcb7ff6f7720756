namespace Meridian.Core.Certificates;

/// <summary>
/// Validity of the certificate in which the old root cross-signs the new one during rotation (SPEC §3.9, §5 item 11).
/// Consul uses a fixed 7 days; Meridian uses <c>max(leafTtl + 1 h, 7 days)</c> so the cross-signed certificate
/// outlives every leaf that may carry it, even with leaf TTLs above a week (Consul #8681 served an expired one).
/// </summary>
public static class CrossSignPolicy
{
    /// <summary>Consul's fixed cross-sign lifetime and Meridian's floor: 7 days.</summary>
    public static readonly TimeSpan MinimumLifetime = TimeSpan.FromDays(7);

    /// <summary>How much longer than a leaf the cross-signed certificate lives at least: 1 hour.</summary>
    public static readonly TimeSpan LeafMargin = TimeSpan.FromHours(1);

    /// <summary>Back-dating of NotBefore for clock skew: 1 minute, as every Consul-issued certificate.</summary>
    public static readonly TimeSpan Backdate = TimeSpan.FromMinutes(1);

    /// <summary>The cross-sign lifetime for the current leaf TTL: <c>max(leafTtl + 1 h, 7 days)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="leafTtl"/> is not positive.</exception>
    public static TimeSpan Lifetime(TimeSpan leafTtl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(leafTtl, TimeSpan.Zero);
        var withMargin = leafTtl + LeafMargin;
        return withMargin > MinimumLifetime ? withMargin : MinimumLifetime;
    }

    /// <summary>NotBefore = now − 1 min; NotAfter = NotBefore + <see cref="Lifetime"/>.</summary>
    public static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Validity(DateTimeOffset now, TimeSpan leafTtl)
    {
        var notBefore = now - Backdate;
        return (notBefore, notBefore + Lifetime(leafTtl));
    }
}
