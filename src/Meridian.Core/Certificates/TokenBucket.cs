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
        => Reserve(now, maxWait, 1) is { Count: > 0 } run ? run.First - now : null;

    /// <summary>
    /// Reserves up to <paramref name="count"/> consecutive tokens, the last usable no later than
    /// <paramref name="now"/> + <paramref name="maxWait"/>: the datacenter's limiter hands a silo a batch at once so
    /// that silo signs without a call per CSR. <see cref="SlotRun.Count"/> is 0 when not even the first token is
    /// within reach; <see cref="SlotRun.First"/> then says when the next one frees up (the retry hint).
    /// </summary>
    public SlotRun Reserve(DateTimeOffset now, TimeSpan maxWait, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (_ratePerSecond <= 0) return new(now, TimeSpan.Zero, count);
        var interval = TimeSpan.FromSeconds(1 / _ratePerSecond);
        lock (_lock)
        {
            // Burst 1: an idle bucket holds at most one token, so _nextFree never lags far behind now.
            var start = _nextFree < now ? now : _nextFree;
            if (start - now > maxWait) return new(start, interval, 0);
            var reachable = 1 + (long)((now + maxWait - start).Ticks / Math.Max(1, interval.Ticks));
            var n = (int)Math.Min(count, reachable);
            _nextFree = start + interval * n;
            return new(start, interval, n);
        }
    }
}

/// <summary>A run of consecutive rate-limit tokens: the i-th (from 0) may be used from <c>First + i × Interval</c>.</summary>
/// <param name="First">When the first token may be used (with <see cref="Count"/> 0: when the next token frees up).</param>
/// <param name="Interval">Time between tokens (zero: no limit).</param>
/// <param name="Count">How many tokens the run holds.</param>
public readonly record struct SlotRun(DateTimeOffset First, TimeSpan Interval, int Count);

/// <summary>
/// The tokens a silo holds from the datacenter's limiter (a <see cref="SlotRun"/>), used one per signing on the
/// silo's own threads. A token not used within <paramref name="grace"/> after its time lapses, so tokens can never be
/// saved up into a burst: over any window T the datacenter signs at most rate × (T + grace + max wait) + 1, whatever
/// the number of silos. Thread-safe; time is passed in.
/// </summary>
/// <param name="grace">
/// How long after its time a token may still be used. Longer than one interval on purpose: at a rate far above the
/// load (100,000/s configured, 2,000/s signed) a run of tokens would otherwise lapse before it is used and every
/// signing would call the limiter.
/// </param>
public sealed class LeasedSlots(TimeSpan grace)
{
    private readonly Lock _lock = new();
    private SlotRun _run;

    /// <summary>Tokens still held (lapsed ones included until the next take).</summary>
    public int Count { get { lock (_lock) return _run.Count; } }

    /// <summary>Holds <paramref name="run"/> instead of whatever is left (a run is only asked for when none is usable).</summary>
    public void Add(SlotRun run)
    {
        lock (_lock) _run = run;
    }

    /// <summary>
    /// Takes the next token at <paramref name="now"/>: the wait before it may be used (zero when due), or null when
    /// none is held (lapsed ones are dropped) and the caller must ask the datacenter's limiter for a new run.
    /// </summary>
    public TimeSpan? TryTake(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_run.Count > 0 && _run.Interval > TimeSpan.Zero && _run.First + grace < now)
            {
                var lapsed = (now - grace - _run.First).Ticks / _run.Interval.Ticks + 1;
                var drop = (int)Math.Min(_run.Count, lapsed);
                _run = _run with { First = _run.First + _run.Interval * drop, Count = _run.Count - drop };
            }
            if (_run.Count == 0) return null;
            var wait = _run.First > now ? _run.First - now : TimeSpan.Zero;
            _run = _run with { First = _run.First + _run.Interval, Count = _run.Count - 1 };
            return wait;
        }
    }
}
