using Meridian.Core.Discovery;
using Meridian.Grains.Catalog;

namespace Meridian.Grains.Tests;

[Trait("Category", "Unit")]
public sealed class CatalogViewsTests
{
    [Fact]
    public void ToServiceInstance_CarriesNodeServiceProxyAndCheckStatuses()
    {
        var entry = new CheckServiceNodeDto
        {
            Node = new CatalogNodeDto { ID = "id-1", Node = "n1", Address = "10.0.0.1", Datacenter = "dc2",
                TaggedAddresses = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty.Add("wan", "198.51.100.1") },
            Service = new NodeServiceDto
            {
                ID = "web-proxy-1", Service = "web-proxy", Kind = "connect-proxy", Port = 21000, Tags = ["v1"],
                TaggedAddresses = System.Collections.Immutable.ImmutableDictionary<string, ServiceAddressDto>.Empty.Add("wan", new ServiceAddressDto { Address = "198.51.100.1", Port = 443 }),
                Proxy = new ProxyDto { DestinationServiceName = "web", Upstreams = [new UpstreamDto { DestinationName = "db", Datacenter = "dc3", LocalBindPort = 9191, MeshGateway = new() { Mode = "local" } }] },
            },
            Checks = [new HealthCheckDto { Node = "n1", CheckID = "serfHealth", Status = "warning" }, new HealthCheckDto { Node = "n1", CheckID = "c", ServiceID = "web-proxy-1", Status = "passing", Type = "ttl" }],
        };
        var instance = entry.ToServiceInstance();
        Assert.Equal(("n1", "dc2", "198.51.100.1", "id-1"), (instance.Node.Name, instance.Node.Datacenter, instance.Node.TaggedAddresses["wan"], instance.Node.Id));
        Assert.Equal((ServiceKinds.ConnectProxy, 21000, new ServiceAddress("198.51.100.1", 443)), (instance.Service.Kind, instance.Service.Port, instance.Service.TaggedAddresses["wan"]));
        var upstream = Assert.Single(instance.Service.Proxy!.Upstreams);
        Assert.Equal(("web", "db", "dc3", 9191, "local"), (instance.Service.Proxy.DestinationServiceName, upstream.DestinationName, upstream.Datacenter, upstream.LocalBindPort, upstream.MeshGatewayMode));
        Assert.Equal([HealthStatus.Warning, HealthStatus.Passing], instance.Checks.Select(c => c.Status));
        Assert.Equal("ttl", instance.Checks[1].Type);
    }
}
