using Meridian.Core.Federation;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Replication;

/// <summary>What <see cref="ReplicaCacheSync{TChanges}"/> needs of a cache: where it stands and how it applies an answer.</summary>
public interface IReplicaCache<in TChanges>
{
    /// <summary>True once the cache has received at least one answer from the registry.</summary>
    bool IsLoaded { get; }

    /// <summary>The registry index and epoch the cache reflects, read together (what the sync loop polls from).</summary>
    ReplicationPosition Position { get; }

    /// <summary>Applies one answer of the registry's long-poll.</summary>
    void Apply(TChanges changes);
}

/// <summary>
/// This silo's copy of a replicated type's entries, as an immutable view built for its readers (for intentions, the
/// per-destination match index authorize walks). Readers take the current view without locking; writers (the sync
/// loop, and the registry when it lives in this silo) apply change sets in index order. Applying the same changes
/// twice is harmless.
/// </summary>
/// <typeparam name="TEntry">One entry as the registry sends it, converted.</typeparam>
/// <typeparam name="TView">The immutable view readers use; it carries its index.</typeparam>
public abstract class ReplicaCache<TEntry, TView> where TView : class
{
    private readonly Lock _write = new();
    private volatile TView _current;
    private string _epoch = "";
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A cache holding <paramref name="empty"/> until the first answer.</summary>
    protected ReplicaCache(TView empty) => _current = empty;

    /// <summary>The current view.</summary>
    public TView Current => _current;

    /// <summary>True once the cache has received at least one answer from the registry.</summary>
    public bool IsLoaded { get; private set; }

    /// <summary>The registry index and epoch the cache reflects, read together (what the sync loop polls from).</summary>
    public ReplicationPosition Position
    {
        get { lock (_write) return new ReplicationPosition(IndexOf(_current), _epoch); }
    }

    /// <summary>The index a view reflects.</summary>
    protected abstract ulong IndexOf(TView view);

    /// <summary>A view of exactly <paramref name="entries"/> at <paramref name="index"/>.</summary>
    protected abstract TView Create(IEnumerable<TEntry> entries, ulong index);

    /// <summary><paramref name="view"/> with the upserts and deletes (feed keys) applied, at <paramref name="index"/>.</summary>
    protected abstract TView Apply(TView view, IEnumerable<TEntry> upserts, IEnumerable<string> deletes, ulong index);

    /// <summary>
    /// Applies a change set from the registry. Older or equal indexes are ignored unless it is a snapshot, and so is a
    /// delta from another registry epoch (the next poll names the cache's epoch and gets a snapshot). The entries are
    /// enumerated only when applied.
    /// </summary>
    protected void Apply(bool isSnapshot, ulong index, string epoch, IEnumerable<TEntry> upserts, IEnumerable<string> deletes)
    {
        lock (_write)
        {
            var cur = _current;
            if (!isSnapshot && index <= IndexOf(cur) && IsLoaded) return;
            if (!isSnapshot && IsLoaded && _epoch.Length > 0 && !string.IsNullOrEmpty(epoch) && epoch != _epoch) return;
            _current = isSnapshot ? Create(upserts, index) : Apply(cur, upserts, deletes, index);
            if (!string.IsNullOrEmpty(epoch)) _epoch = epoch;
            IsLoaded = true;
            var old = _advanced;
            _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
            old.TrySetResult();
        }
    }

    /// <summary>Waits until the cache reflects at least <paramref name="index"/> (read-your-writes), or the timeout passes.</summary>
    public async Task<bool> WaitForIndexAsync(ulong index, TimeSpan timeout, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        var deadline = clock.GetUtcNow() + timeout;
        while (IndexOf(_current) < index)
        {
            var remaining = deadline - clock.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return false;
            Task advanced;
            lock (_write) advanced = _advanced.Task;
            if (IndexOf(_current) >= index) break;
            await Task.WhenAny(advanced, Task.Delay(remaining, clock, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
        return true;
    }
}

/// <summary>
/// Keeps a <see cref="IReplicaCache{TChanges}"/> current by long-polling the datacenter's registry for changes after
/// the cache's position: a change arrives within milliseconds; an idle datacenter costs one call per 5 minutes. The
/// poll names the registry epoch the cache holds, so a registry rebuilt on a wiped store answers with a snapshot even
/// when its index is back at the cache's.
/// </summary>
public abstract class ReplicaCacheSync<TChanges>(IReplicaCache<TChanges> cache, TimeProvider clock, ILogger logger) : SiloLoop(clock, logger)
{
    /// <summary>How long one poll waits for a change.</summary>
    public static readonly TimeSpan PollWait = TimeSpan.FromMinutes(5);

    /// <summary>The registry's long-poll from <paramref name="after"/>, waiting up to <paramref name="wait"/>.</summary>
    protected abstract Task<TChanges> FetchAsync(ReplicationPosition after, TimeSpan wait);

    /// <inheritdoc />
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var after = cache.IsLoaded ? cache.Position : new ReplicationPosition(0, "");
        // Cancelled here rather than in the grain (see LocalSignerSync); the poll itself ends at the stop (SiloStopping).
        var changes = await FetchAsync(after, cache.IsLoaded ? PollWait : TimeSpan.Zero).WaitAsync(cancellationToken);
        cache.Apply(changes);
    }
}
