using System.Collections.Immutable;
using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli.Tests;

/// <summary>Issue 14 §5: the endpoints an upstream resolves to (the SDK's pure part; the calls are covered through the CLI and the grains).</summary>
[Trait("Category", "Unit")]
public sealed class UpstreamResolutionTests
{
    private const string Td = "11111111-2222-3333-4444-555555555555.consul";

    private static CheckServiceNodeDto Entry(string dc, string service, string kind = "", string destination = "") => new()
    {
        Node = new CatalogNodeDto
        {
            Node = $"n-{dc}", Datacenter = dc, Address = "10.0.0.1",
            TaggedAddresses = ImmutableDictionary<string, string>.Empty.Add("wan", "203.0.113.1"),
        },
        Service = new NodeServiceDto
        {
            ID = $"{service}-1", Service = service, Kind = kind, Address = "10.0.0.2", Port = 8080,
            TaggedAddresses = ImmutableDictionary<string, ServiceAddressDto>.Empty.Add("wan", new ServiceAddressDto { Address = "203.0.113.2", Port = 18080 }),
            Proxy = kind.Length == 0 ? null : new ProxyDto { DestinationServiceName = destination },
        },
    };

    [Fact]
    public void Endpoints_Local_AsRegistered_Remote_WanAddressAndPort_SpiffeIdNamesTheDestinationInItsDatacenter()
    {
        var endpoints = UpstreamResolution.Endpoints([Entry("dc1", "db"), Entry("dc2", "db"), Entry("dc2", "db-sidecar-proxy", "connect-proxy", "db")], "dc1", Td);

        Assert.Equal(
        [
            new UpstreamEndpoint("10.0.0.2", 8080, "dc1", $"spiffe://{Td}/ns/default/dc/dc1/svc/db", "n-dc1", "db-1"),
            new UpstreamEndpoint("203.0.113.2", 18080, "dc2", $"spiffe://{Td}/ns/default/dc/dc2/svc/db", "n-dc2", "db-1"),
            new UpstreamEndpoint("203.0.113.2", 18080, "dc2", $"spiffe://{Td}/ns/default/dc/dc2/svc/db", "n-dc2", "db-sidecar-proxy-1"),
        ], endpoints.ToArray());
    }

    [Fact]
    public void SidecarsOf_KeepsOnlyProxiesForTheDestination()
    {
        var entries = new[] { Entry("dc1", "db"), Entry("dc1", "db-sidecar-proxy", "connect-proxy", "db"), Entry("dc1", "x-sidecar-proxy", "connect-proxy", "x") };
        Assert.Equal(["db-sidecar-proxy-1"], UpstreamResolution.SidecarsOf(entries, "db").Select(e => e.Service.ID));
    }
}
