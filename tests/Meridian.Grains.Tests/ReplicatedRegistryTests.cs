using Meridian.Core.Federation;
using Meridian.Core.Replication;
using Meridian.Grains.Hosting;
using Meridian.Grains.Replication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meridian.Grains.Tests;

/// <summary>
/// The replicated registry component over a type that is not intentions (a token-like entry, as the ACL registries
/// will hold) and a store in memory: epoch, commit, feed, apply, hold and its persistence, without a cluster.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReplicatedRegistryTests
{
    private sealed record Token(string Id, string Description, ulong CreateIndex = 0, ulong ModifyIndex = 0);

    private static readonly ReplicatedEntryType<Token, string> TokenType = new(
        "acl-tokens", new ReplicaShape<Token, string>(t => t.Id, StringComparer.Ordinal, t => t.Description, t => t.ModifyIndex),
        t => t.Id, t => t.Id, t => t.CreateIndex, (t, created, modified) => t with { CreateIndex = created, ModifyIndex = modified });

    private sealed class State : IReplicatedRegistryState
    {
        public ulong Index { get; set; }
        public string Epoch { get; set; } = "";
        public ulong ReplicatedIndex { get; set; }
        public string ReplicatedEpoch { get; set; } = "";
        public ReplicationHoldDto? Hold { get; set; }
        public bool ReplicatedFiltered { get; set; }
        public State Copy() => (State)MemberwiseClone();
    }

    /// <summary>A "database" (rows and the last state written) that outlives a registry, and the visible copy.</summary>
    private sealed class Store(Dictionary<string, Token>? rows = null, State? persisted = null) : IReplicaStore<Token>
    {
        private readonly State _state = persisted?.Copy() ?? new State();
        public Dictionary<string, Token> Rows { get; } = rows is null ? [] : new(rows);
        public Dictionary<string, Token> Visible { get; } = rows is null ? [] : new(rows);
        public State? Persisted { get; private set; } = persisted?.Copy();
        public int StateWrites { get; private set; }

        public IReplicatedRegistryState State => _state;

        public Task WriteStateAsync(CancellationToken cancellationToken)
        {
            (Persisted, StateWrites) = (_state.Copy(), StateWrites + 1);
            return Task.CompletedTask;
        }

        public Token? Find(string key) => Visible.GetValueOrDefault(key);
        public IReadOnlyList<Token> Entries() => [.. Visible.Values];
        public int Count => Visible.Count;

        public Task WriteAsync(IReadOnlyList<Token> upserts, IReadOnlyList<string> upsertKeys, IReadOnlyList<string> deletes, CancellationToken cancellationToken)
        {
            for (var i = 0; i < upserts.Count; i++) Rows[upsertKeys[i]] = upserts[i];
            foreach (var k in deletes) Rows.Remove(k);
            return Task.CompletedTask;
        }

        public void Publish(IReadOnlyList<Token> upserts, IReadOnlyList<string> deletes, ulong index)
        {
            foreach (var t in upserts) Visible[t.Id] = t;
            foreach (var k in deletes) Visible.Remove(k);
        }

        public Store Restarted() => new(Rows, Persisted);
    }

    private static async Task<ReplicatedRegistry<Token, string>> StartAsync(Store store, bool primary)
    {
        var datacenter = new DatacenterContext(primary ? "dc1" : "dc2", "dc1", "", "Memory");
        var registry = new ReplicatedRegistry<Token, string>(TokenType, store, datacenter,
            new SiloStopping(new ServiceCollection().BuildServiceProvider()), TimeProvider.System, NullLogger.Instance);
        await registry.ActivateAsync(store.Rows.Count == 0 ? 0 : store.Rows.Values.Max(t => t.ModifyIndex), CancellationToken.None);
        return registry;
    }

    private static ReplicatedAnswer<Token> Snapshot(ulong index, string epoch, bool filtered, params Token[] tokens)
        => new(new ReplicationPosition(index, epoch), IsSnapshot: true, filtered, tokens, []);

    private static string[] Ids(Store store) => [.. store.Visible.Keys.Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Primary_FirstActivationCreatesADurableEpoch_CommitsFeedTheLongPoll()
    {
        var store = new Store();
        var registry = await StartAsync(store, primary: true);
        Assert.Matches("^[0-9a-f]{32}$", registry.Epoch);
        Assert.Equal((1, registry.Epoch), (store.StateWrites, store.Persisted?.Epoch));

        var start = registry.ReplicatedPosition;
        Assert.True(registry.IsUpToDate(start));
        var woken = registry.WaitForChangeAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        await registry.CommitAsync([new Token("a", "first", 1, 1), new Token("b", "second", 1, 1)], [], 1, CancellationToken.None);
        await woken.WaitAsync(TimeSpan.FromSeconds(10));
        var one = registry.ReplicatedPosition;
        await registry.CommitAsync([new Token("c", "third", 2, 2)], ["a"], 2, CancellationToken.None);

        Assert.Equal(["b", "c"], Ids(store));
        Assert.Equal(["b", "c"], store.Rows.Keys.Order(StringComparer.Ordinal));
        var delta = registry.Since(one);
        Assert.Equal(SnapshotReason.None, delta.Snapshot);
        Assert.Equal(["a", "c"], delta.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(SnapshotReason.NothingHeld, registry.Since(start).Snapshot);
        Assert.Equal(SnapshotReason.OtherEpoch, registry.Since(new ReplicationPosition(2, "another")).Snapshot);
        Assert.Equal(2ul, store.Persisted?.Index); // the delete persisted the index (no row carries it)

        // Restarted on the same store: the same epoch, no write, the index from the state and the rows.
        var restartedStore = store.Restarted();
        var restarted = await StartAsync(restartedStore, primary: true);
        Assert.Equal((registry.Epoch, 2ul, 0), (restarted.Epoch, restarted.Index, restartedStore.StateWrites));
    }

    [Fact]
    public async Task Secondary_AppliesSnapshotsAndDeltas_HoldsAReplacedPrimary_PersistsTheHold_AdoptClearsIt()
    {
        var store = new Store();
        var registry = await StartAsync(store, primary: false);
        Assert.Null((await registry.ApplyAsync(Snapshot(5, "e1", false, new("a", "x", 1, 1), new("b", "y", 2, 2)), adopt: false, CancellationToken.None)).Held);
        var delta = await registry.ApplyAsync(new ReplicatedAnswer<Token>(new(6, "e1"), false, false, [new("c", "z", 6, 6)], ["a"]), false, CancellationToken.None);
        Assert.Equal(2, delta.Changes);
        Assert.Equal(["b", "c"], Ids(store));
        Assert.Equal(new ReplicationPosition(6, "e1"), registry.ReplicatedPosition);
        Assert.Equal(2ul, store.Visible["c"].CreateIndex); // stamped with the local index of its round

        // The primary was replaced (epoch e2) and holds only "b", changed: held, nothing applied, the hold persisted.
        var held = (await registry.ApplyAsync(Snapshot(1, "e2", false, new Token("b", "changed", 1, 1)), false, CancellationToken.None)).Held;
        Assert.Equal(("primary-replaced", 1, 1), (held?.Reason, held?.Deletes, held?.Changes));
        Assert.Equal(["b", "c"], Ids(store));
        Assert.Equal(new ReplicationPosition(6, "e1"), registry.ReplicatedPosition);
        Assert.Equal(held?.Since, store.Persisted?.Hold?.Since);

        // After a restart the hold is there at once and keeps the time it was first seen when the round comes again.
        var restartedStore = store.Restarted();
        var restarted = await StartAsync(restartedStore, primary: false);
        Assert.Equal(held?.Since, restarted.Hold?.Since);
        var again = (await restarted.ApplyAsync(Snapshot(1, "e2", false, new Token("b", "changed", 1, 1)), false, CancellationToken.None)).Held;
        Assert.Equal(held?.Since, again?.Since);

        // Adopted: applied once, and the hold is cleared in memory and in the store.
        var adopted = await restarted.ApplyAsync(Snapshot(1, "e2", false, new Token("b", "changed", 1, 1)), adopt: true, CancellationToken.None);
        Assert.Equal((2, (ReplicationHoldDto?)null), (adopted.Changes, adopted.Held));
        Assert.Equal(["b"], Ids(restartedStore));
        Assert.Null(restartedStore.Persisted?.Hold);
        Assert.Equal((1ul, "e2"), (restartedStore.Persisted?.ReplicatedIndex, restartedStore.Persisted?.ReplicatedEpoch));
    }

    [Fact]
    public async Task Secondary_FilteredSnapshot_WithholdsDeletes_AndAnEmptyOneIsNotAWipe()
    {
        var store = new Store();
        var registry = await StartAsync(store, primary: false);
        await registry.ApplyAsync(Snapshot(5, "e1", false, new("a", "x", 1, 1), new("b", "y", 2, 2)), adopt: false, CancellationToken.None);

        // A token that can read nothing gets an empty, filtered snapshot: not "the primary deleted everything".
        var empty = await registry.ApplyAsync(Snapshot(6, "e1", true), adopt: false, CancellationToken.None);
        Assert.Equal((0, 2, (ReplicationHoldDto?)null), (empty.Changes, empty.WithheldDeletes, empty.Held));
        Assert.Equal(["a", "b"], Ids(store));
        Assert.Equal(new ReplicationPosition(6, "e1"), registry.ReplicatedPosition);

        // Unfiltered, the same empty snapshot would delete everything: held for the operator instead.
        var wipe = await registry.ApplyAsync(Snapshot(7, "e1", false), adopt: false, CancellationToken.None);
        Assert.Equal("deletes-everything", wipe.Held?.Reason);
        Assert.Equal(["a", "b"], Ids(store));
    }
}
