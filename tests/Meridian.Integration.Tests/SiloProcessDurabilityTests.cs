using Meridian.Grains;
using Meridian.Integration.Tests.Processes;
using Meridian.Testing;
using static Meridian.Integration.Tests.PostgreSqlSchemaTests;

namespace Meridian.Integration.Tests;

/// <summary>
/// Real silo processes (<c>dotnet Meridian.Silo.dll</c>) on real PostgreSQL, killed with SIGKILL and started again on
/// the same database: everything the SDK wrote before the kill must be read back after it.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class SiloProcessDurabilityTests(PostgresFixture fx)
{
    private const int Active = 3;

    [Fact]
    public async Task SiloKilled_RestartedOnSameDatabase_KeepsIntentionsCaTrustDomainAndIndex()
    {
        var db = await fx.CreateDatabaseAsync();
        var id = Guid.NewGuid().ToString("N")[..12];
        var (web, api, dbService, other) = ($"web-{id}", $"api-{id}", $"db-{id}", $"other-{id}");
        var ports = FreePorts.Take(3);

        IntentionListDto listBefore;
        CaRootListDto rootsBefore;
        DatacenterStatusDto statusBefore;
        await using (var silo = await SiloProcess.StartAsync(db, ports[0], ports[1], ports[2]))
        {
            await using (var sdk = await SdkClient.ConnectAsync(silo.Gateway))
            {
                var client = sdk.Client;
                await client.UpsertIntentionAsync(Intention(web, dbService, "allow"));
                await client.UpsertIntentionAsync(Intention("*", dbService, "deny"));
                await client.UpsertIntentionAsync(Intention(api, other, "allow", "kept across a kill"));
                var leaf = await client.GetCertificateAsync(web);
                rootsBefore = await client.GetCaRootsAsync();
                await OpenSsl.AssertChainsToAsync(leaf.CertPEM, ActiveRoot(rootsBefore).RootCert, "leaf before the kill");
                listBefore = await client.ListIntentionsAsync();
                statusBefore = await client.GetStatusAsync();
            }
            Assert.Equal(3, listBefore.Intentions.Length);
            Assert.NotEqual(0UL, listBefore.Index);
            Assert.NotEmpty(rootsBefore.TrustDomain);
            await silo.KillAsync();
        }

        // A SIGKILLed silo cannot say goodbye: its membership row is still Active (a graceful stop writes Dead).
        Assert.Equal(1L, await ScalarAsync(db,
            "SELECT count(*) FROM OrleansMembershipTable WHERE Port = @p AND Status = @s", ("p", ports[0]), ("s", Active)));

        // Same endpoint, new generation: Orleans declares the older row with this address dead on start.
        await using (var silo = await SiloProcess.StartAsync(db, ports[0], ports[1], ports[2]))
        await using (var sdk = await SdkClient.ConnectAsync(silo.Gateway))
        {
            var client = sdk.Client;
            var listAfter = await client.ListIntentionsAsync();
            Assert.Equal(listBefore.Index, listAfter.Index);
            Assert.Equal(Rows(listBefore), Rows(listAfter));

            var rootsAfter = await client.GetCaRootsAsync();
            Assert.Equal(rootsBefore.TrustDomain, rootsAfter.TrustDomain);
            Assert.Equal(rootsBefore.ActiveRootID, rootsAfter.ActiveRootID);
            Assert.Equal(ActiveRoot(rootsBefore).RootCert, ActiveRoot(rootsAfter).RootCert);
            Assert.Equal(rootsBefore.Roots.Select(r => r.ID), rootsAfter.Roots.Select(r => r.ID));

            var statusAfter = await client.GetStatusAsync();
            Assert.Equal(statusBefore.TrustDomain, statusAfter.TrustDomain);
            Assert.Equal(statusBefore.IntentionIndex, statusAfter.IntentionIndex);
            Assert.Equal(statusBefore.IntentionCount, statusAfter.IntentionCount);
            Assert.Equal("PostgreSql", statusAfter.StorageProvider);

            // The CA key survived too: a new leaf chains to the root from before the kill (and only that root is trusted).
            var newLeaf = await client.GetCertificateAsync(api);
            Assert.Equal(rootsBefore.ActiveRootID, newLeaf.RootID);
            await OpenSsl.AssertChainsToAsync(newLeaf.CertPEM, ActiveRoot(rootsBefore).RootCert, "new leaf after the restart");

            // Authorize answers from the restored intentions: exact allow, wildcard deny, and a restored allow elsewhere.
            var td = rootsAfter.TrustDomain;
            Assert.True((await client.AuthorizeAsync(Authorize(dbService, td, web))).Authorized);
            Assert.False((await client.AuthorizeAsync(Authorize(dbService, td, api))).Authorized);
            Assert.True((await client.AuthorizeAsync(Authorize(other, td, api))).Authorized);
            Assert.True(await client.CheckIntentionAsync(web, dbService));
            Assert.False(await client.CheckIntentionAsync(api, dbService));

            // The index continues from where it was; it did not restart at zero.
            var write = await client.UpsertIntentionAsync(Intention(web, other, "deny"));
            Assert.True(write.Index > listBefore.Index, $"index after restart {write.Index} <= before {listBefore.Index}");
        }
    }

    [Fact]
    public async Task RotatedCa_SiloKilledAndRestarted_NewRootStaysActiveAndLeavesChainToIt()
    {
        var db = await fx.CreateDatabaseAsync();
        var id = Guid.NewGuid().ToString("N")[..12];
        var (web, api, dbService) = ($"web-{id}", $"api-{id}", $"db-{id}");
        var ports = FreePorts.Take(3);

        CaRootListDto original;
        CaRootListDto rotated;
        await using (var silo = await SiloProcess.StartAsync(db, ports[0], ports[1], ports[2]))
        {
            await using (var sdk = await SdkClient.ConnectAsync(silo.Gateway))
            {
                var client = sdk.Client;
                await client.UpsertIntentionAsync(Intention(web, dbService, "allow"));
                original = await client.GetCaRootsAsync();
                rotated = await client.RotateCaAsync();
                var leaf = await client.GetCertificateAsync(web);
                await OpenSsl.AssertChainsToAsync(leaf.CertPEM, ActiveRoot(rotated).RootCert, "leaf after rotation, before the kill");
            }
            Assert.NotEqual(original.ActiveRootID, rotated.ActiveRootID);
            await silo.KillAsync();
        }

        await using (var silo = await SiloProcess.StartAsync(db, ports[0], ports[1], ports[2]))
        await using (var sdk = await SdkClient.ConnectAsync(silo.Gateway))
        {
            var client = sdk.Client;
            var roots = await client.GetCaRootsAsync();
            Assert.Equal(rotated.ActiveRootID, roots.ActiveRootID);
            Assert.Equal(original.TrustDomain, roots.TrustDomain);
            Assert.Equal(ActiveRoot(rotated).RootCert, ActiveRoot(roots).RootCert);
            // The old root is still listed (not yet pruned) but no longer active.
            Assert.Contains(roots.Roots, r => r.ID == original.ActiveRootID && !r.Active);

            var leaf = await client.GetCertificateAsync(api);
            Assert.Equal(rotated.ActiveRootID, leaf.RootID);
            await OpenSsl.AssertChainsToAsync(leaf.CertPEM, ActiveRoot(rotated).RootCert, "new leaf after the restart");

            Assert.True((await client.AuthorizeAsync(Authorize(dbService, roots.TrustDomain, web))).Authorized);
        }
    }

    private static IntentionDto Intention(string source, string destination, string action, string description = "") => new()
    {
        SourceName = source,
        DestinationName = destination,
        Action = action,
        Description = description,
    };

    private static AuthorizeRequestDto Authorize(string target, string trustDomain, string clientService) => new()
    {
        Target = target,
        ClientCertURI = $"spiffe://{trustDomain}/ns/default/dc/dc1/svc/{clientService}",
    };

    private static CaRootDto ActiveRoot(CaRootListDto roots) => Assert.Single(roots.Roots, r => r.ID == roots.ActiveRootID);

    // IntentionDto holds immutable collections, which compare by reference: compare what matters field by field.
    private static List<string> Rows(IntentionListDto list) =>
        [.. list.Intentions.Select(i => string.Join('|', i.ID, i.SourceNS, i.SourceName, i.DestinationNS, i.DestinationName,
            i.Action, i.Description, i.Precedence, i.CreateIndex, i.ModifyIndex))];
}
