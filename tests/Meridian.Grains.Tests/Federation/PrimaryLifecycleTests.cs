namespace Meridian.Grains.Tests.Federation;

/// <summary>Scenarios that need their own datacenters: a primary wiped and rebuilt, a standalone datacenter joining.</summary>
[Trait("Category", "Cluster")]
public sealed class PrimaryLifecycleTests
{
    private static IntentionDto Allow(string source, string destination) => new() { SourceName = source, DestinationName = destination, Action = "allow" };

    [Fact]
    public async Task RebuiltPrimary_WithLowerIndex_SecondaryFullyResyncsToItsContent()
    {
        var old = await DatacenterCluster.StartAsync("dc1", "dc1");
        await using var secondary = await DatacenterCluster.StartSecondaryAsync("dc2", old);
        IntentionWriteResultDto last = new(0, "");
        foreach (var (s, d) in new[] { ("a", "db"), ("b", "db"), ("c", "cache"), ("d", "queue"), ("e", "web") })
            last = await old.Registry.UpsertAsync(Allow(s, d));
        await secondary.WaitForReplicatedAsync(last.Index);
        await IntentionContent.ConvergedAsync(old, secondary);

        // The primary's data is lost; it is rebuilt with fewer intentions, so its index is lower than dc2's.
        await old.DisposeAsync();
        await using var rebuilt = await DatacenterCluster.StartAsync("dc1", "dc1");
        await rebuilt.Registry.UpsertAsync(new() { SourceName = "a", DestinationName = "db", Action = "deny" }); // changed
        var rebuiltIndex = (await rebuilt.Registry.UpsertAsync(Allow("z", "search"))).Index;                     // new
        Assert.True(rebuiltIndex < last.Index, $"rebuilt index {rebuiltIndex} should be below the old {last.Index}");
        await secondary.AdoptPrimaryAsync(rebuilt); // a wiped primary has a new trust domain (issue 12 §3)
        secondary.Link!.PointTo(rebuilt.GatewayClient);

        await IntentionContent.ConvergedAsync(rebuilt, secondary);
        Assert.Equal(2, (await secondary.Registry.ListAsync()).Intentions.Length);
        Assert.Equal(rebuiltIndex, await secondary.Registry.GetReplicatedIndexAsync());

        // Replication goes on from the rebuilt primary's index (not stuck waiting for the old, higher one).
        var next = await rebuilt.Registry.UpsertAsync(Allow("y", "search"));
        await secondary.WaitForReplicatedAsync(next.Index);
        await IntentionContent.ConvergedAsync(rebuilt, secondary);
        var status = await secondary.Replicator.GetStatusAsync();
        Assert.Equal(next.Index, status.ReplicatedIndex);

        // The CA follows the rebuilt primary's root too (a wiped primary means a new root).
        var roots = await rebuilt.Ca.GetRootsAsync();
        await secondary.WaitForSignersOnRootAsync(roots.ActiveRootID);
        var cert = await secondary.Certificate("web").GetAsync();
        CertAssert.ChainsTo(cert.CertPEM, roots.Roots.Single(r => r.Active).RootCert);
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

        // Joined as a secondary on the same data, without AdoptPrimaryState: refused, nothing deleted.
        await using (var joined = await DatacenterCluster.StartSecondaryAsync("dc3", primary, store))
        {
            own = await IntentionContent.OfAsync(joined);
            Assert.Equal(2, own.Count);
            ReplicationStatusDto status = new();
            await Poll.UntilAsync(async () => (status = await joined.Replicator.GetStatusAsync()).LastErrorMessage.Contains("refusing the first sync", StringComparison.Ordinal),
                () => Task.FromResult($"dc3 replicator: LastSuccess {status.LastSuccess:O}, LastError {status.LastError:O} '{status.LastErrorMessage}'"));
            Assert.Contains("would delete 2 (", status.LastErrorMessage, StringComparison.Ordinal);
            Assert.Contains("default/local-db", status.LastErrorMessage, StringComparison.Ordinal);
            Assert.Contains("default/local-cache", status.LastErrorMessage, StringComparison.Ordinal);
            Assert.Contains("write 1 (default/db)", status.LastErrorMessage, StringComparison.Ordinal);
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
