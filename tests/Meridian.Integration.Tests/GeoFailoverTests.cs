using System.Collections.Immutable;
using System.Net;
using Meridian.Grains;
using Meridian.Integration.Tests.Processes;
using Meridian.Testing;

namespace Meridian.Integration.Tests;

/// <summary>
/// Issue 14 §3–§4 on three real datacenters (set up as <see cref="DatacenterLinksTests"/>: dc2 behind a 5 ms and dc3
/// behind a 20 ms delaying proxy): a prepared query in dc1 answers locally while it can, fails over to the nearest
/// datacenter by measured RTT, then to the listed one, comes back when dc1 heals, and skips a datacenter that went
/// down; <c>translate_wan_addrs</c> on in dc1 and off in dc2, field by field, the local answer never translated.
/// </summary>
[Trait("Category", "Integration")]
public sealed class GeoFailoverTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task GeoFailover_LocalCritical_Dc2_ThenDc3_ThenBackLocal_DownDatacenterSkipped_TranslatedFromDc1Only()
    {
        var dc1Settings = DatacenterLinksTests.Wan("dc1", null, null, null);
        dc1Settings["Meridian:TranslateWanAddrs"] = "true";
        await using var dc1 = await InProcessDatacenter.StartAsync(settings: dc1Settings);
        var ports = FreePorts.Take(4);
        await using var proxy2 = DelayProxy.Start(new IPEndPoint(System.Net.IPAddress.Loopback, ports[0]), TimeSpan.FromMilliseconds(5), ports[1]);
        await using var proxy3 = DelayProxy.Start(new IPEndPoint(System.Net.IPAddress.Loopback, ports[2]), TimeSpan.FromMilliseconds(20), ports[3]);
        InProcessDatacenter? dc2 = await InProcessDatacenter.StartAsync(null, DatacenterLinksTests.AdvertiseGatewayPort(ports[1]),
            DatacenterLinksTests.Wan("dc2", dc1.Gateway, ports[0], proxy2.Address));
        await using var dc3 = await InProcessDatacenter.StartAsync(null, DatacenterLinksTests.AdvertiseGatewayPort(ports[3]),
            DatacenterLinksTests.Wan("dc3", dc1.Gateway, ports[2], proxy3.Address));
        try
        {
            await DatacenterLinksTests.PollAsync(dc1, "dc1", l => DatacenterLinksTests.Names(l) == "dc1,dc2,dc3" && l.Datacenters.All(d => d.Reachable && d.Rtt is not null));
            foreach (var (dc, n) in new[] { (dc1, 1), (dc2, 2), (dc3, 3) })
                await Catalog(dc, $"dc{n}").RegisterAsync(WebInstance(n));

            var queries = dc1.Grains.GetGrain<IPreparedQueryGrain>("dc1");
            // The documented geo-failover shape: the nearest one by RTT, then an explicit list (dc9 is unknown: skipped).
            await queries.CreateAsync(new PreparedQueryDto
            {
                Name = "geo-web", Service = new ServiceQueryDto { Service = "web", Failover = new() { NearestN = 1, Datacenters = ["dc9", "dc3"] } },
            });

            var local = await queries.ExecuteAsync("geo-web");
            Assert.Equal(("dc1", 0, false), (local.Datacenter, local.Failovers, local.AddressesTranslated));
            var localNode = Assert.Single(local.Nodes);
            Assert.Equal(("10.1.0.1", "10.1.0.11", 8080), (localNode.Node.Address, localNode.Service.Address, localNode.Service.Port)); // never translated

            await SetAsync(dc1, 1, "critical");
            var fromDc2 = await queries.ExecuteAsync("geo-web");
            Assert.Equal(("dc2", 1, true), (fromDc2.Datacenter, fromDc2.Failovers, fromDc2.AddressesTranslated));
            var remote = Assert.Single(fromDc2.Nodes);
            // translate_wan_addrs, field by field: node address ← wan, service address ← its wan tagged address, port ← the wan port.
            Assert.Equal(("node-2", "dc2", "203.0.113.2", "203.0.113.102", 18080),
                (remote.Node.Node, remote.Node.Datacenter, remote.Node.Address, remote.Service.Address, remote.Service.Port));
            Assert.Equal("10.1.0.2", remote.Node.TaggedAddresses["lan"]); // tagged addresses themselves unchanged

            await SetAsync(dc2, 2, "critical");
            var fromDc3 = await queries.ExecuteAsync("geo-web");
            Assert.Equal(("dc3", 2), (fromDc3.Datacenter, fromDc3.Failovers));
            Assert.Equal("node-3", Assert.Single(fromDc3.Nodes).Node.Node);

            await SetAsync(dc1, 1, "passing");
            var back = await queries.ExecuteAsync("geo-web");
            Assert.Equal(("dc1", 0, "node-1"), (back.Datacenter, back.Failovers, Assert.Single(back.Nodes).Node.Node));

            // Catalog and health with dc: translated in dc1 (option on), as registered in dc2 (option off).
            var healthFromDc1 = await Catalog(dc1, "dc1").GetServiceHealthAsync("web", false, "dc3");
            Assert.True(healthFromDc1.AddressesTranslated);
            Assert.Equal(("203.0.113.3", "203.0.113.103", 18080), Fields(Assert.Single(healthFromDc1.Instances)));
            var nodesFromDc1 = await Catalog(dc1, "dc1").GetNodesAsync("dc3");
            Assert.Equal(("203.0.113.3", true), (Assert.Single(nodesFromDc1.Nodes).Address, nodesFromDc1.AddressesTranslated));
            var healthFromDc2 = await Catalog(dc2, "dc2").GetServiceHealthAsync("web", false, "dc3");
            Assert.False(healthFromDc2.AddressesTranslated);
            Assert.Equal(("10.1.0.3", "10.1.0.13", 8080), Fields(Assert.Single(healthFromDc2.Instances)));
            var ownFromDc1 = await Catalog(dc1, "dc1").GetServiceHealthAsync("web", false, "dc1");
            Assert.Equal(("10.1.0.1", "10.1.0.11", 8080, false), (Fields(ownFromDc1.Instances[0]).Item1, Fields(ownFromDc1.Instances[0]).Item2, Fields(ownFromDc1.Instances[0]).Item3, ownFromDc1.AddressesTranslated));

            // dc2 goes down (with its WAN path): a query listing it first still answers, from dc3.
            await queries.CreateAsync(new PreparedQueryDto
            {
                Name = "listed-web", Service = new ServiceQueryDto { Service = "web", Failover = new() { Datacenters = ["dc2", "dc3"] } },
            });
            await dc2.DisposeAsync();
            dc2 = null;
            await proxy2.DisposeAsync();
            await SetAsync(dc1, 1, "critical");
            var skipped = await queries.ExecuteAsync("listed-web");
            Assert.Equal(("dc3", 2, "node-3"), (skipped.Datacenter, skipped.Failovers, Assert.Single(skipped.Nodes).Node.Node));
        }
        finally
        {
            if (dc2 is not null) await dc2.DisposeAsync();
        }
    }

    private static ICatalogGrain Catalog(InProcessDatacenter dc, string name) => dc.Grains.GetGrain<ICatalogGrain>(name);

    private static (string, string, int) Fields(CheckServiceNodeDto e) => (e.Node.Address, e.Service.Address, e.Service.Port);

    // node-N in dcN: LAN 10.1.0.N, WAN 203.0.113.N; web on it at 10.1.0.1N:8080, WAN 203.0.113.10N:18080; check "web-alive" passing.
    private static CatalogRegisterRequestDto WebInstance(int n) => new()
    {
        Node = $"node-{n}", Address = $"10.1.0.{n}",
        TaggedAddresses = ImmutableDictionary<string, string>.Empty.Add("lan", $"10.1.0.{n}").Add("wan", $"203.0.113.{n}"),
        Service = new NodeServiceDto
        {
            Service = "web", Address = $"10.1.0.1{n}", Port = 8080,
            TaggedAddresses = ImmutableDictionary<string, ServiceAddressDto>.Empty
                .Add("lan", new ServiceAddressDto { Address = $"10.1.0.1{n}", Port = 8080 })
                .Add("wan", new ServiceAddressDto { Address = $"203.0.113.10{n}", Port = 18080 }),
        },
        Check = new HealthCheckDto { CheckID = "web-alive", Status = "passing", ServiceID = "web" },
    };

    private static Task SetAsync(InProcessDatacenter dc, int n, string status) =>
        Catalog(dc, $"dc{n}").UpdateCheckAsync(new CheckUpdateDto { Node = $"node-{n}", CheckID = "web-alive", Status = status });
}
