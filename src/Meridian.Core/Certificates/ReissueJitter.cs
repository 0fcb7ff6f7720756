namespace Meridian.Core.Certificates;

/// <summary>
/// Delay before a service re-issues its certificate after the active root changed (SPEC §3.9). Consul waits a uniformly
/// random delay in [0, 30 s) so a rotation does not make every service hit the CA in the same second.
/// </summary>
public static class ReissueJitter
{
    /// <summary>Consul's jitter window: 30 seconds.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(30);

    /// <summary>A delay uniform in [0, <see cref="DefaultWindow"/>) from the caller's random value in [0, 1).</summary>
    public static TimeSpan Delay(double random01) => Delay(random01, DefaultWindow);

    /// <summary>A delay uniform in [0, <paramref name="window"/>) from the caller's random value in [0, 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The window is not positive or the random value is not in [0, 1).</exception>
    public static TimeSpan Delay(double random01, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        Random01.Check(random01);
        return Random01.Scale(window, random01);
    }

    /// <summary>
    /// When to retry after the CA answered "rate limit reached" for the <paramref name="consecutiveRateLimitErrors"/>-th
    /// time in a row (1 for the first): a random time in window k, which starts at
    /// <c>rotationStart + k × window</c> (Consul). The old certificate stays in use meanwhile.
    /// </summary>
    public static DateTimeOffset RateLimitedRetryAt(DateTimeOffset rotationStart, int consecutiveRateLimitErrors, double random01, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(consecutiveRateLimitErrors, 1);
        return rotationStart + window * consecutiveRateLimitErrors + Delay(random01, window);
    }

    /// <summary><see cref="RateLimitedRetryAt(DateTimeOffset, int, double, TimeSpan)"/> with the 30 s window.</summary>
    public static DateTimeOffset RateLimitedRetryAt(DateTimeOffset rotationStart, int consecutiveRateLimitErrors, double random01)
        => RateLimitedRetryAt(rotationStart, consecutiveRateLimitErrors, random01, DefaultWindow);
}

/// <summary>
/// A re-issue plan for <see cref="Count"/> certificates after a root change, for a coordinator that knows them all:
/// item k goes to jitter window <c>k / PerWindow</c> (windows start at <c>w × Window</c>, as Consul's rate-limited
/// retries), where <c>PerWindow = ⌊MaxSignsPerSecond × Window⌋</c> (50/s × 30 s = 1,500). Inside a window the items
/// are stratified: each gets its own slot of <c>Window / itemsInThatWindow</c> and a random offset in it, so starts are
/// at least <c>1 / MaxSignsPerSecond</c> apart and the signer never sees more than the configured rate.
/// </summary>
public sealed record ReissueSchedule
{
    /// <summary>Creates a plan. <paramref name="maxSignsPerSecond"/> 0 means unlimited (Consul's CSRMaxPerSecond 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count, a non-positive window, or a negative or non-finite rate.</exception>
    public ReissueSchedule(int count, TimeSpan window, double maxSignsPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        if (!(maxSignsPerSecond >= 0) || double.IsInfinity(maxSignsPerSecond))
            throw new ArgumentOutOfRangeException(nameof(maxSignsPerSecond), maxSignsPerSecond, "Must be 0 (unlimited) or a positive finite rate.");
        Count = count;
        Window = window;
        MaxSignsPerSecond = maxSignsPerSecond;
        PerWindow = maxSignsPerSecond == 0
            ? Math.Max(count, 1)
            : (int)Math.Clamp(Math.Floor(maxSignsPerSecond * window.TotalSeconds), 1, int.MaxValue);
    }

    /// <summary>Number of certificates to re-issue.</summary>
    public int Count { get; }

    /// <summary>Jitter window length.</summary>
    public TimeSpan Window { get; }

    /// <summary>Maximum signing rate; 0 is unlimited.</summary>
    public double MaxSignsPerSecond { get; }

    /// <summary>Certificates per window: ⌊rate × window⌋ (at least 1), or all of them when unlimited.</summary>
    public int PerWindow { get; }

    /// <summary>Number of windows used: ⌈Count / PerWindow⌉.</summary>
    public int WindowCount => (int)(((long)Count + PerWindow - 1) / PerWindow);

    /// <summary>Time until the last window closes.</summary>
    public TimeSpan TotalDuration => Window * WindowCount;

    /// <summary>The window item <paramref name="index"/> falls in.</summary>
    public int WindowOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return index / PerWindow;
    }

    /// <summary>
    /// Delay after the root change for item <paramref name="index"/> (0-based): its window start plus a random offset
    /// inside its slot. With a single item this is uniform in [0, Window), exactly Consul's jitter.
    /// </summary>
    public TimeSpan DelayFor(int index, double random01)
    {
        var w = WindowOf(index);
        Random01.Check(random01);
        var inWindow = Math.Min(PerWindow, Count - w * PerWindow);
        var slot = index - w * PerWindow;
        var slotLength = TimeSpan.FromTicks(Window.Ticks / inWindow);
        return Window * w + slotLength * slot + Random01.Scale(slotLength, random01);
    }
}
