using System.Net;
using Meridian.Grains;
using Meridian.Grains.Hosting;
using Meridian.Integration.Tests.Processes;
using Meridian.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Integration.Tests;

/// <summary>
/// Three datacenters in this process (issue 14 §1), dc2's and dc3's registered WAN gateways behind delaying proxies
/// (5 ms and 20 ms one way): each registers in the primary, every one learns the whole list, links open to any of
/// them, and the RTT measured on the links ranks them (Consul's <c>/v1/catalog/datacenters</c> order).
/// </summary>
[Trait("Category", "Integration")]
public sealed class DatacenterLinksTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ThreeDatacenters_DelayedLinks_RankByMeasuredRtt_StoppedOneLast_ListSurvivesReactivation()
    {
        var dc1 = await InProcessDatacenter.StartAsync(settings: Wan("dc1", null, null, null));
        var ports = FreePorts.Take(4);
        await using var proxy2 = DelayProxy.Start(new IPEndPoint(System.Net.IPAddress.Loopback, ports[0]), TimeSpan.FromMilliseconds(5), ports[1]);
        await using var proxy3 = DelayProxy.Start(new IPEndPoint(System.Net.IPAddress.Loopback, ports[2]), TimeSpan.FromMilliseconds(20), ports[3]);
        await using var dc2 = await InProcessDatacenter.StartAsync(null, AdvertiseGatewayPort(ports[1]), Wan("dc2", dc1.Gateway, ports[0], proxy2.Address));
        InProcessDatacenter? dc3 = await InProcessDatacenter.StartAsync(null, AdvertiseGatewayPort(ports[3]), Wan("dc3", dc1.Gateway, ports[2], proxy3.Address));
        try
        {
            // From the primary: dc2 (about 10 ms round trip) before dc3 (about 40 ms), both measured and reachable.
            var seen = await PollAsync(dc1, "dc1", l => Names(l) == "dc1,dc2,dc3" && l.Datacenters.All(d => d.Reachable && d.Rtt is not null));
            Assert.True(seen.Datacenters[0] is { Name: "dc1", Local: true, Primary: true, Rtt.Ticks: 0 });
            Assert.True(seen.Datacenters[2].Rtt >= TimeSpan.FromMilliseconds(40), $"dc3's RTT {seen.Datacenters[2].Rtt} is below the 2 × 20 ms the proxy adds");
            Assert.False(seen.Datacenters[1].Primary);

            // A secondary learned the whole list through replication and links to the other secondary: dc1 direct, dc3 delayed.
            await PollAsync(dc2, "dc2", l => Names(l) == "dc2,dc1,dc3" && l.Datacenters.All(d => d.Reachable && d.Rtt is not null));
            var links = dc2.Services.GetRequiredService<IDatacenterLinks>();
            Assert.Equal("dc3", await (await links.GetAsync("dc3", Deadline)).GetGrain<IDatacenterPingGrain>(0).PingAsync());
            var unknown = await Assert.ThrowsAsync<UnknownDatacenterException>(() => links.GetAsync("dc9", TimeSpan.FromSeconds(1)));
            Assert.StartsWith("No path to datacenter", unknown.Message);

            // dc3 stops, and its WAN path with it (a proxy left listening accepts each connection before it finds the
            // target gone, so a link would flap between connected and lost): unreachable, +∞, ranked last from dc1; a
            // call to it fails fast with Consul's text.
            await dc3.DisposeAsync();
            dc3 = null;
            await proxy3.DisposeAsync();
            var after = await PollAsync(dc1, "dc1", l => l.Datacenters is [_, _, { Name: "dc3", Reachable: false, Rtt: null }]);
            Assert.Equal("dc1,dc2,dc3", Names(after));
            await PollAsync(dc2, "dc2", l => l.Datacenters is [_, _, { Name: "dc3", Reachable: false }]);
            var unreachable = await Assert.ThrowsAsync<DatacenterUnreachableException>(() => links.GetAsync("dc3", TimeSpan.FromMilliseconds(300)));
            Assert.StartsWith("Remote DC has no server currently reachable", unreachable.Message);
        }
        finally
        {
            if (dc3 is not null) await dc3.DisposeAsync();
            await dc1.DisposeAsync();
        }

        // With the primary gone too, dc2's registry comes back from its own storage, whole.
        await dc2.DeactivateIdleGrainsAsync();
        var kept = await dc2.Grains.GetGrain<IDatacenterRegistryGrain>("dc2").ListAsync();
        Assert.Equal(["dc1", "dc2", "dc3"], kept.Select(e => e.Name));
        Assert.Equal(proxy3.Address, Assert.Single(kept.Single(e => e.Name == "dc3").Gateways));
    }

    [Fact]
    public async Task LinkWithoutPings_IdleLongerThanIdleTimeout_Closes_AndReopensOnDemand()
    {
        var quiet = new Dictionary<string, string?> { ["Meridian:Wan:PingInterval"] = "00:00:00", ["Meridian:Wan:IdleTimeout"] = "00:00:01" };
        await using var dc1 = await InProcessDatacenter.StartAsync(settings: new Dictionary<string, string?>(quiet) { ["Meridian:Datacenter"] = "dc1" });
        await using var dc2 = await InProcessDatacenter.StartAsync(settings: new Dictionary<string, string?>(quiet)
        {
            ["Meridian:Datacenter"] = "dc2", ["Meridian:PrimaryDatacenter"] = "dc1", ["Meridian:Primary:Gateways:0"] = dc1.Gateway,
        });
        var registry = dc1.Grains.GetGrain<IDatacenterRegistryGrain>("dc1");
        await UntilAsync(async () => (await registry.ListAsync()).Any(e => e.Name == "dc2"), "dc2 registered in dc1");

        var links = dc1.Services.GetRequiredService<IDatacenterLinks>();
        var distances = dc1.Services.GetRequiredService<IDatacenterDistances>();
        Assert.Equal("dc2", await (await links.GetAsync("dc2", Deadline)).GetGrain<IDatacenterPingGrain>(0).PingAsync());
        Assert.True(distances.IsReachable("dc2"));
        // No pings, no callers: closed at the first sweep after a second idle (sweeps run every 5 s without pings).
        await UntilAsync(() => Task.FromResult(!distances.IsReachable("dc2")), "the idle link to dc2 closed");
        Assert.Equal("dc2", await (await links.GetAsync("dc2", Deadline)).GetGrain<IDatacenterPingGrain>(0).PingAsync());
    }

    private static async Task UntilAsync(Func<Task<bool>> done, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!await done())
        {
            if (DateTime.UtcNow > until) throw new Xunit.Sdk.XunitException($"never: {what}");
            await Task.Delay(100);
        }
    }

    // NOTE: an Orleans gateway introduces itself with its advertised endpoint, and a client drops what it sent to the
    // endpoint it dialled when the two differ (measured: "Attempting to send message addressed to <proxy> to connection
    // with <gateway>", and the link never connected). Behind a proxy or NAT the gateway must advertise the endpoint
    // other datacenters dial: here the proxy's port, while it listens on its own.
    internal static Action<IServiceCollection> AdvertiseGatewayPort(int advertised) => services =>
        services.PostConfigure<Orleans.Configuration.EndpointOptions>(o =>
        {
            o.GatewayListeningEndpoint = new IPEndPoint(o.AdvertisedIPAddress, o.GatewayPort);
            o.GatewayPort = advertised;
        });

    internal static Dictionary<string, string?> Wan(string name, string? primaryGateway, int? gatewayPort, string? wanGateway)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Meridian:Datacenter"] = name,
            ["Meridian:PrimaryDatacenter"] = "dc1",
            ["Meridian:Wan:PingInterval"] = "00:00:00.200",
            ["Meridian:Wan:Address"] = $"198.51.100.{name[^1]}",
        };
        if (primaryGateway is not null) settings["Meridian:Primary:Gateways:0"] = primaryGateway;
        if (gatewayPort is { } port) settings["Meridian:Endpoints:GatewayPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (wanGateway is not null) settings["Meridian:Wan:Gateways:0"] = wanGateway;
        return settings;
    }

    internal static string Names(DatacenterListDto list) => string.Join(",", list.Datacenters.Select(d => d.Name));

    internal static async Task<DatacenterListDto> PollAsync(InProcessDatacenter dc, string name, Func<DatacenterListDto, bool> done)
    {
        var until = DateTime.UtcNow + Deadline;
        DatacenterListDto last;
        do
        {
            last = await dc.Grains.GetGrain<IDatacenterRegistryGrain>(name).GetDatacentersAsync();
            if (done(last)) return last;
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < until);
        throw new Xunit.Sdk.XunitException($"{name} never saw the expected list; last: " +
            string.Join("; ", last.Datacenters.Select(d => $"{d.Name} reachable={d.Reachable} rtt={d.Rtt}")));
    }
}
