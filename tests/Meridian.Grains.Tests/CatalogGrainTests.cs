using System.Collections.Immutable;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests;

/// <summary>
/// Issue 14 §2: the catalog and health of one datacenter through its public entry point, called as the SDK calls it
/// (a client of the gateway): registration, statuses, node checks, the passing filter, Consul's validation texts
/// (nothing written when refused), deregistration, lists, and <c>dc</c> forwarding errors.
/// </summary>
[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class CatalogGrainTests(ClusterFixture fx)
{
    private const string Dc = ClusterFixture.Datacenter;

    private ICatalogGrain Catalog => fx.GatewayClient.GetGrain<ICatalogGrain>(Dc);

    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private static CatalogRegisterRequestDto Instance(string node, string service, string id = "", string? checkStatus = null,
        string checkId = "", string address = "10.0.0.1", ImmutableArray<string> tags = default) => new()
    {
        Node = node, Address = address,
        Service = new NodeServiceDto { ID = id, Service = service, Port = 8080, Tags = tags.IsDefault ? [] : tags },
        Check = checkStatus is null ? null : new HealthCheckDto
        {
            CheckID = checkId.Length > 0 ? checkId : $"{service}-alive", Status = checkStatus, ServiceID = id.Length > 0 ? id : service,
        },
    };

    [Fact]
    public async Task Register_CheckWithoutStatus_IsCritical_AndPassingDropsIt()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        await Catalog.RegisterAsync(Instance(node, web, checkStatus: ""));

        var all = await Catalog.GetServiceHealthAsync(web);
        var entry = Assert.Single(all.Instances);
        Assert.Equal((node, "10.0.0.1", Dc), (entry.Node.Node, entry.Node.Address, entry.Node.Datacenter));
        Assert.Equal((web, web, 8080), (entry.Service.Service, entry.Service.ID, entry.Service.Port));
        var check = Assert.Single(entry.Checks);
        Assert.Equal(("critical", web, web), (check.Status, check.ServiceID, check.ServiceName));
        Assert.True(entry.Service.CreateIndex > 0 && check.ModifyIndex > 0 && all.Index > 0);
        Assert.Empty((await Catalog.GetServiceHealthAsync(web, passingOnly: true)).Instances);
    }

    [Fact]
    public async Task WaitForServiceHealth_AWriteAfterTheIndex_EndsTheWaitWithTheNewInstance()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        await Catalog.RegisterAsync(Instance(node, web, id: web + "-1"));
        var before = (await Catalog.GetServiceHealthAsync(web)).Index;

        var waiting = Catalog.WaitForServiceHealthAsync(web, false, before, TimeSpan.FromMinutes(5));
        await Catalog.RegisterAsync(Instance(node, web, id: web + "-2"));
        var changed = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(changed.Index > before, $"index {changed.Index} did not move past {before}");
        Assert.Equal([web + "-1", web + "-2"], changed.Instances.Select(i => i.Service.ID));
    }

    [Fact]
    public async Task WaitForServiceHealth_NothingChangedWhenTheWaitEnds_AnswersTheSameIndexAndData()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        await Catalog.RegisterAsync(Instance(node, web));
        var now = await Catalog.GetServiceHealthAsync(web);
        var same = await Catalog.WaitForServiceHealthAsync(web, false, now.Index, TimeSpan.Zero);
        Assert.Equal((now.Index, 1), (same.Index, same.Instances.Length));
    }

    [Fact]
    public async Task UpdateCheck_PassThenWarn_PassingKeepsOnlyPassing_AndIndexMoves()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        await Catalog.RegisterAsync(Instance(node, web, checkStatus: "critical"));
        var before = (await Catalog.GetServiceHealthAsync(web)).Index;

        var passed = await Catalog.UpdateCheckAsync(new CheckUpdateDto { Node = node, CheckID = $"{web}-alive", Status = "passing", Output = "ok" });
        Assert.Equal(("passing", "ok"), (passed.Status, passed.Output));
        var passing = await Catalog.GetServiceHealthAsync(web, passingOnly: true);
        Assert.Single(passing.Instances);
        Assert.True(passing.Index > before, $"index {passing.Index} did not move past {before}");

        await Catalog.UpdateCheckAsync(new CheckUpdateDto { Node = node, CheckID = $"{web}-alive", Status = "warning" });
        Assert.Empty((await Catalog.GetServiceHealthAsync(web, passingOnly: true)).Instances); // warning is not passing
        Assert.Equal("warning", Assert.Single(Assert.Single((await Catalog.GetServiceHealthAsync(web)).Instances).Checks).Status);
    }

    [Fact]
    public async Task NodeCheck_AffectsEveryInstanceOnTheNode_Only()
    {
        var (sick, healthy, web, api) = (Fresh("sick"), Fresh("ok"), Fresh("web"), Fresh("api"));
        await Catalog.RegisterAsync(Instance(sick, web, checkStatus: "passing"));
        await Catalog.RegisterAsync(Instance(sick, api, checkStatus: "passing"));
        await Catalog.RegisterAsync(Instance(healthy, web, checkStatus: "passing"));
        Assert.Equal(2, (await Catalog.GetServiceHealthAsync(web, passingOnly: true)).Instances.Length);

        await Catalog.RegisterAsync(new CatalogRegisterRequestDto
        {
            Node = sick, SkipNodeUpdate = true, Check = new HealthCheckDto { CheckID = "serfHealth", Status = "critical" },
        });

        var webPassing = await Catalog.GetServiceHealthAsync(web, passingOnly: true);
        Assert.Equal(healthy, Assert.Single(webPassing.Instances).Node.Node);
        Assert.Empty((await Catalog.GetServiceHealthAsync(api, passingOnly: true)).Instances);
        var apiEntry = Assert.Single((await Catalog.GetServiceHealthAsync(api)).Instances);
        Assert.Contains(apiEntry.Checks, c => c.CheckID == "serfHealth" && c.ServiceID == "" && c.Status == "critical");
        Assert.Equal("10.0.0.1", apiEntry.Node.Address); // SkipNodeUpdate kept the node's fields

        await Catalog.UpdateCheckAsync(new CheckUpdateDto { Node = sick, CheckID = "serfHealth", Status = "passing" });
        Assert.Single((await Catalog.GetServiceHealthAsync(api, passingOnly: true)).Instances);
    }

    public static TheoryData<string, CatalogRegisterRequestDto, string> Refusals => new()
    {
        { "no node", new() { Address = "10.0.0.1" }, "Must provide node" },
        { "no address", new() { Node = "x" }, "Must provide address if SkipNodeUpdate is not set" },
        { "id without name", new() { Node = "x", Address = "1.1.1.1", Service = new() { ID = "web-1" } }, "Must provide service name (Service.Service) when service ID is provided" },
        { "any address", new() { Node = "x", Address = "1.1.1.1", Service = new() { Service = "web", Address = "0.0.0.0" } }, "Invalid service address" },
        { "check on another node", new() { Node = "x", Address = "1.1.1.1", Check = new() { Node = "y", CheckID = "c" } }, "Node 'y' for check 'c' doesn't match register request node 'x'" },
        { "check on an unknown service", new() { Node = "x", Address = "1.1.1.1", Check = new() { CheckID = "c", ServiceID = "db" } }, "Unknown service ID 'db' for check ID 'c'" },
        { "bad status", new() { Node = "x", Address = "1.1.1.1", Check = new() { CheckID = "c", Status = "up" } }, "Status for checks must 'passing', 'warning', 'critical'" },
        { "proxy without destination", new() { Node = "x", Address = "1.1.1.1", Service = new() { Service = "p", Kind = "connect-proxy", Port = 21000 } }, "Proxy.DestinationServiceName must be non-empty for Connect proxy services" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Register_Invalid_IsRefusedWithConsulsText_AndWritesNothing(string why, CatalogRegisterRequestDto request, string message)
    {
        var node = Fresh("bad");
        var named = request.Node == "x" ? request with { Node = node, Check = request.Check is { Node: "x" } c ? c with { Node = node } : request.Check } : request;
        if (why == "check on another node") message = message.Replace("'x'", $"'{node}'");
        var refused = await Assert.ThrowsAsync<MeridianValidationException>(() => Catalog.RegisterAsync(named));
        Assert.True(refused.Problems.Any(p => p.Message == message), $"{why}: {refused.Message}");
        if (named.Node.Length > 0)
            Assert.Null(await fx.Client.GetGrain<ICatalogNodeGrain>($"{Dc}/{named.Node}").GetState());
        Assert.DoesNotContain((await Catalog.GetNodesAsync()).Nodes, n => n.Node == named.Node && n.Node.Length > 0);
    }

    [Fact]
    public async Task Deregister_UnknownServiceOrCheck_ConsulsTexts_ServiceThenNode_RemovesThem()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        await Catalog.RegisterAsync(Instance(node, web, checkStatus: "passing", tags: ["v1", "blue"]));
        await Catalog.RegisterAsync(Instance(node, web, id: $"{web}-2", tags: ["v2"]));
        Assert.Equal(["blue", "v1", "v2"], (await Catalog.GetServicesAsync()).Services[web].ToArray());
        Assert.Contains((await Catalog.GetNodesAsync()).Nodes, n => n.Node == node);

        var service = await Assert.ThrowsAsync<MeridianValidationException>(() => Catalog.DeregisterAsync(new() { Node = node, ServiceID = "nope" }));
        Assert.Equal("Unknown service ID 'nope'", Assert.Single(service.Problems).Message);
        var check = await Assert.ThrowsAsync<MeridianValidationException>(() => Catalog.DeregisterAsync(new() { Node = node, CheckID = "nope" }));
        Assert.Equal("Unknown check ID 'nope'", Assert.Single(check.Problems).Message);

        await Catalog.DeregisterAsync(new() { Node = node, ServiceID = web });
        Assert.Equal($"{web}-2", Assert.Single((await Catalog.GetServiceHealthAsync(web)).Instances).Service.ID);
        Assert.Equal(["v2"], (await Catalog.GetServicesAsync()).Services[web].ToArray());

        await Catalog.DeregisterAsync(new() { Node = node });
        Assert.Empty((await Catalog.GetServiceHealthAsync(web)).Instances);
        Assert.False((await Catalog.GetServicesAsync()).Services.ContainsKey(web));
        Assert.DoesNotContain((await Catalog.GetNodesAsync()).Nodes, n => n.Node == node);
    }

    [Fact]
    public async Task DeregisterCheck_RemovesItFromTheInstance()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        await Catalog.RegisterAsync(Instance(node, web, checkStatus: "critical"));
        await Catalog.DeregisterAsync(new() { Node = node, CheckID = $"{web}-alive" });
        Assert.Empty(Assert.Single((await Catalog.GetServiceHealthAsync(web, passingOnly: true)).Instances).Checks);
    }

    [Fact]
    public async Task ConnectProxy_IsStoredWithItsDestinationAndUpstreams()
    {
        var (node, web) = (Fresh("n"), Fresh("web"));
        var proxy = new ProxyDto
        {
            DestinationServiceName = web, Upstreams = [new UpstreamDto { DestinationName = "db", Datacenter = "dc2", LocalBindPort = 9191 }],
        };
        await Catalog.RegisterAsync(new() { Node = node, Address = "10.0.0.2", Service = new() { Service = $"{web}-sidecar-proxy", Kind = "connect-proxy", Port = 21000, Proxy = proxy } });
        var entry = Assert.Single((await Catalog.GetServiceHealthAsync($"{web}-sidecar-proxy")).Instances);
        Assert.Equal("connect-proxy", entry.Service.Kind);
        Assert.Equal(web, entry.Service.Proxy!.DestinationServiceName);
        Assert.Equal(("db", "dc2", 9191), (entry.Service.Proxy.Upstreams[0].DestinationName, entry.Service.Proxy.Upstreams[0].Datacenter, entry.Service.Proxy.Upstreams[0].LocalBindPort));
    }

    [Fact]
    public async Task FindChecks_AnswersEveryNodeWithTheId()
    {
        var (a, b, web, id) = (Fresh("a"), Fresh("b"), Fresh("web"), Fresh("chk"));
        await Catalog.RegisterAsync(Instance(a, web, checkStatus: "passing", checkId: id));
        Assert.Equal([a], (await Catalog.FindChecksAsync(id)).Select(c => c.Node).ToArray());
        await Catalog.RegisterAsync(Instance(b, web, checkStatus: "passing", checkId: id));
        Assert.Equal(new[] { a, b }.Order().ToArray(), (await Catalog.FindChecksAsync(id)).Select(c => c.Node).ToArray());
    }

    [Fact]
    public async Task UnknownService_IsEmpty_NoName_IsMissingServiceName()
    {
        Assert.Empty((await Catalog.GetServiceHealthAsync(Fresh("none"))).Instances);
        var missing = await Assert.ThrowsAsync<MeridianValidationException>(() => Catalog.GetServiceHealthAsync(""));
        Assert.Equal("Missing service name", Assert.Single(missing.Problems).Message);
    }

    [Fact]
    public async Task OtherDatacenter_Unknown_AnswersNoPathToDatacenter()
    {
        var unknown = await Assert.ThrowsAsync<UnknownDatacenterException>(() => Catalog.GetServiceHealthAsync("web", datacenter: "dc9"));
        Assert.StartsWith("No path to datacenter", unknown.Message);
        var write = await Assert.ThrowsAsync<UnknownDatacenterException>(() => Catalog.RegisterAsync(Instance("n", "web") with { Datacenter = "dc9" }));
        Assert.StartsWith("No path to datacenter", write.Message);
    }

    [Fact]
    public async Task OtherDatacenter_Unreachable_AnswersConsulsText()
    {
        await using var cluster = await CustomCluster.StartAsync(s => s.AddSingleton<IDatacenterLinks>(new UnreachableLinks()));
        var catalog = cluster.GatewayClient.GetGrain<ICatalogGrain>(CustomCluster.Datacenter);
        foreach (var call in new Func<Task>[]
        {
            () => catalog.GetServiceHealthAsync("web", datacenter: "dc2"),
            () => catalog.GetNodesAsync("dc2"),
            () => catalog.GetServicesAsync("dc2"),
            () => catalog.DeregisterAsync(new() { Node = "n", Datacenter = "dc2" }),
        })
        {
            var e = await Assert.ThrowsAsync<DatacenterUnreachableException>(call);
            Assert.StartsWith("Remote DC has no server currently reachable", e.Message);
        }
    }

    private sealed class UnreachableLinks : IDatacenterLinks
    {
        public Task<IGrainFactory> GetAsync(string datacenter, TimeSpan wait, CancellationToken cancellationToken = default)
            => throw new DatacenterUnreachableException(datacenter, $"{datacenter}: not connected within {wait}");
    }
}

/// <summary>TTL checks on a movable clock: critical once the TTL passes unrefreshed, back on a refresh, also after reactivation.</summary>
[Trait("Category", "Cluster")]
public sealed class CatalogTtlTests
{
    [Fact]
    public async Task TtlCheck_NotRefreshed_TurnsCritical_RefreshRestores_EvenAfterReactivation()
    {
        var clock = new ShiftedClock();
        await using var cluster = await CustomCluster.StartAsync(s => s.AddSingleton<TimeProvider>(clock));
        var catalog = cluster.GatewayClient.GetGrain<ICatalogGrain>(CustomCluster.Datacenter);
        await catalog.RegisterAsync(new CatalogRegisterRequestDto
        {
            Node = "n1", Address = "10.0.0.1", Service = new() { Service = "web", Port = 80 },
            Check = new() { CheckID = "web-ttl", ServiceID = "web", Type = "ttl", Status = "passing", Definition = new() { TTL = "30s" } },
        });
        Assert.Single((await catalog.GetServiceHealthAsync("web", passingOnly: true)).Instances);

        clock.Advance(TimeSpan.FromSeconds(31));
        var expired = Assert.Single(Assert.Single((await catalog.GetServiceHealthAsync("web")).Instances).Checks);
        Assert.Equal(("critical", "TTL expired"), (expired.Status, expired.Output));
        Assert.Empty((await catalog.GetServiceHealthAsync("web", passingOnly: true)).Instances);

        // Every catalog grain deactivated: the service reloads its buckets and the TTL rule still applies.
        await cluster.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        Assert.Empty((await catalog.GetServiceHealthAsync("web", passingOnly: true)).Instances);
        Assert.Equal("critical", Assert.Single(await catalog.FindChecksAsync("web-ttl")).Status);

        await catalog.UpdateCheckAsync(new CheckUpdateDto { Node = "n1", CheckID = "web-ttl", Status = "passing" });
        Assert.Single((await catalog.GetServiceHealthAsync("web", passingOnly: true)).Instances);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Single((await catalog.GetServiceHealthAsync("web", passingOnly: true)).Instances);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Empty((await catalog.GetServiceHealthAsync("web", passingOnly: true)).Instances);
    }
}
