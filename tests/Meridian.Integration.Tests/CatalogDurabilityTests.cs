using System.Collections.Immutable;
using Meridian.Grains;
using Meridian.Integration.Tests.Processes;
using Meridian.Testing;

namespace Meridian.Integration.Tests;

/// <summary>
/// Issue 14 §2: the catalog of a datacenter survives a SIGKILL of its silo process on PostgreSQL: nodes, instances,
/// check statuses (node and service checks), service tags, and the indexes keep moving forward.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CatalogDurabilityTests(PostgresFixture fx)
{
    [Fact]
    public async Task SiloKilled_RestartedOnSameDatabase_KeepsNodesInstancesAndCheckStatuses()
    {
        var db = await fx.CreateDatabaseAsync();
        var id = Guid.NewGuid().ToString("N")[..8];
        var (web, api, n1, n2) = ($"web-{id}", $"api-{id}", $"n1-{id}", $"n2-{id}");
        var ports = FreePorts.Take(3);

        ServiceHealthDto webBefore;
        CatalogServicesDto servicesBefore;
        await using (var silo = await SiloProcess.StartAsync(db, ports[0], ports[1], ports[2]))
        {
            await using (var sdk = await SdkClient.ConnectAsync(silo.Gateway))
            {
                var client = sdk.Client;
                foreach (var node in new[] { n1, n2 })
                    await client.RegisterCatalogAsync(new CatalogRegisterRequestDto
                    {
                        Node = node, Address = $"10.1.0.{(node == n1 ? 1 : 2)}", TaggedAddresses = ImmutableDictionary.Create<string, string>().Add("wan", "198.51.100.1"),
                        Service = new NodeServiceDto { Service = web, Port = 8080, Tags = ["v1"] },
                        Check = new HealthCheckDto { CheckID = $"{web}-alive", ServiceID = web, Status = "passing" },
                    });
                await client.RegisterCatalogAsync(new CatalogRegisterRequestDto
                {
                    Node = n2, SkipNodeUpdate = true, Service = new NodeServiceDto { Service = api, Port = 9090, Tags = ["grpc"] },
                    Checks = [new HealthCheckDto { CheckID = "serfHealth", Status = "warning" }],
                });
                await client.UpdateCheckAsync($"{web}-alive", "critical", n1, "down");
                webBefore = await client.GetServiceHealthAsync(web);
                servicesBefore = await client.GetCatalogServicesAsync();
            }
            Assert.Equal(2, webBefore.Instances.Length);
            await silo.KillAsync();
        }

        await using (var silo = await SiloProcess.StartAsync(db, ports[0], ports[1], ports[2]))
        await using (var sdk = await SdkClient.ConnectAsync(silo.Gateway))
        {
            var client = sdk.Client;
            var webAfter = await client.GetServiceHealthAsync(web);
            Assert.Equal(Rows(webBefore), Rows(webAfter));
            Assert.True(webAfter.Index >= webBefore.Index, $"service index went back: {webAfter.Index} < {webBefore.Index}");
            Assert.Equal("198.51.100.1", webAfter.Instances[0].Node.TaggedAddresses["wan"]);
            // n1's own check is critical, n2's node check is warning: neither is passing.
            Assert.Empty((await client.GetServiceHealthAsync(web, passingOnly: true)).Instances);
            Assert.Equal([n2], (await client.GetServiceHealthAsync(api)).Instances.Select(i => i.Node.Node).ToArray());

            var servicesAfter = await client.GetCatalogServicesAsync();
            Assert.Equal(["v1"], servicesAfter.Services[web].ToArray());
            Assert.Equal(["grpc"], servicesAfter.Services[api].ToArray());
            Assert.Equal(servicesBefore.Services.Keys.Order(), servicesAfter.Services.Keys.Order());
            Assert.Superset(new HashSet<string> { n1, n2 }, (await client.GetCatalogNodesAsync()).Nodes.Select(n => n.Node).ToHashSet());

            // Writes continue on the restored state, with indexes past the ones before the kill.
            await client.UpdateCheckAsync("serfHealth", "passing", n2);
            await client.UpdateCheckAsync($"{web}-alive", "passing", n1);
            var passing = await client.GetServiceHealthAsync(web, passingOnly: true);
            Assert.Equal(2, passing.Instances.Length);
            Assert.True(passing.Index > webBefore.Index, $"index after restart {passing.Index} <= before {webBefore.Index}");
        }
    }

    private static string[] Rows(ServiceHealthDto health) =>
    [
        .. health.Instances.Select(i => $"{i.Node.Node} {i.Node.Address} {i.Service.ID} {i.Service.Port} {string.Join(',', i.Service.Tags)} "
            + string.Join(';', i.Checks.Select(c => $"{c.CheckID}={c.Status}:{c.Output}@{c.ModifyIndex}"))),
    ];
}
