namespace Meridian.Core.Certificates;

/// <summary>
/// Consul's CSR rate limit (SPEC §3.1, §3.5): a token bucket of <c>CSRMaxPerSecond</c> tokens per second with a burst
/// of 1; a caller may wait up to 500 ms for a token, then gets <c>Rate limit reached, try again later</c>.
/// Thread-safe; time is passed in.
/// </summary>
public sealed class TokenBucket
{
    /// <summary>How long a CSR may wait for a token (Consul: 500 ms).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly double _ratePerSecond;
    private DateTimeOffset _nextFree;

    /// <param name="ratePerSecond">Tokens per second; 0 or less disables the limit.</param>
    public TokenBucket(double ratePerSecond) => _ratePerSecond = ratePerSecond;

    /// <summary>The configured rate (0 = unlimited).</summary>
    public double RatePerSecond => _ratePerSecond;

    /// <summary>
    /// Takes a token at <paramref name="now"/>. Returns how long the caller must wait before proceeding (zero when a
    /// token is free), or null when that wait would exceed <paramref name="maxWait"/> (no token is taken then).
    /// </summary>
    public TimeSpan? TryTake(DateTimeOffset now, TimeSpan maxWait)
    {
        if (_ratePerSecond <= 0) return TimeSpan.Zero;
        var interval = TimeSpan.FromSeconds(1 / _ratePerSecond);
        lock (_lock)
        {
            // Burst 1: an idle bucket holds at most one token, so _nextFree never lags far behind now.
            var start = _nextFree < now ? now : _nextFree;
            var wait = start - now;
            if (wait > maxWait) return null;
            _nextFree = start + interval;
            return wait;
        }
    }
}
