namespace Meridian.Core.Certificates;

/// <summary>
/// When a service (leaf) certificate should be renewed: Consul's <c>calculateSoftExpiry</c> (SPEC §3.12).
/// </summary>
/// <remarks>
/// <code>
/// notBefore            60 %                 90 %        notAfter
///     |-----------------|=====================|-----------|
///                        renew at a uniformly random time here;
///                        already inside: [now, 90 %]; past 90 %: now
/// </code>
/// Spreading renewals over 30 % of the lifetime keeps thousands of services from hitting the CA together
/// (average ~75 %: ~54 h for a 72 h certificate), and the last 10 % is slack for a CA outage.
/// </remarks>
public static class RenewalSchedule
{
    /// <summary>Start of the soft window as a fraction of the lifetime: 60 %.</summary>
    public const double SoftFraction = 0.6;

    /// <summary>End of the soft window as a fraction of the lifetime: 90 %.</summary>
    public const double HardFraction = 0.9;

    /// <summary>Certificates living less than this (10 minutes) are renewed at once: a window would be too small to matter.</summary>
    public static readonly TimeSpan MinimumLifetime = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The renewal window for a certificate valid from <paramref name="notBefore"/> to <paramref name="notAfter"/>:
    /// [60 %, 90 %] of its lifetime; [now, 90 %] once inside it; (now, now) past 90 %, when expired, or when the
    /// lifetime is under <see cref="MinimumLifetime"/>.
    /// </summary>
    public static (DateTimeOffset Earliest, DateTimeOffset Latest) Window(DateTimeOffset now, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var life = notAfter - notBefore;
        if (life < MinimumLifetime) return (now, now);
        // Integer tick arithmetic (Consul: lifetime * 6 / 10) so the marks never drift by a rounding tick.
        var soft = notBefore + Fraction(life, 6);
        var hard = notBefore + Fraction(life, 9);
        if (now >= hard) return (now, now);
        return (now > soft ? now : soft, hard);
    }

    /// <summary>
    /// A renewal time uniformly distributed in <see cref="Window"/>; <paramref name="random01"/> is a random value in
    /// [0, 1) supplied by the caller (0 gives the window start).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="random01"/> is not in [0, 1).</exception>
    public static DateTimeOffset PickRenewalTime(DateTimeOffset now, DateTimeOffset notBefore, DateTimeOffset notAfter, double random01)
    {
        Random01.Check(random01);
        var (earliest, latest) = Window(now, notBefore, notAfter);
        return earliest + Random01.Scale(latest - earliest, random01);
    }

    /// <summary>True when the renewal time <paramref name="renewAt"/> has been reached, or the certificate is past 90 % or expired.</summary>
    public static bool IsDue(DateTimeOffset now, DateTimeOffset renewAt, DateTimeOffset notBefore, DateTimeOffset notAfter)
        => now >= renewAt || Window(now, notBefore, notAfter).Latest <= now;

    private static TimeSpan Fraction(TimeSpan life, int tenths) => TimeSpan.FromTicks((long)((Int128)life.Ticks * tenths / 10));
}

/// <summary>Checks and applies caller-supplied random values in [0, 1): Core never owns a random source.</summary>
internal static class Random01
{
    internal static void Check(double random01, string paramName = "random01")
    {
        if (!(random01 >= 0 && random01 < 1))
            throw new ArgumentOutOfRangeException(paramName, random01, "A random value in [0, 1) is required.");
    }

    internal static TimeSpan Scale(TimeSpan span, double random01)
    {
        var ticks = (long)Math.Floor(span.Ticks * random01);
        // Guard against double rounding up to the (exclusive) end for very long spans.
        return TimeSpan.FromTicks(span.Ticks > 0 ? Math.Min(ticks, span.Ticks - 1) : 0);
    }
}
