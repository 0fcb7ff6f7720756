using Meridian.Core.Federation;

namespace Meridian.Core.Replication;

/// <summary>Why <see cref="ChangeFeed.Since"/> answers with the whole state instead of a delta.</summary>
public enum SnapshotReason
{
    /// <summary>A delta: only the keys changed after the caller's position.</summary>
    None,

    /// <summary>The caller holds nothing yet (index 0).</summary>
    NothingHeld,

    /// <summary>The caller's index counts in another epoch (a wiped or replaced store), whatever its value.</summary>
    OtherEpoch,

    /// <summary>The caller is ahead of this feed: it saw another incarnation of the store.</summary>
    IndexAhead,

    /// <summary>The changes after the caller's index were dropped from the retained log.</summary>
    OlderThanHorizon,
}

/// <summary>The answer of <see cref="ChangeFeed.Since"/>: the keys changed after a position, or a snapshot and why.</summary>
/// <param name="Snapshot">Why the caller needs the whole state; <see cref="SnapshotReason.None"/> for a delta.</param>
/// <param name="Keys">For a delta, every key changed after the caller's index (each once); empty for a snapshot.</param>
public sealed record FeedChanges(SnapshotReason Snapshot, IReadOnlyCollection<string> Keys)
{
    /// <summary>True when the caller needs the whole state.</summary>
    public bool IsSnapshot => Snapshot != SnapshotReason.None;

    /// <summary>
    /// The delta's keys split by what the store holds now: a key still found is an upsert of its current entry, a key
    /// no longer found was deleted (several changes to one key collapse into its latest state).
    /// </summary>
    public (List<TEntry> Upserts, List<string> Deletes) Resolve<TEntry>(Func<string, TEntry?> find) where TEntry : class
    {
        ArgumentNullException.ThrowIfNull(find);
        var (upserts, deletes) = (new List<TEntry>(), new List<string>());
        foreach (var key in Keys)
        {
            if (find(key) is { } entry) upserts.Add(entry);
            else deletes.Add(key);
        }
        return (upserts, deletes);
    }
}

/// <summary>
/// The change history of one replicated store, for pollers: its epoch, its index (bumped by every change), and a log
/// of which keys each index touched, so a poller gets a delta in time proportional to what changed rather than to the
/// number of entries (Consul's blocking queries answer by index the same way). The log keeps at most
/// <c>maxLoggedKeys</c> keys; older records are dropped and the horizon moves up, and a poller older than the horizon
/// gets a snapshot instead (correct, just bigger). Not thread-safe: one owner (a grain activation) records and reads.
/// </summary>
public sealed class ChangeFeed
{
    /// <summary>Keys retained by default: about 200k short keys stay well under 20 MB per store.</summary>
    public const int DefaultMaxLoggedKeys = 200_000;

    private readonly List<(ulong Index, string[] Keys)> _log = [];
    private readonly int _maxLoggedKeys;
    private int _loggedKeys;

    /// <summary>A feed of the store with <paramref name="epoch"/> at <paramref name="index"/>, with no change logged yet.</summary>
    public ChangeFeed(string epoch, ulong index, int maxLoggedKeys = DefaultMaxLoggedKeys)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLoggedKeys, 1);
        (Epoch, Index, Horizon, _maxLoggedKeys) = (epoch, index, index, maxLoggedKeys);
    }

    /// <summary>The store's incarnation: indexes of another epoch mean nothing here.</summary>
    public string Epoch { get; }

    /// <summary>The index of the latest change (or of the state the feed started from).</summary>
    public ulong Index { get; private set; }

    /// <summary>The oldest index a delta can start from: changes at or before it are no longer logged.</summary>
    public ulong Horizon { get; private set; }

    /// <summary>Where the feed stands.</summary>
    public ReplicationPosition Position => new(Index, Epoch);

    /// <summary>Logs that the change at <paramref name="index"/> (above <see cref="Index"/>) touched <paramref name="keys"/>.</summary>
    public void Record(ulong index, IReadOnlyCollection<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (index <= Index)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"a change must move the index forward (now {Index})");
        Index = index;
        _log.Add((index, [.. keys]));
        _loggedKeys += keys.Count;
        // The newest record always stays, however large: a poller one change behind still gets a delta.
        while (_loggedKeys > _maxLoggedKeys && _log.Count > 1)
        {
            Horizon = _log[0].Index;
            _loggedKeys -= _log[0].Keys.Length;
            _log.RemoveAt(0);
        }
    }

    /// <summary>
    /// Whether a poller at <paramref name="position"/> has seen everything (same epoch, or none given, at this index):
    /// it should wait for the next change rather than be answered now.
    /// </summary>
    public bool IsUpToDate(ReplicationPosition position)
        => (string.IsNullOrEmpty(position.Epoch) || position.Epoch == Epoch) && position.Index == Index;

    /// <summary>
    /// What a poller at <paramref name="position"/> needs: the keys changed after its index, or a snapshot and why. An
    /// empty epoch is a poller that does not know one (it is trusted on its index alone).
    /// </summary>
    public FeedChanges Since(ReplicationPosition position)
    {
        var reason = !string.IsNullOrEmpty(position.Epoch) && position.Epoch != Epoch ? SnapshotReason.OtherEpoch
            : position.Index == 0 ? SnapshotReason.NothingHeld
            : position.Index > Index ? SnapshotReason.IndexAhead
            : position.Index < Horizon ? SnapshotReason.OlderThanHorizon
            : SnapshotReason.None;
        if (reason != SnapshotReason.None) return new FeedChanges(reason, []);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = _log.Count - 1; i >= 0 && _log[i].Index > position.Index; i--) keys.UnionWith(_log[i].Keys);
        return new FeedChanges(SnapshotReason.None, keys);
    }
}
