namespace Meridian.Core.Replication;

/// <summary>
/// Retry delays after failed rounds: 1 s, 2 s, 4 s … capped at 120 s, plus up to 10 % jitter. Consul's replicators
/// back off the same way (agent/consul/replication.go: exponential, capped, so a primary that comes back is not
/// hammered by every secondary at once); the jitter spreads secondaries that failed together.
/// </summary>
public static class Backoff
{
    /// <summary>The longest delay before jitter.</summary>
    public static readonly TimeSpan Cap = TimeSpan.FromSeconds(120);

    /// <summary>
    /// The delay before retry number <paramref name="attempt"/> (1-based; 0 or less counts as 1);
    /// <paramref name="random01"/> in [0, 1) picks the jitter.
    /// </summary>
    public static TimeSpan Delay(int attempt, double random01) => Delay(attempt, random01, TimeSpan.FromSeconds(1), Cap);

    /// <summary>
    /// The same doubling from <paramref name="first"/> up to <paramref name="cap"/>, plus up to 10 % jitter: for
    /// loops whose first retry should come sooner or whose longest wait is shorter (the connect proxy's watches).
    /// </summary>
    public static TimeSpan Delay(int attempt, double random01, TimeSpan first, TimeSpan cap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(random01, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(random01, 1);
        // Past attempt 30 the doubling is capped anyway; stopping there keeps Math.Pow away from huge exponents.
        var seconds = Math.Min(cap.TotalSeconds, first.TotalSeconds * Math.Pow(2, Math.Clamp(attempt, 1, 30) - 1));
        return TimeSpan.FromSeconds(seconds * (1 + 0.1 * random01));
    }
}
