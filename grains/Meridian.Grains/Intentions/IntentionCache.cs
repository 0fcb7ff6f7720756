using Meridian.Core.Intentions;

namespace Meridian.Grains.Intentions;

/// <summary>
/// This silo's copy of the datacenter's intentions, indexed per destination for authorize. Readers take the
/// current immutable snapshot without locking; writers (the sync loop, and the registry when it lives in this silo)
/// apply change sets in index order. Applying the same changes twice is harmless.
/// </summary>
public sealed class IntentionCache
{
    private readonly Lock _write = new();
    private volatile DestinationMatchIndex _current = DestinationMatchIndex.Empty;
    private string _epoch = "";
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The current snapshot.</summary>
    public DestinationMatchIndex Current => _current;

    /// <summary>True once the cache has received at least one answer from the registry.</summary>
    public bool IsLoaded { get; private set; }

    /// <summary>The registry index and epoch the cache reflects, read together (what the sync loop polls from).</summary>
    public IntentionPositionDto Position
    {
        get { lock (_write) return new IntentionPositionDto(_current.Index, _epoch); }
    }

    /// <summary>
    /// Applies a change set from the registry. Older or equal indexes are ignored unless it is a snapshot, and so is a
    /// delta from another registry epoch (the next poll names the cache's epoch and gets a snapshot).
    /// </summary>
    public void Apply(IntentionChangesDto changes)
    {
        lock (_write)
        {
            var cur = _current;
            if (!changes.IsSnapshot && changes.Index <= cur.Index && IsLoaded) return;
            if (!changes.IsSnapshot && IsLoaded && _epoch.Length > 0 && !string.IsNullOrEmpty(changes.Epoch) && changes.Epoch != _epoch) return;
            _current = changes.IsSnapshot
                ? DestinationMatchIndex.Create(changes.Upserts.Select(e => e.ToCore()), changes.Index)
                : cur.Apply(changes.Upserts.Select(e => e.ToCore()), changes.DeletedDestinations, changes.Index);
            if (!string.IsNullOrEmpty(changes.Epoch)) _epoch = changes.Epoch;
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
        while (_current.Index < index)
        {
            var remaining = deadline - clock.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return false;
            Task advanced;
            lock (_write) advanced = _advanced.Task;
            if (_current.Index >= index) break;
            await Task.WhenAny(advanced, Task.Delay(remaining, clock, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
        return true;
    }
}
