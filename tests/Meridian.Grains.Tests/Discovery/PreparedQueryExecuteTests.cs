using System.Collections.Immutable;

namespace Meridian.Grains.Tests.Discovery;

/// <summary>
/// Issue 14 §3: executing a prepared query in one datacenter (the single-datacenter test cluster, so failover has
/// nowhere to go: every listed datacenter is unknown). Called as the SDK calls it, through the gateway. The
/// three-datacenter failover runs in Meridian.Integration.Tests (GeoFailoverTests).
/// </summary>
[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class PreparedQueryExecuteTests(ClusterFixture fx)
{
    private const string Dc = ClusterFixture.Datacenter;

    private IPreparedQueryGrain Queries => fx.GatewayClient.GetGrain<IPreparedQueryGrain>(Dc);

    private ICatalogGrain Catalog => fx.GatewayClient.GetGrain<ICatalogGrain>(Dc);

    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    private Task Register(string node, string service, string status, ImmutableArray<string> tags = default, string kind = "", ProxyDto? proxy = null, string? serviceName = null) =>
        Catalog.RegisterAsync(new CatalogRegisterRequestDto
        {
            Node = node, Address = "10.1.0.1",
            TaggedAddresses = ImmutableDictionary<string, string>.Empty.Add("wan", "198.51.100.1"),
            Service = new NodeServiceDto { Service = serviceName ?? service, Port = 8080, Tags = tags.IsDefault ? [] : tags, Kind = kind, Proxy = proxy },
            Check = new HealthCheckDto { CheckID = $"{node}-alive", Status = status, ServiceID = serviceName ?? service },
        });

    [Fact]
    public async Task Execute_LocalInstances_CriticalLeftOut_WarningKept_AnsweredHereWithoutFailover()
    {
        var web = Fresh("web");
        await Register(Fresh("n-pass"), web, "passing");
        await Register(Fresh("n-warn"), web, "warning");
        await Register(Fresh("n-crit"), web, "critical");
        await Queries.CreateAsync(new PreparedQueryDto { Name = web, Service = new ServiceQueryDto { Service = web, Failover = new() { NearestN = 3 } } });

        var answer = await Queries.ExecuteAsync(web);

        Assert.Equal((web, Dc, 0, false), (answer.Service, answer.Datacenter, answer.Failovers, answer.AddressesTranslated));
        Assert.Equal(["passing", "warning"], answer.Nodes.Select(n => n.Checks.Single().Status).Order());
        Assert.All(answer.Nodes, n => Assert.Equal("10.1.0.1", n.Node.Address)); // local: never translated
    }

    [Fact]
    public async Task Execute_OnlyPassingAndTags_Filter_LimitCaps()
    {
        var web = Fresh("web");
        foreach (var i in Enumerable.Range(0, 4)) await Register(Fresh($"n{i}"), web, "passing", ["v2"]);
        await Register(Fresh("n-warn"), web, "warning", ["v2"]);
        await Register(Fresh("n-v1"), web, "passing", ["v1"]);
        var id = await Queries.CreateAsync(new PreparedQueryDto
        {
            Name = web, Service = new ServiceQueryDto { Service = web, OnlyPassing = true, Tags = ["V2", "!canary"] },
        });

        Assert.Equal(4, (await Queries.ExecuteAsync(id)).Nodes.Length);
        Assert.Equal(2, (await Queries.ExecuteAsync(web, new QueryExecuteOptionsDto { Limit = 2 })).Nodes.Length);
    }

    [Fact]
    public async Task Execute_NoInstances_UnknownFailoverDatacenters_Skipped_AnswerIsEmptyAndLocal()
    {
        var web = Fresh("web");
        await Register(Fresh("n"), web, "critical");
        await Queries.CreateAsync(new PreparedQueryDto
        {
            Name = web, Service = new ServiceQueryDto { Service = web, Failover = new() { NearestN = 2, Datacenters = ["nowhere-1", "nowhere-2"] } },
        });

        var answer = await Queries.ExecuteAsync(web);

        // Nothing known to try: no failover counted (Consul counts the candidates tried), the local datacenter answers.
        Assert.Equal((Dc, 0, 0), (answer.Datacenter, answer.Failovers, answer.Nodes.Length));
    }

    [Fact]
    public async Task Execute_Template_RendersForTheName_AndConnectFindsTheSidecar()
    {
        var prefix = Fresh("geo");
        var web = $"{prefix}-web";
        await Register(Fresh("n-app"), web, "passing");
        await Register(Fresh("n-proxy"), web, "passing", kind: "connect-proxy", serviceName: $"{web}-sidecar-proxy",
            proxy: new ProxyDto { DestinationServiceName = web, LocalServicePort = 8080 });
        await Queries.CreateAsync(new PreparedQueryDto
        {
            Name = prefix + "-", Template = new QueryTemplateDto { Type = "name_prefix_match" },
            Service = new ServiceQueryDto { Service = "${name.full}" },
        });

        var plain = await Queries.ExecuteAsync(web);
        Assert.Equal([""], plain.Nodes.Select(n => n.Service.Kind));

        var connect = await Queries.ExecuteAsync(web, new QueryExecuteOptionsDto { Connect = true });
        var proxy = Assert.Single(connect.Nodes);
        Assert.Equal(("connect-proxy", web), (proxy.Service.Kind, proxy.Service.Proxy!.DestinationServiceName));
    }

    [Fact]
    public async Task Execute_Unknown_QueryNotFound()
    {
        var e = await Assert.ThrowsAsync<MeridianNotFoundException>(() => Queries.ExecuteAsync(Fresh("nothing")));
        Assert.Equal("Query not found", e.Message);
    }
}
