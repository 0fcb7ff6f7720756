using Meridian.Grains.Intentions;

namespace Meridian.Grains.Tests.Federation;

/// <summary>Scenarios that need their own datacenters: a primary wiped and rebuilt, a standalone datacenter joining.</summary>
[Trait("Category", "Cluster")]
public sealed class PrimaryLifecycleTests
{
    private static IntentionDto Allow(string source, string destination) => new() { SourceName = source, DestinationName = destination, Action = "allow" };

    /// <summary>Waits until <paramref name="dc"/>'s intention replicator reports a hold matching <paramref name="until"/>.</summary>
    private static async Task<ReplicationHoldDto> HeldAsync(DatacenterCluster dc, Func<ReplicationHoldDto, bool>? until = null)
    {
        ReplicationStatusDto status = new();
        await Poll.UntilAsync(async () => (status = await dc.Replicator.GetStatusAsync()).Held is { } h && (until?.Invoke(h) ?? true),
            () => Task.FromResult($"{dc.Name} replicator: held '{status.Held?.Summary}' at primary index {status.Held?.PrimaryIndex}, " +
                $"replicated {status.ReplicatedIndex}@{status.PrimaryEpoch}, last error '{status.LastErrorMessage}'"));
        return status.Held!;
    }

    /// <summary><c>meridian replication adopt</c>'s call: the public datacenter grain, through the gateway as the SDK makes it.</summary>
    private static Task<ReplicationAdoptResultDto> AdoptAsync(DatacenterCluster dc)
        => dc.GatewayClient.GetGrain<IDatacenterGrain>(dc.Name).AdoptPrimaryStateAsync();

    [Fact]
    public async Task RebuiltPrimary_WithLowerIndex_SecondaryKeepsItsPolicyAndShowsTheHold_UntilAdopted()
    {
        var old = await DatacenterCluster.StartAsync("dc1", "dc1");
        await using var secondary = await DatacenterCluster.StartSecondaryAsync("dc2", old);
        IntentionWriteResultDto last = new(0, "");
        foreach (var (s, d) in new[] { ("a", "db"), ("b", "db"), ("c", "cache"), ("d", "queue"), ("e", "web") })
            last = await old.Registry.UpsertAsync(Allow(s, d));
        await secondary.WaitForReplicatedAsync(last.Index);
        await IntentionContent.ConvergedAsync(old, secondary);
        var policy = await IntentionContent.OfAsync(secondary);
        var oldPosition = await secondary.Registry.GetReplicatedPositionAsync();

        // The primary's data is lost; it is rebuilt with fewer intentions, so its index is lower than dc2's.
        await old.DisposeAsync();
        await using var rebuilt = await DatacenterCluster.StartAsync("dc1", "dc1");
        await rebuilt.Registry.UpsertAsync(new() { SourceName = "a", DestinationName = "db", Action = "deny" }); // changed
        var rebuiltIndex = (await rebuilt.Registry.UpsertAsync(Allow("z", "search"))).Index;                     // new
        Assert.True(rebuiltIndex < last.Index, $"rebuilt index {rebuiltIndex} should be below the old {last.Index}");
        var rebuiltEpoch = (await rebuilt.Registry.GetReplicatedPositionAsync()).Epoch;
        await secondary.AdoptPrimaryAsync(rebuilt); // a wiped primary has a new trust domain (issue 12 §3)
        secondary.Link!.PointTo(rebuilt.GatewayClient);

        // Held, not followed: dc2 keeps every intention, and the status says why and what adopting would do.
        var held = await HeldAsync(secondary);
        Assert.Equal("primary-replaced", held.Reason);
        Assert.Equal($"held: primary replaced (epoch {oldPosition.Epoch[..8]}→{rebuiltEpoch[..8]})", held.Summary);
        Assert.Equal((3, 1, 1), (held.Deletes, held.Adds, held.Changes));
        Assert.Equal<string>(["default/cache", "default/queue", "default/web"], held.DeleteNames);
        Assert.Equal<string>(["default/search"], held.AddNames);
        Assert.Equal<string>(["default/db"], held.ChangeNames);
        Assert.Equal((oldPosition.Index, rebuiltIndex), (held.AppliedIndex, held.PrimaryIndex));
        Assert.Equal(policy, await IntentionContent.OfAsync(secondary));
        Assert.Equal(oldPosition, await secondary.Registry.GetReplicatedPositionAsync());
        Assert.True(await secondary.Authorizer.CheckAsync("e", "web"));
        var status = await secondary.Replicator.GetStatusAsync();
        Assert.Contains("meridian replication adopt", status.LastErrorMessage, StringComparison.Ordinal);
        Assert.True(status.LastError > status.LastSuccess);
        var overall = await secondary.Client.GetGrain<IDatacenterGrain>("dc2").GetStatusAsync();
        Assert.Contains("intention replication: held: primary replaced", overall.Degraded, StringComparison.Ordinal);

        // While nothing changes, a held dc2 long-polls the held position: the primary answers nothing new, never its
        // whole state again (a poll from the applied, old-epoch position would get a snapshot at once, in a loop).
        var quiet = rebuilt.ClientCalls.Count;
        List<IntentionChangesDto> answers = [];
        await Poll.UntilAsync(() => Task.FromResult((answers = [.. rebuilt.ClientCalls.Skip(quiet).Select(c => c.Result).OfType<IntentionChangesDto>()]).Count > 0),
            () => Task.FromResult("dc2 made no held round on the rebuilt primary"));
        Assert.True(answers.Count > 0 && answers.All(a => !a.IsSnapshot && a.Index == rebuiltIndex && a.Upserts.IsEmpty),
            $"answers to dc2 while held: {string.Join("; ", answers.Select(a => $"{(a.IsSnapshot ? "snapshot" : "delta")} {a.Index} [{a.Upserts.Length}]"))}");

        // The held round follows the primary's later changes and keeps the time it was first held.
        var calls = rebuilt.ClientCalls.Count;
        var later = (await rebuilt.Registry.UpsertAsync(Allow("y", "search"))).Index;
        var moved = await HeldAsync(secondary, h => h.PrimaryIndex == later);
        Assert.Equal((held.Since, 3, 1, 1), (moved.Since, moved.Deletes, moved.Adds, moved.Changes));
        var polls = rebuilt.ClientCalls.Skip(calls).Count(c => c.Method.StartsWith("WaitForChanges", StringComparison.Ordinal));
        Assert.True(polls <= 4, $"{polls} polls on the rebuilt primary for one change while held");
        Assert.Equal(policy, await IntentionContent.OfAsync(secondary));

        // The operator adopts: the rebuilt primary's state, once; then its changes, deletes included, flow as usual.
        var adopted = await AdoptAsync(secondary);
        Assert.True(adopted.Adopted, adopted.Message);
        Assert.Equal((5, later, rebuiltEpoch), (adopted.Changes, adopted.ReplicatedIndex, adopted.PrimaryEpoch));
        await IntentionContent.ConvergedAsync(rebuilt, secondary);
        Assert.Equal(new IntentionPositionDto(later, rebuiltEpoch), await secondary.Registry.GetReplicatedPositionAsync());
        var deleted = await rebuilt.Registry.DeleteAsync(new() { Source = "a", Destination = "db" }); // the last source: the entry goes
        await secondary.WaitForReplicatedAsync(deleted.Index);
        await IntentionContent.ConvergedAsync(rebuilt, secondary);
        var next = await rebuilt.Registry.UpsertAsync(Allow("x", "search"));
        await secondary.WaitForReplicatedAsync(next.Index);
        await IntentionContent.ConvergedAsync(rebuilt, secondary);
        status = await secondary.Replicator.GetStatusAsync();
        Assert.Equal((next.Index, (ReplicationHoldDto?)null), (status.ReplicatedIndex, status.Held));
        Assert.True(status.LastSuccess > status.LastError);
        var again = await AdoptAsync(secondary);
        Assert.False(again.Adopted);
        Assert.Null(again.Hold);
        Assert.Contains("nothing is held", again.Message, StringComparison.Ordinal);

        // The CA follows the rebuilt primary's root too (a wiped primary means a new root).
        var roots = await rebuilt.Ca.GetRootsAsync();
        await secondary.WaitForSignersOnRootAsync(roots.ActiveRootID);
        var cert = await secondary.Certificate("web").GetAsync();
        CertAssert.ChainsTo(cert.CertPEM, roots.Roots.Single(r => r.Active).RootCert);
    }

    [Fact]
    public async Task EmptyPrimary_RestartedOnAnEmptyStore_SecondariesKeepEveryIntention_UntilEachAdopts()
    {
        var old = await DatacenterCluster.StartAsync("dc1", "dc1");
        await using var dc2 = await DatacenterCluster.StartSecondaryAsync("dc2", old);
        await using var dc3 = await DatacenterCluster.StartSecondaryAsync("dc3", old);
        IntentionWriteResultDto last = new(0, "");
        foreach (var (s, d) in new[] { ("web", "api"), ("api", "db"), ("batch", "db"), ("web", "cache") })
            last = await old.Registry.UpsertAsync(Allow(s, d));
        DatacenterCluster[] secondaries = [dc2, dc3];
        foreach (var dc in secondaries) await dc.WaitForReplicatedAsync(last.Index);
        var policy = await IntentionContent.OfAsync(old);

        // dc1 comes back on an empty database: a new epoch at index 0, no intentions.
        await old.DisposeAsync();
        await using var empty = await DatacenterCluster.StartAsync("dc1", "dc1");
        var emptyEpoch = (await empty.Registry.GetReplicatedPositionAsync()).Epoch;
        foreach (var dc in secondaries) dc.Link!.PointTo(empty.GatewayClient);

        foreach (var dc in secondaries)
        {
            var held = await HeldAsync(dc);
            Assert.Equal("primary-replaced", held.Reason);
            Assert.Equal((3, 0, 0), (held.Deletes, held.Adds, held.Changes));
            Assert.Equal<string>(["default/api", "default/cache", "default/db"], held.DeleteNames);
            Assert.Equal((last.Index, 0ul, emptyEpoch), (held.AppliedIndex, held.PrimaryIndex, held.PrimaryEpoch));
            Assert.Equal(policy, await IntentionContent.OfAsync(dc));
            Assert.True(await dc.Authorizer.CheckAsync("api", "db"), $"{dc.Name} no longer allows api => db");
            var status = await dc.Client.GetGrain<IDatacenterGrain>(dc.Name).GetStatusAsync();
            Assert.Equal((4, held.Summary), (status.IntentionCount, status.IntentionReplication?.Held?.Summary));
        }

        // dc2's operator adopts the empty state; dc3's does not, and dc3 keeps holding.
        var adopted = await AdoptAsync(dc2);
        Assert.True(adopted.Adopted, adopted.Message);
        Assert.Equal(3, adopted.Changes);
        Assert.Empty((await dc2.Registry.ListAsync()).Intentions);
        Assert.Equal(policy, await IntentionContent.OfAsync(dc3));
        Assert.Equal("primary-replaced", (await dc3.Replicator.GetStatusAsync()).Held?.Reason);

        // The next change in the new dc1 reaches dc2 as usual; dc3's hold now shows it as an addition too.
        var next = await empty.Registry.UpsertAsync(Allow("web", "search"));
        await dc2.WaitForReplicatedAsync(next.Index);
        await IntentionContent.ConvergedAsync(empty, dc2);
        var dc3Held = await HeldAsync(dc3, h => h.PrimaryIndex == next.Index);
        Assert.Equal((3, 1), (dc3Held.Deletes, dc3Held.Adds));
        Assert.Equal(policy, await IntentionContent.OfAsync(dc3));
    }

    [Fact]
    public async Task HeldRound_SecondaryRestartedWithThePrimaryUnreachable_IsInStatusAtOnce_AndAdoptableOnceReachable()
    {
        // dc3 ran standalone with intentions of its own, then joined dc1: its first sync is held.
        var store = new DatacenterStore("dc3");
        await using (var standalone = await DatacenterCluster.StartAsync("dc3", "dc3", store: store))
        {
            await standalone.Registry.UpsertAsync(Allow("local-a", "local-db"));
            await standalone.Registry.UpsertAsync(Allow("local-b", "local-cache"));
        }
        await using var primary = await DatacenterCluster.StartAsync("dc1", "dc1");
        var primaryIndex = (await primary.Registry.UpsertAsync(Allow("web", "db"))).Index;
        ReplicationHoldDto held;
        await using (var joined = await DatacenterCluster.StartSecondaryAsync("dc3", primary, store))
        {
            held = await HeldAsync(joined, h => h.PrimaryIndex == primaryIndex);
            Assert.Equal("first-sync", held.Reason);
            Assert.Equal((held.Reason, held.Since), (store.Latest<IntentionRegistryState>("dc3")?.Hold?.Reason, store.Latest<IntentionRegistryState>("dc3")?.Hold?.Since));
        }

        // Restarted on its store while the primary cannot be reached: no round runs, yet the hold (with the time it
        // was first seen) is in the status at once, and the datacenter keeps its own intentions.
        var link = new TestPrimaryLink("dc1");
        link.PointTo(primary.GatewayClient);
        await using var restarted = await DatacenterCluster.StartAsync("dc3", "dc1", link, store);
        var status = await restarted.Replicator.GetStatusAsync();
        Assert.Equal((held.Reason, held.Since, held.PrimaryIndex, held.Deletes, held.Adds),
            (status.Held?.Reason, status.Held?.Since, status.Held?.PrimaryIndex, status.Held?.Deletes, status.Held?.Adds));
        var progress = await restarted.Registry.GetReplicationProgressAsync();
        Assert.Equal((0ul, held.Since), (progress.Index, progress.Held?.Since));
        Assert.Equal(2, (await IntentionContent.OfAsync(restarted)).Count);

        // Once the primary is reachable the operator adopts the held state; the hold is gone, in memory and in storage.
        link.Connect();
        var adopted = await AdoptAsync(restarted);
        Assert.True(adopted.Adopted, adopted.Message);
        Assert.Equal("first-sync", adopted.Hold?.Reason);
        await IntentionContent.ConvergedAsync(primary, restarted);
        Assert.Null((await restarted.Registry.GetReplicationProgressAsync()).Held);
        Assert.Null(store.Latest<IntentionRegistryState>("dc3")?.Hold);
        Assert.Null((await restarted.Replicator.GetStatusAsync()).Held);
    }

    [Fact]
    public async Task FirstSync_IntoDatacenterWithOwnIntentions_IsRefusedWithDiff_UnlessAdopting()
    {
        // dc3 ran standalone (its own primary) and has intentions of its own.
        var store = new DatacenterStore("dc3");
        await using (var standalone = await DatacenterCluster.StartAsync("dc3", "dc3", store: store))
        {
            await standalone.Registry.UpsertAsync(Allow("local-a", "local-db"));
            await standalone.Registry.UpsertAsync(Allow("local-b", "local-cache"));
        }
        await using var primary = await DatacenterCluster.StartAsync("dc1", "dc1");
        await primary.Registry.UpsertAsync(Allow("web", "db"));
        var primaryIndex = (await primary.Registry.UpsertAsync(Allow("api", "db"))).Index;
        IReadOnlyList<IntentionContent> own;

        // Joined as a secondary on the same data, without AdoptPrimaryState: held, nothing deleted.
        await using (var joined = await DatacenterCluster.StartSecondaryAsync("dc3", primary, store))
        {
            own = await IntentionContent.OfAsync(joined);
            Assert.Equal(2, own.Count);
            ReplicationStatusDto status = new();
            await Poll.UntilAsync(async () => (status = await joined.Replicator.GetStatusAsync()).LastErrorMessage.Contains("held: first sync", StringComparison.Ordinal),
                () => Task.FromResult($"dc3 replicator: LastSuccess {status.LastSuccess:O}, LastError {status.LastError:O} '{status.LastErrorMessage}'"));
            Assert.Equal("first-sync", status.Held?.Reason);
            Assert.Contains("would delete 2 (", status.LastErrorMessage, StringComparison.Ordinal);
            Assert.Contains("default/local-db", status.LastErrorMessage, StringComparison.Ordinal);
            Assert.Contains("default/local-cache", status.LastErrorMessage, StringComparison.Ordinal);
            Assert.Contains("add 1 (default/db)", status.LastErrorMessage, StringComparison.Ordinal);
            Assert.Contains("AdoptPrimaryState", status.LastErrorMessage, StringComparison.Ordinal);
            Assert.True(status.LastError > status.LastSuccess);
            Assert.Equal(own, await IntentionContent.OfAsync(joined));
            Assert.Equal(0ul, await joined.Registry.GetReplicatedIndexAsync());
            // SPEC §5 item 5: the primary answered with its index, nothing was applied; the lag is all of it, not 0.
            Assert.Equal((0ul, primaryIndex, primaryIndex), (status.ReplicatedIndex, status.PrimaryIndex, status.Lag));
            Assert.Null(status.LastSuccessAge);
        }
        Assert.NotEqual(await IntentionContent.OfAsync(primary), own);

        // The operator acknowledges: restarted with AdoptPrimaryState=true, dc3 takes exactly the primary's state.
        await using var adopted = await DatacenterCluster.StartSecondaryAsync("dc3", primary, store, adoptPrimaryState: true);
        await adopted.WaitForReplicatedAsync(primaryIndex);
        await IntentionContent.ConvergedAsync(primary, adopted);
        Assert.DoesNotContain((await adopted.Registry.ListAsync()).Intentions, i => i.DestinationName.StartsWith("local-", StringComparison.Ordinal));
        // Caught up: no lag, and the last success is recent.
        ReplicationStatusDto caughtUp = new();
        await Poll.UntilAsync(async () => (caughtUp = await adopted.Replicator.GetStatusAsync()).ReplicatedIndex == primaryIndex,
            () => Task.FromResult($"dc3 status: replicated {caughtUp.ReplicatedIndex}, primary {caughtUp.PrimaryIndex}, '{caughtUp.LastErrorMessage}'"));
        Assert.Equal((primaryIndex, 0ul), (caughtUp.PrimaryIndex, caughtUp.Lag));
        Assert.True(caughtUp.LastSuccessAge is { } age && age >= TimeSpan.Zero && age < Poll.Timeout, $"LastSuccessAge {caughtUp.LastSuccessAge}");
    }

    [Fact]
    public async Task Secondary_WhosePrimaryGatewaysReachAnotherSecondary_ReportsRoleMismatch_AndAppliesNothing()
    {
        await using var primary = await DatacenterCluster.StartAsync("dc1", "dc1");
        await using var dc2 = await DatacenterCluster.StartSecondaryAsync("dc2", primary);
        var index = (await primary.Registry.UpsertAsync(Allow("web", "db"))).Index;
        await dc2.WaitForReplicatedAsync(index);

        // dc3 is configured with primary dc1, but its primary gateways lead to dc2's cluster (Consul #6847).
        var link = new TestPrimaryLink("dc1");
        link.PointTo(dc2.GatewayClient);
        link.Connect();
        await using var dc3 = await DatacenterCluster.StartAsync("dc3", "dc1", link);
        ReplicationStatusDto intentions = new(), roots = new();
        var watcher = dc3.Client.GetGrain<IRootWatcherGrain>("dc3");
        await Poll.UntilAsync(async () =>
            {
                (intentions, roots) = (await dc3.Replicator.GetStatusAsync(), await watcher.GetStatusAsync());
                return intentions.LastErrorMessage.Contains("role mismatch", StringComparison.Ordinal)
                    && roots.LastErrorMessage.Contains("role mismatch", StringComparison.Ordinal);
            },
            () => Task.FromResult($"dc3 intentions: '{intentions.LastErrorMessage}' (replicated {intentions.ReplicatedIndex}); roots: '{roots.LastErrorMessage}'"));
        // The status says what the remote is: it serves dc2, not dc1.
        Assert.Contains("configured with primary dc1", intentions.LastErrorMessage, StringComparison.Ordinal);
        Assert.Contains("serves datacenter dc2", intentions.LastErrorMessage, StringComparison.Ordinal);
        Assert.True(intentions.LastError > intentions.LastSuccess);
        Assert.Equal(0ul, intentions.ReplicatedIndex);
        Assert.Empty((await dc3.Registry.ListAsync()).Intentions);
        Assert.Equal(0ul, await dc3.Registry.GetReplicatedIndexAsync());
        // Nothing was even read from dc2: the check comes before any long-poll.
        Assert.DoesNotContain(dc2.ClientCalls, c => c.Method.StartsWith("WaitForChanges", StringComparison.Ordinal)
            || c.Method.StartsWith("WaitForRootsChange", StringComparison.Ordinal));
        var overall = await dc3.Client.GetGrain<IDatacenterGrain>("dc3").GetStatusAsync();
        Assert.Contains("intention replication: role mismatch", overall.Degraded, StringComparison.Ordinal);

        // Pointed at the real primary (a reconnection), the check passes and replication catches up.
        link.PointTo(primary.GatewayClient);
        await dc3.WaitForReplicatedAsync(index);
        await IntentionContent.ConvergedAsync(primary, dc3);
        await Poll.UntilAsync(async () => (intentions = await dc3.Replicator.GetStatusAsync()).LastSuccess > intentions.LastError,
            () => Task.FromResult($"dc3 intentions: '{intentions.LastErrorMessage}'"));
    }
}
