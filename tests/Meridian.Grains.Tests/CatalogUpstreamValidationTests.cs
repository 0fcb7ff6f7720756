namespace Meridian.Grains.Tests;

/// <summary>Issue 14 §2: a sidecar's upstreams are validated at catalog registration with Consul's texts; nothing is written when one is wrong.</summary>
[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class CatalogUpstreamValidationTests(ClusterFixture fx)
{
    private const string Dc = ClusterFixture.Datacenter;

    private ICatalogGrain Catalog => fx.GatewayClient.GetGrain<ICatalogGrain>(Dc);

    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    [Fact]
    public async Task Register_ConnectProxyWithBadUpstreams_EveryConsulText_NothingWritten()
    {
        var node = Fresh("n-up");
        UpstreamDto Up(string name, int port, string type = "", string dc = "", string peer = "", string mode = "") =>
            new() { DestinationName = name, LocalBindPort = port, DestinationType = type, Datacenter = dc, DestinationPeer = peer, MeshGateway = new() { Mode = mode } };
        var proxy = new ProxyDto
        {
            DestinationServiceName = "web",
            Upstreams =
            [
                Up("db", 9191, type: "tcp"),
                Up("", 9192),
                Up("*", 9193),
                Up("db", 9194, dc: "dc2", peer: "p1"),
                Up("db", 0),
                Up("cache", 9195, mode: "sideways"),
                Up("api", 9196),
                Up("api", 9197),
                Up("geo", 9196, type: "prepared_query"),
            ],
        };
        var e = await Assert.ThrowsAsync<MeridianValidationException>(() => Catalog.RegisterAsync(new CatalogRegisterRequestDto
        {
            Node = node, Address = "10.0.0.3", Service = new NodeServiceDto { Service = "web-sidecar-proxy", Kind = "connect-proxy", Port = 21000, Proxy = proxy },
        }));

        Assert.Equal(
        [
            ("Service.Proxy.Upstreams[0].DestinationType", "unknown upstream destination type: \"tcp\""),
            ("Service.Proxy.Upstreams[1].DestinationName", "upstream destination name cannot be empty"),
            ("Service.Proxy.Upstreams[2].DestinationName", "upstream destination name cannot be a wildcard"),
            ("Service.Proxy.Upstreams[3].Datacenter", "upstream cannot specify both destination peer and datacenter"),
            ("Service.Proxy.Upstreams[4].LocalBindPort", "upstream local bind port or local socket path must be defined and nonzero"),
            ("Service.Proxy.Upstreams[5].MeshGateway.Mode", "Invalid Mesh Gateway Mode: \"sideways\""),
            ("Service.Proxy.Upstreams[7].DestinationName", "upstreams cannot contain duplicates of [type=\"service\", name=\"api\", partition=\"\", namespace=\"\", peer=\"\", datacenter=\"\"]"),
            ("Service.Proxy.Upstreams[8].LocalBindPort", "upstreams cannot contain duplicates by local bind address and port or unix path; \"127.0.0.1:9196\" is specified twice"),
        ], e.Problems.Select(p => (p.Field, p.Message)));
        Assert.Null(await fx.Client.GetGrain<ICatalogNodeGrain>($"{Dc}/{node}").GetState());

        // The same service in two datacenters is two upstreams (Consul's key includes the datacenter).
        await Catalog.RegisterAsync(new CatalogRegisterRequestDto
        {
            Node = node, Address = "10.0.0.3", Service = new NodeServiceDto
            {
                Service = "web-sidecar-proxy", Kind = "connect-proxy", Port = 21000,
                Proxy = new ProxyDto { DestinationServiceName = "web", Upstreams = [Up("db", 9191), Up("db", 9192, dc: "dc2")] },
            },
        });
        Assert.NotNull(await fx.Client.GetGrain<ICatalogNodeGrain>($"{Dc}/{node}").GetState());
    }
}
