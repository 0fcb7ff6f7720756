using System.Collections.Immutable;

namespace Meridian.Grains.Tests.Federation;

[Collection(FederationCollection.Name), Trait("Category", "Cluster")]
public sealed class IntentionReplicationTests(TwoDatacenterFixture fx)
{
    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private static string Uri(string trustDomain, string dc, string service) => $"spiffe://{trustDomain}/ns/default/dc/{dc}/svc/{service}";

    [Fact]
    public async Task CreateUpdateDelete_InPrimary_SecondariesConverge_WithStatus()
    {
        var started = DateTimeOffset.UtcNow;
        var (web, api, db) = (Fresh("web"), Fresh("api"), Fresh("db"));
        await fx.Dc1.Registry.UpsertAsync(new() { SourceName = web, DestinationName = db, Action = "allow" });
        await fx.Dc1.Registry.UpsertAsync(new() { SourceName = api, DestinationName = db, Action = "allow" });
        var updated = await fx.Dc1.Registry.UpsertAsync(new()
        {
            SourceName = web, DestinationName = db, Action = "deny", Description = "updated", Meta = ImmutableDictionary<string, string>.Empty.Add("owner", "team-a"),
        });
        var deleted = await fx.Dc1.Registry.DeleteAsync(new() { Source = api, Destination = db });
        Assert.True(deleted.Index > updated.Index, $"delete committed at {deleted.Index}, after the update at {updated.Index}");
        Assert.Equal("dc1", deleted.CommittedIn);

        foreach (var dc in fx.Secondaries)
        {
            await dc.WaitForReplicatedAsync(deleted.Index);
            await IntentionContent.ConvergedAsync(fx.Dc1, dc);
            var web2 = await dc.Registry.GetAsync(new() { Source = web, Destination = db });
            Assert.Equal(("deny", "updated", "team-a"), (web2.Action, web2.Description, web2.Meta["owner"]));
            await Assert.ThrowsAsync<MeridianNotFoundException>(() => dc.Registry.GetAsync(new() { Source = api, Destination = db }));

            // The replicator records its round after the registry applied it: wait for the status to catch up.
            var status = await dc.Replicator.GetStatusAsync();
            await Poll.UntilAsync(async () =>
                {
                    status = await dc.Replicator.GetStatusAsync();
                    return status.ReplicatedIndex >= deleted.Index && status.LastSuccess >= started;
                },
                () => Task.FromResult($"{dc.Name} status: ReplicatedIndex {status.ReplicatedIndex}, LastSuccess {status.LastSuccess:O}, " +
                    $"LastError {status.LastError:O} {status.LastErrorMessage}"));
            Assert.True(status.Enabled, $"{dc.Name} replicator enabled");
            Assert.True(status.Running, $"{dc.Name} replicator running");
            Assert.Equal(("dc1", "intentions"), (status.SourceDatacenter, status.ReplicationType));
            Assert.True(status.ReplicatedIndex >= deleted.Index, $"{dc.Name} status ReplicatedIndex {status.ReplicatedIndex} < {deleted.Index}");
            Assert.True(status.LastSuccess >= started, $"{dc.Name} LastSuccess {status.LastSuccess:O} before the test started {started:O}");
            Assert.True(status.LastSuccess > status.LastError, $"{dc.Name} LastError {status.LastError:O} newer than LastSuccess {status.LastSuccess:O}: {status.LastErrorMessage}");
            Assert.Equal(status.PrimaryIndex - status.ReplicatedIndex, status.Lag);
        }
        var primaryStatus = await fx.Dc1.Replicator.GetStatusAsync();
        Assert.False(primaryStatus.Enabled, "the primary replicates from no one");
    }

    [Fact]
    public async Task DatacenterStatus_ListsEveryReplicatorOfTheRegistry_InOrder_AndAdoptAnswersPerType()
    {
        // The one list (ReplicatedTypes) is what start-up, status and adopt enumerate: every loop in it runs in a secondary.
        var names = Replication.ReplicatedTypes.All.Select(r => r.Name).ToList();
        Assert.Equal(["intentions", "acl", "datacenters", "ca-roots"], names);
        foreach (var dc in fx.Secondaries)
        {
            var status = await dc.Client.GetGrain<IDatacenterGrain>(dc.Name).GetStatusAsync();
            Assert.Equal(names, status.Replication.Select(r => r.ReplicationType));
            // ACL replication runs only with ACLs on (off in this fixture: listed, disabled); every other loop runs.
            Assert.All(status.Replication, r => Assert.True(r.ReplicationType == "acl" ? !r.Running && !r.Enabled : r.Running && r.Enabled,
                $"{dc.Name} {r.ReplicationType} running {r.Running}"));
            Assert.Equal(status.Replication[0], status.IntentionReplication);
            Assert.Equal(status.Replication, status.ReplicationStatuses());

            var adopt = await dc.GatewayClient.GetGrain<IDatacenterGrain>(dc.Name).AdoptPrimaryStateAsync();
            // Nothing held: one answer per replicated type (ACLs off here: nothing to hold either).
            Assert.Equal((false, (ReplicationHoldDto?)null), (adopt.Adopted, adopt.Hold));
            Assert.Equal(["intentions", "acl"], adopt.Types.Select(t => t.ReplicationType));
            Assert.All(adopt.Types, t => Assert.Contains("nothing is held", t.Message, StringComparison.Ordinal));
        }
        Assert.Empty((await fx.Dc1.Client.GetGrain<IDatacenterGrain>("dc1").GetStatusAsync()).ReplicationStatuses());
    }

    [Fact]
    public async Task WriteThroughSecondary_IsForwarded_AndReadableThereAfterWaitForReplicated()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        var written = await fx.Dc2.Registry.UpsertAsync(new() { SourceName = web, DestinationName = db, Action = "allow" });

        Assert.Equal("dc1", written.CommittedIn);
        var inPrimary = await fx.Dc1.Registry.GetAsync(new() { Source = web, Destination = db });
        Assert.Equal(written.Index, inPrimary.ModifyIndex); // the answer carries the primary's index
        Assert.True(await fx.Dc2.Registry.WaitForReplicatedAsync(written.Index, Poll.Timeout),
            $"dc2 did not apply primary index {written.Index}; it is at {await fx.Dc2.Registry.GetReplicatedIndexAsync()}");
        Assert.Equal("allow", (await fx.Dc2.Registry.GetAsync(new() { Source = web, Destination = db })).Action); // read-your-writes
        Assert.Contains((await fx.Dc2.Registry.ListAsync()).Intentions, i => i.SourceName == web && i.DestinationName == db);

        var removed = await fx.Dc2.Registry.DeleteAsync(new() { Source = web, Destination = db });
        Assert.Equal("dc1", removed.CommittedIn);
        Assert.True(removed.Index > written.Index);
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => fx.Dc1.Registry.GetAsync(new() { Source = web, Destination = db }));
        Assert.True(await fx.Dc2.Registry.WaitForReplicatedAsync(removed.Index, Poll.Timeout));
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => fx.Dc2.Registry.GetAsync(new() { Source = web, Destination = db }));
    }

    [Fact]
    public async Task DatacenterScopedIntentions_AreDecidedCorrectly_InSecondaryAndPrimary()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        await fx.Dc1.Registry.UpsertAsync(new() { SourceName = web, DestinationName = db, Action = "allow" });
        var last = await fx.Dc1.Registry.UpsertAsync(new() { SourceName = web, DestinationName = db, Action = "deny", SourceDatacenter = "dc2" });
        await fx.Dc1.WaitForCachesAsync(last.Index);
        await fx.Dc2.WaitForReplicatedAsync(last.Index);
        var td = (await fx.Dc1.Ca.GetRootsAsync()).TrustDomain;

        foreach (var dc in new[] { fx.Dc1, fx.Dc2 })
        {
            var fromDc2 = await dc.Authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = Uri(td, "dc2", web) });
            Assert.Equal(new AuthorizeResultDto(false, $"Matched L4 intention: default/{web}@dc2 => default/{db} (Precedence: 9, Action: DENY)"), fromDc2);
            foreach (var other in new[] { "dc1", "dc3" })
            {
                var allowed = await dc.Authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = Uri(td, other, web) });
                Assert.Equal(new AuthorizeResultDto(true, $"Matched L4 intention: default/{web} => default/{db} (Precedence: 9, Action: ALLOW)"), allowed);
            }
        }
    }

    [Fact]
    public async Task PrimaryDown_SecondaryKeepsServing_RefusesWrites_AndAppliesMissedDeletesWhenBack()
    {
        var (web, db, gone, gonedb) = (Fresh("web"), Fresh("db"), Fresh("gone"), Fresh("gonedb"));
        await fx.Dc1.Registry.UpsertAsync(new() { SourceName = web, DestinationName = db, Action = "allow" });
        var seeded = await fx.Dc1.Registry.UpsertAsync(new() { SourceName = gone, DestinationName = gonedb, Action = "deny" });
        await fx.Dc2.WaitForReplicatedAsync(seeded.Index);
        var roots = await fx.FollowedRootsAsync();
        var dc1Root = roots.Roots.Single(r => r.Active).RootCert;
        var link = fx.Dc2.Link!;
        var cut = DateTimeOffset.UtcNow;
        link.Disconnect();
        try
        {
            // The replicator's poll in flight ends within PollWait; its next round finds the primary unreachable.
            ReplicationStatusDto status = new();
            await Poll.UntilAsync(async () => (status = await fx.Dc2.Replicator.GetStatusAsync()).LastError > status.LastSuccess && status.LastError >= cut,
                () => Task.FromResult($"dc2 replicator status after the cut: LastSuccess {status.LastSuccess:O}, LastError {status.LastError:O} '{status.LastErrorMessage}'"));
            Assert.Contains("unreachable", status.LastErrorMessage, StringComparison.Ordinal);

            // Authorize from local state.
            var allowed = await fx.Dc2.Authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = Uri(roots.TrustDomain, "dc2", web) });
            Assert.Equal(new AuthorizeResultDto(true, $"Matched L4 intention: default/{web} => default/{db} (Precedence: 9, Action: ALLOW)"), allowed);
            Assert.False((await fx.Dc2.Authorizer.AuthorizeAsync(new() { Target = gonedb, ClientCertURI = Uri(roots.TrustDomain, "dc2", gone) })).Authorized);

            // Sign certificates locally with dc2's intermediate.
            var service = Fresh("offline");
            var cert = await fx.Dc2.Certificate(service).GetAsync();
            Assert.Equal(Uri(roots.TrustDomain, "dc2", service), cert.ServiceURI);
            CertAssert.ChainsTo(cert.CertPEM, dc1Root);

            // Writes need the primary.
            var refused = await Assert.ThrowsAsync<DatacenterUnreachableException>(
                () => fx.Dc2.Registry.UpsertAsync(new() { SourceName = Fresh("x"), DestinationName = db, Action = "allow" }));
            Assert.Equal("dc1", refused.Datacenter);

            // A delete in the primary while dc2 is cut off does not reach it.
            var deleted = await fx.Dc1.Registry.DeleteAsync(new() { Source = gone, Destination = gonedb });
            Assert.Equal("deny", (await fx.Dc2.Registry.GetAsync(new() { Source = gone, Destination = gonedb })).Action);
            Assert.True(await fx.Dc2.Registry.GetReplicatedIndexAsync() < deleted.Index);

            link.Connect();
            await fx.Dc2.WaitForReplicatedAsync(deleted.Index);
        }
        finally
        {
            link.Connect();
        }
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => fx.Dc2.Registry.GetAsync(new() { Source = gone, Destination = gonedb }));
        Assert.Equal(new AuthorizeResultDto(true, "Default behavior configured by ACLs"),
            await fx.Dc2.Authorizer.AuthorizeAsync(new() { Target = gonedb, ClientCertURI = Uri(roots.TrustDomain, "dc2", gone) }));
        await IntentionContent.ConvergedAsync(fx.Dc1, fx.Dc2);
        var back = await fx.Dc2.Replicator.GetStatusAsync();
        Assert.True(back.LastSuccess > back.LastError, $"after reconnecting LastSuccess {back.LastSuccess:O} should be newer than LastError {back.LastError:O}");
        Assert.True(link.Refused > 0);
    }
}
