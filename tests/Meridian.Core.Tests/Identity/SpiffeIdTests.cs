using Meridian.Core.Identity;

namespace Meridian.Core.Tests.Identity;

[Trait("Category", "Unit")]
public sealed class SpiffeIdTests
{
    private const string Td = "11111111-2222-3333-4444-555555555555.consul";

    public static TheoryData<SpiffeId, string> BuiltIds => new()
    {
        { new ServiceSpiffeId(Td, "default", "dc1", "web"), $"spiffe://{Td}/ns/default/dc/dc1/svc/web" },
        { new ServiceSpiffeId(Td, "default", "dc1", "web", "default"), $"spiffe://{Td}/ns/default/dc/dc1/svc/web" },
        { new ServiceSpiffeId(Td, "billing", "dc2", "db", "finance"), $"spiffe://{Td}/ap/finance/ns/billing/dc/dc2/svc/db" },
        { new ServiceSpiffeId(Td, "default", "dc1", "web/api"), $"spiffe://{Td}/ns/default/dc/dc1/svc/web%2Fapi" },
        { new ServiceSpiffeId(Td, "default", "dc1", "web api"), $"spiffe://{Td}/ns/default/dc/dc1/svc/web%20api" },
        { new ServiceSpiffeId(Td, "default", "dc1", "a:b@c+d=e"), $"spiffe://{Td}/ns/default/dc/dc1/svc/a:b@c+d=e" },
        { new ServiceSpiffeId(Td, "default", "dc1", "café"), $"spiffe://{Td}/ns/default/dc/dc1/svc/caf%C3%A9" },
        { new AgentSpiffeId(Td, "dc1", "node-1"), $"spiffe://{Td}/agent/client/dc/dc1/id/node-1" },
        { new AgentSpiffeId(Td, "dc1", "node-1", "part1"), $"spiffe://{Td}/ap/part1/agent/client/dc/dc1/id/node-1" },
        { new ServerSpiffeId(Td, "dc1"), $"spiffe://{Td}/agent/server/dc/dc1" },
        { new MeshGatewaySpiffeId(Td, "dc1"), $"spiffe://{Td}/gateway/mesh/dc/dc1" },
        { new MeshGatewaySpiffeId(Td, "dc1", "part1"), $"spiffe://{Td}/ap/part1/gateway/mesh/dc/dc1" },
        { new SigningSpiffeId("11111111-2222-3333-4444-555555555555", "consul"), $"spiffe://{Td}" },
        { new SigningSpiffeId("ABCDEF", "Consul"), "spiffe://abcdef.consul" },
    };

    [Theory]
    [MemberData(nameof(BuiltIds))]
    public void Uri_BuiltId_MatchesConsulFormat(SpiffeId id, string expected)
    {
        Assert.Equal(expected, id.Uri);
        Assert.Equal(expected, id.ToString());
    }

    [Theory]
    [MemberData(nameof(BuiltIds))]
    public void Parse_BuiltUri_RoundTripsToEqualUri(SpiffeId id, string uri)
    {
        var parsed = SpiffeId.Parse(uri);
        Assert.Equal(id.GetType(), parsed.GetType());
        Assert.Equal(uri, parsed.Uri);
    }

    [Theory]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web", "default", "default", "dc1", "web")]
    [InlineData("spiffe://td.consul/ap/finance/ns/billing/dc/dc2/svc/db", "finance", "billing", "dc2", "db")]
    [InlineData("spiffe://td.consul/ap/default/ns/default/dc/dc1/svc/web", "default", "default", "dc1", "web")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web%2Fapi", "default", "default", "dc1", "web/api")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web%2fapi", "default", "default", "dc1", "web/api")]
    [InlineData("spiffe://td.consul/ns/n%20s/dc/d%2Fc/svc/caf%C3%A9", "default", "n s", "d/c", "café")]
    [InlineData("spiffe://td.consul/ap/p%2F1/ns/default/dc/dc1/svc/web", "p/1", "default", "dc1", "web")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/a+b", "default", "default", "dc1", "a+b")]
    [InlineData("SPIFFE://td.consul/ns/default/dc/dc1/svc/web", "default", "default", "dc1", "web")]
    public void Parse_ServiceUri_DecodesEachSegment(string uri, string partition, string ns, string dc, string service)
    {
        var id = Assert.IsType<ServiceSpiffeId>(SpiffeId.Parse(uri));
        Assert.Equal("td.consul", id.Host);
        Assert.Equal(partition, id.Partition);
        Assert.Equal(ns, id.Namespace);
        Assert.Equal(dc, id.Datacenter);
        Assert.Equal(service, id.Service);
    }

    [Fact]
    public void Parse_EscapedService_BuildingReEscapes()
    {
        var id = Assert.IsType<ServiceSpiffeId>(SpiffeId.Parse("spiffe://td.consul/ns/default/dc/dc1/svc/web%2Fapi"));
        Assert.Equal("web/api", id.Service);
        Assert.Equal("spiffe://td.consul/ns/default/dc/dc1/svc/web%2Fapi", id.Uri);
        Assert.Equal(id, new ServiceSpiffeId("td.consul", "default", "dc1", "web/api"));
    }

    [Theory]
    [InlineData("spiffe://td.consul/agent/client/dc/dc1/id/node-1", "default", "dc1", "node-1")]
    [InlineData("spiffe://td.consul/ap/part1/agent/client/dc/dc1/id/node%2F1", "part1", "dc1", "node/1")]
    public void Parse_AgentUri_ReturnsAgentId(string uri, string partition, string dc, string node)
    {
        var id = Assert.IsType<AgentSpiffeId>(SpiffeId.Parse(uri));
        Assert.Equal((partition, dc, node), (id.Partition, id.Datacenter, id.Node));
    }

    [Theory]
    [InlineData("spiffe://td.consul/agent/server/dc/dc1", "dc1")]
    [InlineData("spiffe://td.consul/agent/server/dc/dc%2D2", "dc-2")]
    public void Parse_ServerUri_ReturnsServerId(string uri, string dc)
    {
        var id = Assert.IsType<ServerSpiffeId>(SpiffeId.Parse(uri));
        Assert.Equal(("td.consul", dc), (id.Host, id.Datacenter));
    }

    [Theory]
    [InlineData("spiffe://td.consul/gateway/mesh/dc/dc1", "default", "dc1")]
    [InlineData("spiffe://td.consul/ap/part1/gateway/mesh/dc/dc2", "part1", "dc2")]
    public void Parse_MeshGatewayUri_ReturnsMeshGatewayId(string uri, string partition, string dc)
    {
        var id = Assert.IsType<MeshGatewaySpiffeId>(SpiffeId.Parse(uri));
        Assert.Equal((partition, dc), (id.Partition, id.Datacenter));
    }

    [Theory]
    [InlineData("spiffe://11111111-2222.consul", "11111111-2222", "consul")]
    [InlineData("spiffe://abc.example.org", "abc", "example.org")]
    [InlineData("spiffe://ABC.Consul", "ABC", "Consul")]
    [InlineData("spiffe://abc.", "abc", "")]
    public void Parse_HostOnlyWithDot_ReturnsSigningId(string uri, string clusterId, string domain)
    {
        var id = Assert.IsType<SigningSpiffeId>(SpiffeId.Parse(uri));
        Assert.Equal((clusterId, domain), (id.ClusterId, id.Domain));
    }

    [Theory]
    [InlineData("http://td.consul/ns/default/dc/dc1/svc/web")]
    [InlineData("https://td.consul")]
    [InlineData("web")]
    [InlineData("")]
    [InlineData("/ns/default/dc/dc1/svc/web")]
    [InlineData("spiffe")]
    public void Parse_OtherScheme_ReportsSchemeError(string uri)
    {
        Assert.False(SpiffeId.TryParse(uri, out var id, out var error));
        Assert.Null(id);
        Assert.Equal("SPIFFE ID must have 'spiffe' scheme", error);
        Assert.Equal("SPIFFE ID must have 'spiffe' scheme", Assert.Throws<FormatException>(() => SpiffeId.Parse(uri)).Message);
    }

    [Theory]
    [InlineData("spiffe://td.consul/")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web/extra")]
    [InlineData("spiffe://td.consul/ns//dc/dc1/svc/web")]
    [InlineData("spiffe://td.consul/ap/p/agent/server/dc/dc1")]
    [InlineData("spiffe://td.consul/agent/client/dc/dc1")]
    [InlineData("spiffe://td.consul/gateway/terminating/dc/dc1")]
    [InlineData("spiffe://consul")]
    [InlineData("spiffe://.consul")]
    [InlineData("spiffe:///ns/default/dc/dc1/svc/web")]
    [InlineData("spiffe:/td.consul/ns/default/dc/dc1/svc/web")]
    [InlineData("spiffe:td.consul")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web?x=1")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web#frag")]
    [InlineData("spiffe://user@td.consul/ns/default/dc/dc1/svc/web")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web%zz")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web%2")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/%FF")]
    [InlineData("spiffe://td.consul/ns/default/dc/dc1/svc/web\n")]
    [InlineData(":td.consul")]
    public void Parse_MalformedUri_ReportsFormatErrorWithInput(string uri)
    {
        Assert.False(SpiffeId.TryParse(uri, out _, out var error));
        Assert.Equal($"SPIFFE ID is not in the expected format: {uri}", error);
        Assert.Equal(error, Assert.Throws<FormatException>(() => SpiffeId.Parse(uri)).Message);
    }

    [Fact]
    public void TryParse_Null_ReportsFormatError()
    {
        Assert.False(SpiffeId.TryParse(null, out _, out var error));
        Assert.Equal("SPIFFE ID is not in the expected format: ", error);
    }

    [Theory]
    [InlineData("", "default", "dc1", "web")]
    [InlineData("td.consul", "", "dc1", "web")]
    [InlineData("td.consul", "default", "", "web")]
    [InlineData("td.consul", "default", "dc1", "")]
    [InlineData("td/consul", "default", "dc1", "web")]
    [InlineData("td.consul?x", "default", "dc1", "web")]
    public void Constructor_EmptyOrInvalidPart_Throws(string host, string ns, string dc, string service)
        => Assert.ThrowsAny<ArgumentException>(() => new ServiceSpiffeId(host, ns, dc, service));

    [Fact]
    public void With_EmptyService_Throws()
    {
        var id = new ServiceSpiffeId("td.consul", "default", "dc1", "web");
        Assert.Throws<ArgumentException>(() => id with { Service = "" });
        Assert.Equal("spiffe://td.consul/ns/default/dc/dc1/svc/db", (id with { Service = "db" }).Uri);
    }

    [Theory]
    [InlineData("a.b", "consul")]
    [InlineData("", "consul")]
    public void SigningConstructor_InvalidClusterId_Throws(string clusterId, string domain)
        => Assert.ThrowsAny<ArgumentException>(() => new SigningSpiffeId(clusterId, domain));

    [Fact]
    public void Partition_EmptyOrDefault_EqualsParsedDefault()
    {
        var parsed = SpiffeId.Parse("spiffe://td.consul/ns/default/dc/dc1/svc/web");
        Assert.Equal(parsed, new ServiceSpiffeId("td.consul", "default", "dc1", "web", ""));
        Assert.Equal(parsed, new ServiceSpiffeId("td.consul", "default", "dc1", "web"));
        Assert.Equal(SpiffeId.Parse("spiffe://td.consul/ap/default/ns/default/dc/dc1/svc/web"), parsed);
    }

    public static TheoryData<string, bool> CanSignCases => new()
    {
        // signing vs signing: the same ID only
        { "spiffe://abc.consul", true },
        { "spiffe://abd.consul", false },
        { "spiffe://abc.example", false },
        { "spiffe://ABC.consul", false },                              // Consul compares the structs exactly
        // service, mesh gateway, server: host under ASCII case folding
        { "spiffe://abc.consul/ns/default/dc/dc1/svc/web", true },
        { "spiffe://ABC.Consul/ns/default/dc/dc1/svc/web", true },
        { "spiffe://abc.consul/ap/p1/ns/default/dc/dc2/svc/web", true },
        { "spiffe://other.consul/ns/default/dc/dc1/svc/web", false },
        { "spiffe://abc.consul.evil/ns/default/dc/dc1/svc/web", false },
        { "spiffe://abc.consul/gateway/mesh/dc/dc1", true },
        { "spiffe://ABC.CONSUL/gateway/mesh/dc/dc1", true },
        { "spiffe://other.consul/gateway/mesh/dc/dc1", false },
        { "spiffe://abc.consul/agent/server/dc/dc1", true },
        { "spiffe://other.consul/agent/server/dc/dc1", false },
        // agents: never, even in the same trust domain
        { "spiffe://abc.consul/agent/client/dc/dc1/id/node1", false },
        { "spiffe://other.consul/agent/client/dc/dc1/id/node1", false },
    };

    [Theory]
    [MemberData(nameof(CanSignCases))]
    public void CanSign_OtherId_FollowsConsulRules(string other, bool expected)
    {
        var signer = new TrustDomain("abc").SigningId;
        Assert.Equal(expected, signer.CanSign(SpiffeId.Parse(other)));
    }

    [Fact]
    public void CanSign_UpperCaseSigner_ComparesLowerCasedHost()
    {
        var signer = Assert.IsType<SigningSpiffeId>(SpiffeId.Parse("spiffe://ABC.consul"));
        Assert.Equal("abc.consul", signer.Host);
        Assert.True(signer.CanSign(SpiffeId.Parse("spiffe://abc.consul/ns/default/dc/dc1/svc/web")));
        Assert.True(signer.CanSign(SpiffeId.Parse("spiffe://ABC.consul")));
        Assert.False(signer.CanSign(SpiffeId.Parse("spiffe://abc.consul")));
    }
}
