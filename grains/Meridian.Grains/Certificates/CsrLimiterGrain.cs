using Meridian.Core.Certificates;
using Orleans.Concurrency;

namespace Meridian.Grains.Certificates;

/// <summary>
/// The datacenter's CSR limits; see <see cref="ICsrLimiterGrain"/>. Reentrant: a waiting <see cref="AcquireAsync"/>
/// must not hold up a release or a lease; every state change happens between awaits.
/// </summary>
/// <remarks>
/// NOTE: in memory only. After a failover the bucket starts full (one token, burst 1) and permits held by the old
/// activation are forgotten: for at most one signing time the datacenter may sign up to twice the concurrency limit.
/// Token times are this silo's clock; a signing silo whose clock is ahead uses its tokens that much early (silos run
/// NTP-synchronised clocks, milliseconds apart, against runs of 100 ms).
/// </remarks>
[Reentrant]
public sealed class CsrLimiterGrain(TimeProvider clock) : Grain, ICsrLimiterGrain
{
    // A silo signs in milliseconds; a permit held this long belongs to a silo that died or lost the release message.
    private static readonly TimeSpan PermitLifetime = TimeSpan.FromMinutes(1);

    private TokenBucket _bucket = new(0);
    private readonly Dictionary<Guid, DateTimeOffset> _permits = [];
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public Task<CsrLeaseDto> LeaseAsync(double ratePerSecond, int count, TimeSpan maxWait)
    {
        // The rate comes from the caller's signing material (the CA configuration); a changed rate starts a new bucket.
        if (_bucket.RatePerSecond != ratePerSecond) _bucket = new TokenBucket(ratePerSecond);
        var run = _bucket.Reserve(clock.GetUtcNow(), maxWait, Math.Max(1, count));
        return Task.FromResult(new CsrLeaseDto(run.First, run.Interval, run.Count));
    }

    /// <inheritdoc />
    public async Task<Guid?> AcquireAsync(int maxConcurrent, TimeSpan maxWait)
    {
        var deadline = clock.GetUtcNow() + maxWait;
        while (true)
        {
            var now = clock.GetUtcNow();
            foreach (var (id, _) in _permits.Where(p => now - p.Value > PermitLifetime).ToList()) _permits.Remove(id);
            if (_permits.Count < maxConcurrent)
            {
                var permit = Guid.NewGuid();
                _permits[permit] = now;
                return permit;
            }
            if (now >= deadline) return null;
            var released = _released.Task;
            await Task.WhenAny(released, Task.Delay(deadline - now, clock));
        }
    }

    /// <inheritdoc />
    public Task ReleaseAsync(Guid permit)
    {
        if (_permits.Remove(permit))
            Interlocked.Exchange(ref _released, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return Task.CompletedTask;
    }
}
