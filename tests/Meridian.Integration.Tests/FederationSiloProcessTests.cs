using System.Text;
using System.Text.RegularExpressions;
using Meridian.Grains;
using Meridian.Grains.Certificates;
using Meridian.Integration.Tests.Processes;
using Npgsql;
using static Meridian.Integration.Tests.Federation;

namespace Meridian.Integration.Tests;

/// <summary>
/// Federation between real silo processes on real PostgreSQL (a database per datacenter), with SIGKILL for the
/// primary and for the secondary: replication both ways, the primary down, deletes made while a secondary was away,
/// a secondary killed in the middle of a root rotation, and CA private keys that never leave their datacenter.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed partial class FederationSiloProcessTests(FederatedSilosFixture fx) : IClassFixture<FederatedSilosFixture>
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Replication_BothWays_DeleteWhileSecondaryAway_PrimaryKilled_SecondaryKeepsServing()
    {
        await fx.EnsureUpAsync();
        var (web, api, db, cache) = ($"web-{_id}", $"api-{_id}", $"db-{_id}", $"cache-{_id}");
        var dc1 = fx.Dc1Client;

        // Create and update in the primary: the secondary converges.
        await dc1.UpsertIntentionAsync(Intention(web, db, "allow"));
        await dc1.UpsertIntentionAsync(Intention("*", db, "deny"));
        await dc1.UpsertIntentionAsync(Intention(web, cache, "allow"));
        await dc1.UpsertIntentionAsync(Intention(web, cache, "deny", "updated in dc1"));
        await Poll.UntilAsync(() => fx.Dc2Client.ListIntentionsAsync(),
            l => Has(l, web, db, "allow") && Has(l, "*", db, "deny") && Has(l, web, cache, "deny"),
            Converge, "dc1's create and update visible in dc2", () => fx.Dc2!.Output);

        var dc1Roots = await dc1.GetCaRootsAsync();
        var td = dc1Roots.TrustDomain;
        var dc2 = fx.Dc2Client;
        Assert.True((await dc2.AuthorizeAsync(Authorize(db, td, web, "dc2"))).Authorized);
        Assert.False((await dc2.AuthorizeAsync(Authorize(db, td, api, "dc2"))).Authorized);
        Assert.False((await dc2.AuthorizeAsync(Authorize(cache, td, web, "dc2"))).Authorized);

        // A write through the secondary is committed in the primary and, after the wait, readable in the secondary.
        var write = await dc2.UpsertIntentionAsync(Intention(api, db, "allow", "written through dc2"));
        Assert.Equal("dc1", write.CommittedIn);
        Assert.True(await dc2.WaitForReplicatedAsync(write.Index, Converge), $"dc2 did not apply primary index {write.Index}");
        Assert.True(Has(await dc2.ListIntentionsAsync(), api, db, "allow"), "dc2 does not list its own write after --wait-replicated");
        Assert.True(Has(await dc1.ListIntentionsAsync(), api, db, "allow"), "the write through dc2 is not in dc1");
        Assert.True((await dc2.AuthorizeAsync(Authorize(db, td, api, "dc2"))).Authorized);

        // A dc2 leaf, signed in dc2 by its own intermediate, verifies against dc1's root alone.
        var leaf = await dc2.GetCertificateAsync(web);
        Assert.Equal($"spiffe://{td}/ns/default/dc/dc2/svc/{web}", leaf.ServiceURI);
        Assert.Equal(dc1Roots.ActiveRootID, leaf.RootID);
        await OpenSsl.AssertChainsToAsync(leaf.CertPEM, ActiveRoot(dc1Roots).RootCert, "dc2 leaf against dc1's root");

        // dc2 away (SIGKILL) while dc1 deletes: the delete is applied when dc2 returns.
        await fx.KillDc2Async();
        await dc1.DeleteIntentionAsync(new IntentionRefDto { Source = "*", Destination = db });
        var primaryAfterDelete = await dc1.ListIntentionsAsync();
        Assert.False(HasPair(primaryAfterDelete, "*", db));
        await fx.RestartDc2Async();
        dc2 = fx.Dc2Client;
        await Poll.UntilAsync(() => dc2.ListIntentionsAsync(), l => !HasPair(l, "*", db) && Has(l, web, db, "allow") && Has(l, api, db, "allow"),
            Converge, "the delete made while dc2 was down applied in dc2, the rest kept", () => fx.Dc2!.Output);
        await Poll.UntilAsync(() => dc2.GetReplicationStatusAsync(),
            s => s.Single(r => r.ReplicationType == "intentions").ReplicatedIndex >= primaryAfterDelete.Index,
            Converge, $"dc2 replicated index >= {primaryAfterDelete.Index}");

        // The primary dies (SIGKILL): dc2 keeps authorizing from local state and signing from its own intermediate.
        await fx.KillDc1Async();
        Assert.True((await dc2.AuthorizeAsync(Authorize(db, td, web, "dc2"))).Authorized);
        Assert.True((await dc2.AuthorizeAsync(Authorize(db, td, api, "dc2"))).Authorized);
        Assert.False((await dc2.AuthorizeAsync(Authorize(cache, td, web, "dc2"))).Authorized);
        var leafWhileDown = await dc2.GetCertificateAsync($"new-{_id}");
        await OpenSsl.AssertChainsToAsync(leafWhileDown.CertPEM, ActiveRoot(dc1Roots).RootCert, "dc2 leaf issued while dc1 is down");

        var replication = await Poll.UntilAsync(() => dc2.GetReplicationStatusAsync(),
            s => s.Single(r => r.ReplicationType == "intentions") is { } r && r.LastError > r.LastSuccess && r.LastErrorMessage.Length > 0,
            Converge, "dc2's intention replication reports an error newer than its last success", () => fx.Dc2!.Output);
        var intentions = replication.Single(r => r.ReplicationType == "intentions");
        Assert.True(intentions.Enabled);
        Assert.Equal("dc1", intentions.SourceDatacenter);
        var status = await Poll.UntilAsync(() => dc2.GetStatusAsync(), s => s.Degraded.Length > 0, Converge, "dc2 status Degraded");
        Assert.Equal("secondary", status.Role);
        Assert.Equal("INITIALIZED", status.Ca.State);

        // A write through dc2 cannot reach the primary: the CLI says so with exit code 5, the SDK with DatacenterUnreachableException.
        var cli = await Cli.RunAsync("--gateway", fx.Dc2Gateway, "--datacenter", "dc2",
            "intention", "upsert", "--source", web, "--destination", $"other-{_id}", "--action", "allow");
        Assert.True(cli.ExitCode == 5, cli.ToString());
        Assert.Contains("dc1", cli.Stderr);
        var sdk = await Assert.ThrowsAsync<DatacenterUnreachableException>(() => dc2.UpsertIntentionAsync(Intention(web, $"other-{_id}", "allow")));
        Assert.Contains("dc1", sdk.Message);
        Assert.False(HasPair(await dc2.ListIntentionsAsync(), web, $"other-{_id}"));
    }

    [Fact]
    public async Task SecondaryKilledDuringRotation_RestartedOnSameDatabase_FinishesRotationAndLosesNothing()
    {
        await fx.EnsureUpAsync();
        var dc1 = fx.Dc1Client;
        var (web, db) = ($"web-{_id}", $"db-{_id}");
        var write = await dc1.UpsertIntentionAsync(Intention(web, db, "allow", "kept across the kill"));
        Assert.True(await fx.Dc2Client.WaitForReplicatedAsync(write.Index, Converge), $"dc2 did not apply primary index {write.Index}");

        var services = Enumerable.Range(0, 50).Select(i => $"rot-{_id}-{i}").ToArray();
        // One after the other: dc2 signs at most Consul's default CSRMaxPerSecond (50/s) for the whole datacenter, so
        // 50 requests at once would be answered in part with "Rate limit reached".
        var before = new List<IssuedCertificateDto>();
        foreach (var s in services) before.Add(await fx.Dc2Client.GetCertificateAsync(s));
        var dc2RootsBefore = await fx.Dc2Client.GetCaRootsAsync();
        var dc2ListBefore = await fx.Dc2Client.ListIntentionsAsync();
        var oldRoot = (await dc1.GetCaRootsAsync()).ActiveRootID;
        Assert.All(before, c => Assert.Equal(oldRoot, c.RootID));

        // Rotate in dc1 and SIGKILL dc2 at once: its root watcher has at most just woken up.
        var rotated = await dc1.RotateCaAsync();
        await fx.KillDc2Async();
        Assert.NotEqual(oldRoot, rotated.ActiveRootID);
        var newRootPem = ActiveRoot(rotated).RootCert;

        await fx.RestartDc2Async();
        var dc2 = fx.Dc2Client;
        var dc2Roots = await Poll.UntilAsync(() => dc2.GetCaRootsAsync(), r => r.ActiveRootID == rotated.ActiveRootID,
            Converge, $"dc2 active root {rotated.ActiveRootID}", () => fx.Dc2!.Output);
        Assert.Single(dc2Roots.Roots, r => r.Active);
        Assert.Contains(dc2Roots.Roots, r => r.ID == oldRoot && !r.Active);
        Assert.Equal(dc2RootsBefore.TrustDomain, dc2Roots.TrustDomain);
        var status = await Poll.UntilAsync(() => dc2.GetStatusAsync(), s => s.Ca.ActiveRootID == rotated.ActiveRootID && s.Ca.State == "INITIALIZED",
            Converge, "dc2 CA status on the new root");
        Assert.Equal(dc2RootsBefore.TrustDomain, status.TrustDomain);

        // A certificate issued after the restart chains to the new root alone.
        var fresh = await dc2.GetCertificateAsync($"after-{_id}");
        Assert.Equal(rotated.ActiveRootID, fresh.RootID);
        await OpenSsl.AssertChainsToAsync(fresh.CertPEM, newRootPem, "dc2 leaf issued after the restart, against dc1's new root");

        // The certificates from before the kill are re-issued on the new root (the re-issue survived the kill).
        var reissued = await Task.WhenAll(services.Select((s, i) =>
            dc2.GetCertificateAsync(s, before[i].SerialNumber, TimeSpan.FromSeconds(45))));
        for (var i = 0; i < services.Length; i++)
        {
            Assert.NotEqual(before[i].SerialNumber, reissued[i].SerialNumber);
            Assert.True(rotated.ActiveRootID == reissued[i].RootID, $"{services[i]} re-issued on {reissued[i].RootID}, not {rotated.ActiveRootID}");
        }
        foreach (var i in new[] { 0, 17, 49 })
            await OpenSsl.AssertChainsToAsync(reissued[i].CertPEM, newRootPem, $"{services[i]} re-issued after the restart");

        // Nothing lost: intentions and authorization unchanged.
        Assert.Equal(Rows(dc2ListBefore), Rows(await dc2.ListIntentionsAsync()));
        Assert.True((await dc2.AuthorizeAsync(Authorize(db, dc2Roots.TrustDomain, web, "dc2"))).Authorized);
    }

    [Fact]
    public async Task CaPrivateKeys_NeverLeaveTheirDatacenter_AfterInitRotationAndLeaves()
    {
        await fx.EnsureUpAsync();
        var (dc1, dc2) = (fx.Dc1Client, fx.Dc2Client);
        await dc1.GetCertificateAsync($"keys-{_id}");
        await dc2.GetCertificateAsync($"keys-{_id}");
        var rotated = await dc1.RotateCaAsync();
        await Poll.UntilAsync(() => dc2.GetStatusAsync(), s => s.Ca.ActiveRootID == rotated.ActiveRootID && s.Degraded.Length == 0,
            Converge, "dc2 re-keyed onto dc1's new root", () => fx.Dc2!.Output);
        var leaf2 = await dc2.GetCertificateAsync($"keys-after-{_id}");
        var leaf1 = await dc1.GetCertificateAsync($"keys-after-{_id}");
        Assert.Equal(rotated.ActiveRootID, leaf2.RootID);
        Assert.Equal(rotated.ActiveRootID, leaf1.RootID);

        var dc1Keys = await PrivateKeysAsync(fx.Dc1Database, "dc1");
        var dc2Keys = await PrivateKeysAsync(fx.Dc2Database, "dc2");
        // Not vacuous: each datacenter stores at least its own CA signing key.
        Assert.NotEmpty(dc1Keys);
        Assert.NotEmpty(dc2Keys);
        var shared = dc1Keys.Intersect(dc2Keys).ToList();
        Assert.True(shared.Count == 0, $"{shared.Count} private key(s) stored in both datacenters' databases");
    }

    /// <summary>
    /// Every PEM "PRIVATE KEY" block in every grain-state row of a database, and every sealed CA key (opened with the
    /// test run's key-encryption key). Payloads are Orleans-serialized binary, in which strings are UTF-8: read the raw
    /// bytes as text. Blocks are compared with whitespace removed.
    /// </summary>
    private static async Task<HashSet<string>> PrivateKeysAsync(string connectionString, string datacenter)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT PayloadBinary, GrainTypeString FROM OrleansStorage WHERE PayloadBinary IS NOT NULL", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            var text = Encoding.UTF8.GetString((byte[])reader[0]);
            if (reader.GetString(1).Contains(CertificateAuthorityGrain.KeysStateName, StringComparison.Ordinal))
                text += string.Concat(StoredCaKeys.Open((byte[])reader[0], datacenter, TestKeyEncryptionKey.SharedKey).Values);
            foreach (Match m in PrivateKeyBlock().Matches(text)) keys.Add(Regex.Replace(m.Value, "\\s+", ""));
        }
        Assert.True(rows > 0, "no grain-state rows in the database");
        return keys;
    }

    [GeneratedRegex("-----BEGIN ([A-Z ]*)PRIVATE KEY-----[A-Za-z0-9+/=\\s]+?-----END \\1PRIVATE KEY-----")]
    private static partial Regex PrivateKeyBlock();
}
