using Meridian.Core.Federation;
using Meridian.Core.Replication;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Replication;

/// <summary>
/// The registry grain's small persisted state that <see cref="ReplicatedRegistry{TEntry, TKey}"/> reads and writes: its
/// own index and epoch and, in a secondary, the primary's position applied and the round held for the operator.
/// </summary>
public interface IReplicatedRegistryState
{
    /// <summary>The datacenter index of the store: bumped on every change, never goes backwards.</summary>
    ulong Index { get; set; }

    /// <summary>This store's incarnation (a Guid, "N" format); "" until the first activation creates it.</summary>
    string Epoch { get; set; }

    /// <summary>In a secondary: the primary's index applied by replication (0 = never synced).</summary>
    ulong ReplicatedIndex { get; set; }

    /// <summary>In a secondary: the primary's epoch that <see cref="ReplicatedIndex"/> counts in ("" = not known yet).</summary>
    string ReplicatedEpoch { get; set; }

    /// <summary>In a secondary: the round held back for the operator (null: following the primary).</summary>
    ReplicationHoldDto? Hold { get; set; }

    /// <summary>
    /// In a secondary: the primary filtered the answer applied last (the replication token may not read everything),
    /// persisted with the position so the replicator, restarted, still asks for the whole state and its status still
    /// names the missing permission (see <see cref="FilteredRound"/>).
    /// </summary>
    bool ReplicatedFiltered { get; set; }
}

/// <summary>
/// What <see cref="ReplicatedRegistry{TEntry, TKey}"/> delegates to the registry grain that owns it: the entries held
/// (the registry knows how they are stored and indexed), the durable write of a change, and making it visible.
/// </summary>
public interface IReplicaStore<TEntry> where TEntry : class
{
    /// <summary>The persisted state (see <see cref="IReplicatedRegistryState"/>).</summary>
    IReplicatedRegistryState State { get; }

    /// <summary>Writes <see cref="State"/>.</summary>
    Task WriteStateAsync(CancellationToken cancellationToken);

    /// <summary>The entry under a feed key, or null.</summary>
    TEntry? Find(string key);

    /// <summary>Every entry held, for a snapshot's diff.</summary>
    IReadOnlyList<TEntry> Entries();

    /// <summary>How many entries are held.</summary>
    int Count { get; }

    /// <summary>
    /// Makes the change durable (entry rows and whatever lists them); nothing becomes visible yet.
    /// <paramref name="upsertKeys"/> holds the feed key of each upsert, in order.
    /// </summary>
    Task WriteAsync(IReadOnlyList<TEntry> upserts, IReadOnlyList<string> upsertKeys, IReadOnlyList<string> deletes, CancellationToken cancellationToken);

    /// <summary>Makes a durable change visible to readers at <paramref name="index"/> (in memory, the silo's cache).</summary>
    void Publish(IReadOnlyList<TEntry> upserts, IReadOnlyList<string> deletes, ulong index);
}

/// <summary>How the component reads and stamps one replicated type's entries.</summary>
/// <param name="Name">What is replicated, for logs: <c>intentions</c>.</param>
/// <param name="Shape">The diff's view: key, key order, content hash, ModifyIndex.</param>
/// <param name="FeedKey">The key of an entry in the change feed and on the wire.</param>
/// <param name="DisplayName">An entry as holds and logs name it.</param>
/// <param name="CreateIndex">The local index at which an entry was created.</param>
/// <param name="Stamp">The entry with the given (CreateIndex, ModifyIndex).</param>
public sealed record ReplicatedEntryType<TEntry, TKey>(
    string Name, ReplicaShape<TEntry, TKey> Shape, Func<TEntry, string> FeedKey, Func<TEntry, string> DisplayName,
    Func<TEntry, ulong> CreateIndex, Func<TEntry, ulong, ulong, TEntry> Stamp);

/// <summary>One answer of the primary, in entries: where it stood, whether whole or filtered, what changed.</summary>
/// <param name="Primary">The primary's position when it answered.</param>
/// <param name="IsSnapshot">The primary's whole state (as far as the caller may read it), not a delta.</param>
/// <param name="Filtered">The primary left out entries the caller may not read (see <see cref="FilteredRound"/>).</param>
/// <param name="Upserts">The entries sent (for a snapshot: every entry).</param>
/// <param name="DeletedKeys">For a delta, the feed keys the primary deleted; empty for a snapshot.</param>
public sealed record ReplicatedAnswer<TEntry>(
    ReplicationPosition Primary, bool IsSnapshot, bool Filtered, IReadOnlyList<TEntry> Upserts, IReadOnlyList<string> DeletedKeys);

/// <summary>
/// The machinery every registry of something the primary owns shares (intentions; ACL tokens, policies and roles
/// next), owned by the registry grain, which keeps the storage of its entries: the store's epoch (created and made
/// durable on the first activation), the commit pipeline (durable, then visible, then pollers woken), the change feed
/// answering long-polls, and in a secondary the apply of the primary's answers (snapshot diff or delta, the
/// <see cref="FilteredRound"/> and <see cref="ReplicationHoldRule"/> decisions, adoption), with the held round
/// persisted so status and <c>meridian replication adopt</c> see it right after a restart. Consul keeps the same split
/// between its replication loop and one small adapter per type (agent/consul/replication.go, acl_replication_types.go).
/// Not thread-safe: it lives in one grain activation.
/// </summary>
public sealed class ReplicatedRegistry<TEntry, TKey> where TEntry : class
{
    private readonly ReplicatedEntryType<TEntry, TKey> _type;
    private readonly IReplicaStore<TEntry> _store;
    private readonly DatacenterContext _datacenter;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ChangeSignal _changed;
    private readonly ChangeSignal _replicated;
    private ChangeFeed _feed = null!;
    private (ulong Index, string Epoch, bool Filtered) _persistedReplicated;
    private bool _holdDirty;
    private readonly ReplicationHoldKeeper _holds;
    // The replicated position whose round is visible to readers. NOTE: the state's ReplicatedIndex is set before the
    // round's writes are awaited (it is persisted with them), and WaitForReplicatedAsync and the registry's reads
    // interleave with that turn: answering from the state would let a caller see "applied" and then read the entries
    // without the write.
    private (ulong Index, string Epoch) _applied;

    /// <summary>A component over <paramref name="store"/>; call <see cref="ActivateAsync"/> before anything else.</summary>
    public ReplicatedRegistry(ReplicatedEntryType<TEntry, TKey> type, IReplicaStore<TEntry> store, DatacenterContext datacenter,
        SiloStopping stopping, TimeProvider clock, ILogger logger)
    {
        (_type, _store, _datacenter, _clock, _logger) = (type, store, datacenter, clock, logger);
        (_changed, _replicated) = (new ChangeSignal(stopping), new ChangeSignal(stopping));
        _holds = new ReplicationHoldKeeper(type.Name, datacenter, clock, logger);
    }

    /// <summary>The store's epoch.</summary>
    public string Epoch => _feed.Epoch;

    /// <summary>The store's index: the last change visible to readers.</summary>
    public ulong Index => _feed.Index;

    /// <summary>The round held for the operator, as status shows it; null when following the primary (or in the primary).</summary>
    public ReplicationHoldDto? Hold => _store.State.Hold;

    /// <summary>Whether the primary filtered the answer applied last (persisted: see <see cref="IReplicatedRegistryState.ReplicatedFiltered"/>).</summary>
    public bool Filtered => !_datacenter.IsPrimary && _store.State.ReplicatedFiltered;

    /// <summary>
    /// Starts from what the owner loaded: the index is the higher of the persisted one and <paramref name="loadedIndex"/>
    /// (an entry written just before a crash may carry an index the state did not persist: it is never reused). The
    /// first activation on a store (new or wiped) creates its epoch, durable before any poller sees it, so a restart
    /// on the same store never changes it (that would cost every poller a snapshot). Returns whether it created one.
    /// </summary>
    public async Task<bool> ActivateAsync(ulong loadedIndex, CancellationToken cancellationToken)
    {
        var state = _store.State;
        var index = Math.Max(state.Index, loadedIndex);
        var created = string.IsNullOrEmpty(state.Epoch);
        if (created)
        {
            state.Epoch = Guid.NewGuid().ToString("N");
            state.Index = index;
            await _store.WriteStateAsync(cancellationToken);
        }
        _feed = new ChangeFeed(state.Epoch, index);
        _applied = (state.ReplicatedIndex, state.ReplicatedEpoch);
        _persistedReplicated = (state.ReplicatedIndex, state.ReplicatedEpoch, state.ReplicatedFiltered);
        _holds.Resume(state.Hold);
        return created;
    }

    /// <summary>
    /// Commits one change at <paramref name="index"/> (above <see cref="Index"/>): durable first (the owner's entries,
    /// then the state when needed), then visible (the owner's memory and cache), then the feed and waiting pollers.
    /// </summary>
    public async Task CommitAsync(IReadOnlyList<TEntry> upserts, IReadOnlyList<string> deletes, ulong index, CancellationToken cancellationToken)
    {
        // Each key once, for the owner's write and the feed.
        var keys = new string[upserts.Count + deletes.Count];
        for (var i = 0; i < upserts.Count; i++) keys[i] = _type.FeedKey(upserts[i]);
        for (var i = 0; i < deletes.Count; i++) keys[upserts.Count + i] = deletes[i];
        await _store.WriteAsync(upserts, new ArraySegment<string>(keys, 0, upserts.Count), deletes, cancellationToken);
        // A delete leaves no entry carrying its index, and replication progress (index and primary epoch: a rebuilt
        // primary can bring the same index) and the hold live only in the state: persist then.
        var state = _store.State;
        var replicationAdvanced = (state.ReplicatedIndex, state.ReplicatedEpoch, state.ReplicatedFiltered) != _persistedReplicated;
        state.Index = index;
        if (deletes.Count > 0 || replicationAdvanced || _holdDirty) await PersistStateAsync(cancellationToken);

        _store.Publish(upserts, deletes, index);
        _feed.Record(index, keys);
        _changed.Notify();
    }

    // A long-poll is three calls rather than one async method here: the owner's answer then allocates no more than
    // when it read the feed itself (no second state machine per poll).

    /// <summary>
    /// Whether a poller at <paramref name="after"/> has seen everything and should wait (<see cref="WaitForChangeAsync"/>)
    /// before <see cref="Since"/>. Another epoch never waits (the caller's index counts in a store that no longer exists).
    /// </summary>
    public bool IsUpToDate(ReplicationPosition after) => _feed.IsUpToDate(after);

    /// <summary>Waits for the next commit, up to <paramref name="maxWait"/> (clamped to 10 minutes), or the silo's stop.</summary>
    public Task WaitForChangeAsync(TimeSpan maxWait, CancellationToken cancellationToken)
        => _changed.WaitAsync(ChangeSignal.Clamp(maxWait), _clock, cancellationToken);

    /// <summary>What a poller at <paramref name="after"/> needs: a delta's keys, or a snapshot and why.</summary>
    public FeedChanges Since(ReplicationPosition after) => _feed.Since(after);

    /// <summary>A secondary's applied position of the primary, or (in the primary) its own position.</summary>
    public ReplicationPosition ReplicatedPosition => _datacenter.IsPrimary ? _feed.Position : new(_applied.Index, _applied.Epoch);

    /// <summary>
    /// Waits until the round carrying the primary's <paramref name="primaryIndex"/> is visible here, up to
    /// <paramref name="maxWait"/>; true once it is (at once in the primary, for its own index).
    /// </summary>
    public async Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (_datacenter.IsPrimary) return _feed.Index >= primaryIndex;
        var deadline = _clock.GetUtcNow() + ChangeSignal.Clamp(maxWait);
        while (_applied.Index < primaryIndex)
        {
            var left = deadline - _clock.GetUtcNow();
            if (left <= TimeSpan.Zero || _replicated.Stopping) return false;
            await _replicated.WaitAsync(left, _clock, cancellationToken);
        }
        return true;
    }

    /// <summary>
    /// Applies one answer of the primary in a secondary, in one batch at one local index, or holds it for the operator
    /// (unchanged here) unless <paramref name="adopt"/>. Idempotent: the same answer twice changes nothing the second time.
    /// </summary>
    public async Task<ReplicationApplyResultDto> ApplyAsync(ReplicatedAnswer<TEntry> answer, bool adopt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (_datacenter.IsPrimary)
            throw new InvalidOperationException($"the primary datacenter does not replicate {_type.Name} from anyone");
        var primary = answer.Primary;

        // The replicator passes the applied epoch, so the primary answers a snapshot across epochs; this guards
        // against a poll that raced with another apply.
        if (new ReplicationPosition(_applied.Index, _applied.Epoch).CrossEpochDeltaProblem(primary, answer.IsSnapshot, _datacenter.PrimaryDatacenter) is { } crossing)
            throw new InvalidOperationException(crossing);

        IReadOnlyList<TEntry> upserts, deleted;
        if (answer.IsSnapshot)
        {
            // Index 0 as "last remote index": compare every pair by content (a snapshot carries no delta information,
            // and one from a new epoch shares no index history with what we hold).
            var diff = ReplicaDiff.Compute(_store.Entries(), answer.Upserts, _type.Shape, 0, primary.Index);
            (upserts, deleted) = (diff.Upserts, diff.Deletes);
        }
        else
        {
            upserts = answer.Upserts;
            var found = new List<TEntry>(answer.DeletedKeys.Count);
            foreach (var key in answer.DeletedKeys)
                if (_store.Find(key) is { } entry) found.Add(entry);
            deleted = found;
        }
        var changes = FilteredRound.Apply(answer.IsSnapshot, answer.Filtered, upserts, deleted);

        // NOTE: the primary is the authority, but not a blind one. Consul makes every secondary equal to whatever its
        // primary answers, so a primary rebuilt empty wipes every secondary's copy within one round, when the
        // secondaries' copy is the last one left. A round from another epoch, a reset index, a snapshot that deletes
        // everything or a first sync over our own entries is held, unchanged here, until an operator adopts it
        // (ReplicationHoldRule has the cases and Consul's references). A normal delete in the primary is a delta of the
        // same epoch and flows as before.
        var round = new ReplicationRound(new(_applied.Index, _applied.Epoch), primary, answer.IsSnapshot, _store.Count,
            ReplicationDiff.Of(changes.Upserts, changes.Deletes, e => _store.Find(_type.FeedKey(e)), _type.Shape.ContentHash, _type.DisplayName));
        var holding = await _holds.HoldAsync(round, adopt, _store.State.Hold, async (hold, ct) =>
        {
            _store.State.Hold = hold;
            await PersistStateAsync(ct);
        }, cancellationToken);
        if (holding is not null) return new ReplicationApplyResultDto { Held = holding };
        if (_store.State.Hold is not null) (_store.State.Hold, _holdDirty) = (null, true);

        if (changes.Upserts.Count == 0 && changes.Deletes.Count == 0)
        {
            var state = _store.State;
            if ((state.ReplicatedIndex, state.ReplicatedEpoch, state.ReplicatedFiltered) != (primary.Index, primary.Epoch, answer.Filtered) || _holdDirty)
            {
                (state.ReplicatedIndex, state.ReplicatedEpoch, state.ReplicatedFiltered) = (primary.Index, primary.Epoch, answer.Filtered);
                await PersistStateAsync(cancellationToken);
            }
            Applied(primary);
            return new ReplicationApplyResultDto { WithheldDeletes = changes.Withheld };
        }

        // One local index per round: the whole batch becomes visible at once (Consul applies entry by entry).
        var index = _feed.Index + 1;
        var stamped = new List<TEntry>(changes.Upserts.Count);
        foreach (var e in changes.Upserts)
            stamped.Add(_type.Stamp(e, _store.Find(_type.FeedKey(e)) is { } held ? _type.CreateIndex(held) : index, index));
        var deletes = new List<string>(changes.Deletes.Count);
        foreach (var e in changes.Deletes) deletes.Add(_type.FeedKey(e));
        (_store.State.ReplicatedIndex, _store.State.ReplicatedEpoch, _store.State.ReplicatedFiltered) = (primary.Index, primary.Epoch, answer.Filtered);
        await CommitAsync(stamped, deletes, index, cancellationToken);
        Applied(primary);
        ReplicatedRegistryLog.Applied(_logger, _type.Name, _datacenter.Datacenter, stamped.Count, deletes.Count, changes.Withheld, primary.Index);
        return new ReplicationApplyResultDto { Changes = stamped.Count + deletes.Count, WithheldDeletes = changes.Withheld };
    }

    // Visible: readers and WaitForReplicated callers now see the round.
    private void Applied(ReplicationPosition primary)
    {
        _applied = (primary.Index, primary.Epoch);
        _replicated.Notify();
    }

    private async Task PersistStateAsync(CancellationToken ct)
    {
        await _store.WriteStateAsync(ct);
        _persistedReplicated = (_store.State.ReplicatedIndex, _store.State.ReplicatedEpoch, _store.State.ReplicatedFiltered);
        _holdDirty = false;
    }
}

/// <summary>The replicated registries' logs (a generic class cannot hold the generated logging methods).</summary>
internal static partial class ReplicatedRegistryLog
{
    [LoggerMessage(EventId = MeridianEventIds.ReplicationApplied, Level = LogLevel.Debug,
        Message = "Replicated {ReplicationType} into {Datacenter}: {Upserts} upserts, {Deletes} deletes ({Withheld} withheld: filtered answer), primary index {PrimaryIndex}")]
    public static partial void Applied(ILogger logger, string replicationType, string datacenter, int upserts, int deletes, int withheld, ulong primaryIndex);
}
