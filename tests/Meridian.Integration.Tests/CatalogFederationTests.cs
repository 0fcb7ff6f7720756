using Meridian.Grains;

namespace Meridian.Integration.Tests;

/// <summary>
/// Issue 14 §2, <c>?dc=</c>: a secondary's SDK reads and writes the primary's catalog over its link (the catalogs stay
/// separate, nothing is replicated), an unknown datacenter answers <c>No path to datacenter</c>, and a known one that
/// is down answers <c>Remote DC has no server currently reachable</c>.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CatalogFederationTests(FederatedSilosFixture fx) : IClassFixture<FederatedSilosFixture>
{
    [Fact]
    public async Task Secondary_ReadsAndWritesThePrimarysCatalogOverItsLink_UnknownAndDownDatacentersAnswerConsulsTexts()
    {
        await fx.EnsureUpAsync();
        var id = Guid.NewGuid().ToString("N")[..8];
        var (web, node) = ($"web-{id}", $"n-{id}");
        await fx.Dc1Client.RegisterCatalogAsync(new CatalogRegisterRequestDto
        {
            Node = node, Address = "10.1.0.1", Service = new NodeServiceDto { Service = web, Port = 8080 },
            Check = new HealthCheckDto { CheckID = $"{web}-alive", ServiceID = web, Status = "passing" },
        });

        var remote = await fx.Dc2Client.GetServiceHealthAsync(web, passingOnly: true, datacenter: "dc1");
        Assert.Equal("dc1", remote.Datacenter);
        var entry = Assert.Single(remote.Instances);
        Assert.Equal((node, "dc1"), (entry.Node.Node, entry.Node.Datacenter));
        Assert.Empty((await fx.Dc2Client.GetServiceHealthAsync(web)).Instances); // dc2's own catalog: not replicated

        // A write naming dc1 in its body goes to dc1.
        await fx.Dc2Client.RegisterCatalogAsync(new CatalogRegisterRequestDto
        {
            Node = $"{node}-b", Address = "10.1.0.2", Datacenter = "dc1", Service = new NodeServiceDto { Service = web, Port = 8080 },
        });
        Assert.Equal(2, (await fx.Dc1Client.GetServiceHealthAsync(web)).Instances.Length);
        Assert.Contains(web, (await fx.Dc2Client.GetCatalogServicesAsync("dc1")).Services.Keys);
        Assert.Contains($"{node}-b", (await fx.Dc2Client.GetCatalogNodesAsync("dc1")).Nodes.Select(n => n.Node));

        var unknown = await Assert.ThrowsAsync<UnknownDatacenterException>(() => fx.Dc2Client.GetServiceHealthAsync(web, datacenter: "dc9"));
        Assert.StartsWith("No path to datacenter", unknown.Message);

        await fx.Dc1!.KillAsync();
        var down = await Assert.ThrowsAsync<DatacenterUnreachableException>(() => fx.Dc2Client.GetServiceHealthAsync(web, datacenter: "dc1"));
        Assert.StartsWith("Remote DC has no server currently reachable", down.Message);
    }
}
