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
        secondary.Link!.PointTo(rebuilt.Client);

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
        }
        Assert.NotEqual(await IntentionContent.OfAsync(primary), own);

        // The operator acknowledges: restarted with AdoptPrimaryState=true, dc3 takes exactly the primary's state.
        await using var adopted = await DatacenterCluster.StartSecondaryAsync("dc3", primary, store, adoptPrimaryState: true);
        await adopted.WaitForReplicatedAsync(primaryIndex);
        await IntentionContent.ConvergedAsync(primary, adopted);
        Assert.DoesNotContain((await adopted.Registry.ListAsync()).Intentions, i => i.DestinationName.StartsWith("local-", StringComparison.Ordinal));
    }
}
