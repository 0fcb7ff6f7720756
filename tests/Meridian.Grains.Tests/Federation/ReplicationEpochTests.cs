using Meridian.Grains.Intentions;

namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// The registry's epoch in replication: a primary rebuilt on a wiped store is noticed even at the secondary's index,
/// and a secondary that only lost the link (or restarted) resumes with a delta. Each test runs its own datacenters;
/// what crossed a secondary's link is read from the primary's recorded client calls (the answers on the wire).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ReplicationEpochTests
{
    private static IntentionDto Allow(string source, string destination) => new() { SourceName = source, DestinationName = destination, Action = "allow" };

    private static IntentionDto Deny(string source, string destination) => Allow(source, destination) with { Action = "deny" };

    /// <summary>The replicator's long-polls on the primary (the epoch-aware overload), in the order they were answered.</summary>
    private static List<(IntentionPositionDto After, IntentionChangesDto Answer)> Polls(DatacenterCluster primary, int skip = 0)
        => [.. primary.ClientCalls.Skip(skip)
            .Where(c => c.Arguments.FirstOrDefault() is IntentionPositionDto && c.Result is IntentionChangesDto)
            .Select(c => ((IntentionPositionDto)c.Arguments[0]!, (IntentionChangesDto)c.Result!))];

    private static string Describe(IEnumerable<(IntentionPositionDto After, IntentionChangesDto Answer)> polls)
        => string.Join("; ", polls.Select(p =>
            $"after {p.After.Index}@{p.After.Epoch} -> {(p.Answer.IsSnapshot ? "snapshot" : "delta")} {p.Answer.Index}@{p.Answer.Epoch} " +
            $"[{string.Join(",", p.Answer.Upserts.Select(e => e.Name))}] -[{string.Join(",", p.Answer.DeletedDestinations)}]"));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RebuiltPrimary_ReachingTheSecondarysIndex_WithOtherContent_SecondaryConverges(bool secondaryRestarts)
    {
        var secondaryStore = new DatacenterStore("dc2");
        var old = await DatacenterCluster.StartAsync("dc1", "dc1");
        // AdoptPrimaryState: this dc2 follows a replaced primary without asking (without it the rebuilt store's
        // round is held for the operator: PrimaryLifecycleTests), so what is tested here is that the epoch is noticed.
        var secondary = await DatacenterCluster.StartSecondaryAsync("dc2", old, secondaryStore, adoptPrimaryState: true);
        try
        {
            IntentionWriteResultDto last = new(0, "");
            foreach (var (s, d) in new[] { ("a", "db"), ("b", "cache"), ("c", "queue") })
                last = await old.Registry.UpsertAsync(Allow(s, d));
            await secondary.WaitForReplicatedAsync(last.Index);
            var oldEpoch = (await old.Registry.GetReplicatedPositionAsync()).Epoch;
            Assert.Equal(new IntentionPositionDto(last.Index, oldEpoch), await secondary.Registry.GetReplicatedPositionAsync());

            // The primary's data is lost and rebuilt with as many writes, to other content on the same destinations
            // (so the secondary deletes no destination: only the epoch tells the two stores apart).
            if (secondaryRestarts) await secondary.DisposeAsync();
            await old.DisposeAsync();
            await using var rebuilt = await DatacenterCluster.StartAsync("dc1", "dc1");
            await rebuilt.Registry.UpsertAsync(Deny("a", "db"));
            await rebuilt.Registry.UpsertAsync(Allow("x", "cache"));
            var rebuiltLast = await rebuilt.Registry.UpsertAsync(Deny("c", "queue"));
            Assert.Equal(last.Index, rebuiltLast.Index);
            var rebuiltEpoch = (await rebuilt.Registry.GetReplicatedPositionAsync()).Epoch;
            Assert.NotEqual(oldEpoch, rebuiltEpoch);

            if (secondaryRestarts) secondary = await DatacenterCluster.StartSecondaryAsync("dc2", rebuilt, secondaryStore, adoptPrimaryState: true);
            await secondary.AdoptPrimaryAsync(rebuilt); // a wiped primary has a new trust domain (issue 12 §3)
            if (!secondaryRestarts) secondary.Link!.PointTo(rebuilt.GatewayClient);

            await IntentionContent.ConvergedAsync(rebuilt, secondary);
            Assert.Equal(
                [("a", "db", "deny"), ("c", "queue", "deny"), ("x", "cache", "allow")],
                (await secondary.Registry.ListAsync()).Intentions.Select(i => (i.SourceName, i.DestinationName, i.Action)).Order());
            Assert.Equal(new IntentionPositionDto(rebuiltLast.Index, rebuiltEpoch), await secondary.Registry.GetReplicatedPositionAsync());
            // Persisted together with the index, although the index did not move.
            var stored = secondaryStore.Latest<IntentionRegistryState>("dc2");
            Assert.Equal((rebuiltLast.Index, rebuiltEpoch), (stored?.ReplicatedIndex, stored?.ReplicatedEpoch));

            // The rebuilt primary answered the secondary's old position with a snapshot, and the status names its epoch.
            var polls = Polls(rebuilt);
            Assert.True(polls.Count > 0 && polls[0].After == new IntentionPositionDto(last.Index, oldEpoch) && polls[0].Answer.IsSnapshot,
                $"first polls on the rebuilt primary: {Describe(polls)}");
            ReplicationStatusDto status = new();
            await Poll.UntilAsync(async () => (status = await secondary.Replicator.GetStatusAsync()).PrimaryEpoch == rebuiltEpoch,
                () => Task.FromResult($"dc2 replicator status: epoch '{status.PrimaryEpoch}' at {status.ReplicatedIndex}, expected {rebuiltEpoch}; " +
                    $"last error '{status.LastErrorMessage}'"));
        }
        finally
        {
            await secondary.DisposeAsync();
        }
    }

    [Fact]
    public async Task LinkDropsAndReturns_SamePrimaryEpoch_NextRoundIsADeltaOfWhatChanged()
    {
        await using var primary = await DatacenterCluster.StartAsync("dc1", "dc1");
        await using var secondary = await DatacenterCluster.StartSecondaryAsync("dc2", primary);
        IntentionWriteResultDto seeded = new(0, "");
        foreach (var (s, d) in new[] { ("a", "db"), ("b", "cache"), ("c", "queue"), ("d", "web") })
            seeded = await primary.Registry.UpsertAsync(Allow(s, d));
        await secondary.WaitForReplicatedAsync(seeded.Index);
        var epoch = (await primary.Registry.GetReplicatedPositionAsync()).Epoch;

        var link = secondary.Link!;
        var cut = DateTimeOffset.UtcNow;
        link.Disconnect();
        try
        {
            ReplicationStatusDto status = new();
            await Poll.UntilAsync(async () => (status = await secondary.Replicator.GetStatusAsync()).LastError > status.LastSuccess && status.LastError >= cut,
                () => Task.FromResult($"dc2 replicator after the cut: LastSuccess {status.LastSuccess:O}, LastError {status.LastError:O} '{status.LastErrorMessage}'"));
            var before = primary.ClientCalls.Count;
            var changed = await primary.Registry.UpsertAsync(Deny("b", "cache")); // one entry changes while dc2 is cut off
            link.Connect();
            await secondary.WaitForReplicatedAsync(changed.Index);
            await IntentionContent.ConvergedAsync(primary, secondary);

            var polls = Polls(primary, before);
            Assert.True(polls.Count > 0, "no poll reached the primary after the link came back");
            var (after, answer) = polls[0];
            Assert.Equal(new IntentionPositionDto(seeded.Index, epoch), after); // the applied position, not a reset to 0
            Assert.False(answer.IsSnapshot, $"polls after the reconnect: {Describe(polls)}");
            Assert.Equal((changed.Index, epoch), (answer.Index, answer.Epoch));
            Assert.Equal(["cache"], answer.Upserts.Select(e => e.Name));
            Assert.Empty(answer.DeletedDestinations);
            Assert.DoesNotContain(polls, p => p.Answer.IsSnapshot);
            Assert.Equal(new IntentionPositionDto(changed.Index, epoch), await secondary.Registry.GetReplicatedPositionAsync());
        }
        finally
        {
            link.Connect();
        }
    }

    [Fact]
    public async Task Epochs_SurviveRestarts_AndARestartedSecondaryResumesWithADelta()
    {
        var (primaryStore, secondaryStore) = (new DatacenterStore("dc1"), new DatacenterStore("dc2"));
        string epoch, secondaryOwnEpoch;
        ulong seeded;
        await using (var primary = await DatacenterCluster.StartAsync("dc1", "dc1", store: primaryStore))
        await using (var secondary = await DatacenterCluster.StartSecondaryAsync("dc2", primary, secondaryStore))
        {
            seeded = (await primary.Registry.UpsertAsync(Allow("a", "db"))).Index;
            await secondary.WaitForReplicatedAsync(seeded);
            epoch = (await primary.Registry.GetReplicatedPositionAsync()).Epoch;
            Assert.Matches("^[0-9a-f]{32}$", epoch);
            Assert.Equal(epoch, primaryStore.Latest<IntentionRegistryState>("dc1")?.Epoch);
            Assert.Equal(new IntentionPositionDto(seeded, epoch), await secondary.Registry.GetReplicatedPositionAsync());
            secondaryOwnEpoch = (await secondary.Registry.WaitForChangesAsync(0, TimeSpan.Zero)).Epoch;
            Assert.NotEqual(epoch, secondaryOwnEpoch); // each store has its own
        }

        // Both datacenters restart on their stores: same epochs, and replication resumes where it was.
        await using var restarted = await DatacenterCluster.StartAsync("dc1", "dc1", store: primaryStore);
        Assert.Equal(new IntentionPositionDto(seeded, epoch), await restarted.Registry.GetReplicatedPositionAsync());
        await using var resumed = await DatacenterCluster.StartSecondaryAsync("dc2", restarted, secondaryStore);
        Assert.Equal(new IntentionPositionDto(seeded, epoch), await resumed.Registry.GetReplicatedPositionAsync());
        Assert.Equal(secondaryOwnEpoch, (await resumed.Registry.WaitForChangesAsync(0, TimeSpan.Zero)).Epoch);

        var next = await restarted.Registry.UpsertAsync(Allow("b", "cache"));
        await resumed.WaitForReplicatedAsync(next.Index);
        await IntentionContent.ConvergedAsync(restarted, resumed);
        var polls = Polls(restarted);
        Assert.True(polls.Count > 0 && polls[0].After == new IntentionPositionDto(seeded, epoch), $"polls on the restarted primary: {Describe(polls)}");
        Assert.DoesNotContain(polls, p => p.Answer.IsSnapshot);
        Assert.Equal(new IntentionPositionDto(next.Index, epoch), await resumed.Registry.GetReplicatedPositionAsync());
    }
}
