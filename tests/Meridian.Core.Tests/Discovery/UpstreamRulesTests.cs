using Meridian.Core.Discovery;

namespace Meridian.Core.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class UpstreamRulesTests
{
    private static Upstream Up(string name = "db", int port = 9191) => new() { DestinationName = name, LocalBindPort = port };

    public static TheoryData<Upstream, string, string> OneBad => new()
    {
        { Up() with { DestinationType = "svc" }, "Proxy.Upstreams[0].DestinationType", "unknown upstream destination type: \"svc\"" },
        { Up(""), "Proxy.Upstreams[0].DestinationName", "upstream destination name cannot be empty" },
        { Up("*"), "Proxy.Upstreams[0].DestinationName", "upstream destination name cannot be a wildcard" },
        { Up() with { DestinationPeer = "p1", Datacenter = "dc2" }, "Proxy.Upstreams[0].Datacenter", "upstream cannot specify both destination peer and datacenter" },
        { Up(port: 0), "Proxy.Upstreams[0].LocalBindPort", "upstream local bind port or local socket path must be defined and nonzero" },
        { Up() with { LocalBindSocketPath = "/tmp/db.sock" }, "Proxy.Upstreams[0].LocalBindSocketPath", "only one of upstream local bind port or local socket path can be defined and nonzero" },
        { Up() with { MeshGatewayMode = "far" }, "Proxy.Upstreams[0].MeshGateway.Mode", "Invalid Mesh Gateway Mode: \"far\"" },
        { Up() with { DestinationPartition = "p2", Datacenter = "dc2" }, "Proxy.Upstreams[0].Datacenter", "upstreams cannot target another datacenter in non default partition" },
        { Up() with { DestinationPartition = "p2", DestinationPeer = "peer1" }, "Proxy.Upstreams[0].DestinationPartition", "upstreams must target peers in the same partition as the service" },
    };

    [Theory]
    [MemberData(nameof(OneBad))]
    public void Validate_OneBadUpstream_ConsulText(Upstream upstream, string field, string message)
    {
        var problem = Assert.Single(UpstreamRules.Validate([upstream]));
        Assert.Equal(field, problem.Field);
        Assert.Equal(message, problem.Message);
    }

    public static TheoryData<Upstream> Good => new()
    {
        Up(),
        Up() with { DestinationType = "service", Datacenter = "dc2" },
        Up("geo-db") with { DestinationType = "prepared_query" },
        Up(port: 0) with { LocalBindSocketPath = "/tmp/db.sock", LocalBindSocketMode = "0600" },
        Up("*", 0) with { CentrallyConfigured = true },
        Up() with { MeshGatewayMode = "remote" },
        Up() with { MeshGatewayMode = "local" },
        Up() with { MeshGatewayMode = "none" },
        Up() with { DestinationPartition = "default", Datacenter = "dc2" },
    };

    [Theory]
    [MemberData(nameof(Good))]
    public void Validate_GoodUpstream_NoProblem(Upstream upstream) => Assert.Empty(UpstreamRules.Validate([upstream]));

    [Fact]
    public void Validate_SameServiceTwoDatacenters_Allowed() =>
        Assert.Empty(UpstreamRules.Validate([Up() with { Datacenter = "dc2" }, Up(port: 9192) with { Datacenter = "dc3" }]));

    [Fact]
    public void Validate_DuplicateDestination_ConsulKeyText()
    {
        var problem = Assert.Single(UpstreamRules.Validate([Up() with { Datacenter = "dc2" }, Up(port: 9192) with { DestinationType = "service", Datacenter = "dc2" }]));
        Assert.Equal("Proxy.Upstreams[1].DestinationName", problem.Field);
        Assert.Equal("upstreams cannot contain duplicates of [type=\"service\", name=\"db\", partition=\"\", namespace=\"\", peer=\"\", datacenter=\"dc2\"]", problem.Message);
    }

    [Theory]
    [InlineData("", 9191, "", "127.0.0.1", 9191, "", "127.0.0.1:9191")]            // empty address defaults to 127.0.0.1
    [InlineData("::1", 9191, "", "::1", 9191, "", "[::1]:9191")]
    [InlineData("", 0, "/tmp/a.sock", "", 0, "/tmp/a.sock", "/tmp/a.sock")]
    public void Validate_DuplicateBind_ConsulText(string a1, int p1, string s1, string a2, int p2, string s2, string shown)
    {
        var problem = Assert.Single(UpstreamRules.Validate([
            new Upstream { DestinationName = "db", LocalBindAddress = a1, LocalBindPort = p1, LocalBindSocketPath = s1 },
            new Upstream { DestinationName = "cache", LocalBindAddress = a2, LocalBindPort = p2, LocalBindSocketPath = s2 }]));
        Assert.Equal($"upstreams cannot contain duplicates by local bind address and port or unix path; \"{shown}\" is specified twice", problem.Message);
    }

    [Fact]
    public void Validate_SeveralBadUpstreams_AllReported()
    {
        var problems = UpstreamRules.Validate([Up(""), Up() with { DestinationType = "x" }, Up(port: 0) with { MeshGatewayMode = "far" }]);
        Assert.Equal(
            ["Proxy.Upstreams[0].DestinationName", "Proxy.Upstreams[1].DestinationType", "Proxy.Upstreams[2].MeshGateway.Mode", "Proxy.Upstreams[2].LocalBindPort"],
            problems.Select(p => p.Field));
    }

    [Fact]
    public void Validate_BadUpstream_NotAlsoReportedAsDuplicate()
    {
        // Consul skips the duplicate checks for an upstream that failed its own validation.
        var problems = UpstreamRules.Validate([Up(), Up() with { DestinationPeer = "p", Datacenter = "dc2" }]);
        Assert.Equal("upstream cannot specify both destination peer and datacenter", Assert.Single(problems).Message);
    }
}
