using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>
/// Which certificate activation of this silo to look at when: a time-ordered queue of (service key, due time). Several
/// entries per key are normal (each issue adds its renewal time, a rotation adds its re-issue slot); an entry only asks
/// the grain to check, and the grain re-issues only if it really is due or on an old root, so a superseded entry costs
/// one no-op call and is never wrong. Thread-safe.
/// </summary>
public sealed class RenewalQueue
{
    private readonly Lock _lock = new();
    private readonly PriorityQueue<string, DateTimeOffset> _queue = new();

    /// <summary>Entries waiting, superseded ones included.</summary>
    public int Count
    {
        get { lock (_lock) return _queue.Count; }
    }

    /// <summary>Adds an entry; returns true when it is now the earliest (a waiting loop must wake up for it).</summary>
    public bool Add(string key, DateTimeOffset due)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        lock (_lock)
        {
            var earliest = !_queue.TryPeek(out _, out var first) || due < first;
            _queue.Enqueue(key, due);
            return earliest;
        }
    }

    /// <summary>Removes and returns every entry due at <paramref name="now"/> (earliest first), and the next due time.</summary>
    public (List<string> Due, DateTimeOffset? Next) TakeDue(DateTimeOffset now)
    {
        var due = new List<string>();
        lock (_lock)
        {
            while (_queue.TryPeek(out var key, out var at) && at <= now)
            {
                _queue.Dequeue();
                due.Add(key);
            }
            return (due, _queue.TryPeek(out _, out var next) ? next : null);
        }
    }

    /// <summary>The due times queued for <paramref name="key"/>, earliest first (diagnostics and tests; O(n)).</summary>
    public IReadOnlyList<DateTimeOffset> DueTimesOf(string key)
    {
        lock (_lock) return [.. _queue.UnorderedItems.Where(e => e.Element == key).Select(e => e.Priority).Order()];
    }
}

/// <summary>
/// Renews and re-issues this silo's service certificates on time: one loop for the whole silo instead of a timer per
/// certificate (with 100,000 certificates per silo, a grain timer each cost ~10 % of issuance throughput). Certificate
/// grains add their renewal time (60-90 % of the lifetime, SPEC §3.12) after every issue, and a root change adds each
/// certificate's slot of the jittered re-issue schedule; when an entry is due the loop sends the activation a one-way
/// <see cref="IServiceCertificateGrain.RenewIfDueAsync"/>. Entries of activations no longer in this silo are dropped:
/// the next caller of such a service gets a fresh certificate anyway.
/// </summary>
public sealed class CertificateRenewals(
    IGrainFactory grains, CertificateActivations activations, TimeProvider clock, ILogger<CertificateRenewals> logger)
    : SiloLoop(clock, logger)
{
    // Upper bound of one wait; an earlier entry wakes the loop at once.
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(1);

    private readonly RenewalQueue _queue = new();
    private TaskCompletionSource _earlier = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    protected override string Name => "certificate-renewals";

    /// <summary>The queue (diagnostics and tests).</summary>
    public RenewalQueue Queue => _queue;

    /// <summary>Asks the activation <paramref name="key"/> of this silo to check its certificate at <paramref name="due"/>.</summary>
    public void Schedule(string key, DateTimeOffset due)
    {
        if (_queue.Add(key, due)) Volatile.Read(ref _earlier).TrySetResult();
    }

    /// <inheritdoc />
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        // Read the wake-up signal before looking at the queue, so an entry added in between is not slept through.
        var earlier = Volatile.Read(ref _earlier);
        if (earlier.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _earlier, new(TaskCreationOptions.RunContinuationsAsynchronously), earlier);
            earlier = Volatile.Read(ref _earlier);
        }
        var (due, next) = _queue.TakeDue(Clock.GetUtcNow());
        foreach (var key in due)
        {
            if (activations.Contains(key)) grains.GetGrain<IServiceCertificateGrain>(key).RenewIfDueAsync().Ignore();
        }
        if (due.Count > 0) return; // look again at once: more may have come due meanwhile
        var wait = next is { } at ? at - Clock.GetUtcNow() : MaxWait;
        if (wait <= TimeSpan.Zero) return;
        using var woken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sleep = Task.Delay(wait < MaxWait ? wait : MaxWait, Clock, woken.Token);
        await Task.WhenAny(sleep, earlier.Task);
        await woken.CancelAsync(); // ends the delay's timer when an earlier entry woke us
        cancellationToken.ThrowIfCancellationRequested();
    }
}
