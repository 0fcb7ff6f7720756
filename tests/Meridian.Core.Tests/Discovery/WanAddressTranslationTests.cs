using System.Collections.Immutable;
using Meridian.Core.Discovery;
using static Meridian.Core.Tests.Discovery.Instances;

namespace Meridian.Core.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class WanAddressTranslationTests
{
    [Theory]
    [InlineData("", "10.0.0.1")]                                                              // no tags: as registered
    [InlineData("wan=198.51.100.1", "198.51.100.1")]
    [InlineData("wan=198.51.100.1,lan_ipv4=10.0.0.2", "10.0.0.2")]                           // Consul: LAN IPv4 beats wan
    [InlineData("wan=198.51.100.1,lan_ipv4=10.0.0.2,wan_ipv4=198.51.100.2", "198.51.100.2")]
    [InlineData("wan=198.51.100.1,wan_ipv4=198.51.100.2,lan_ipv6=fd00::1", "fd00::1")]        // IPv6 first
    [InlineData("lan_ipv6=fd00::1,wan_ipv6=2001:db8::1", "2001:db8::1")]
    [InlineData("lan=10.0.0.9", "10.0.0.1")]                                                  // lan alone changes nothing
    public void NodeAddress_Precedence(string tags, string expected)
    {
        var node = new CatalogNode("n1", "10.0.0.1", "dc2", Parse(tags), Map());
        Assert.Equal(expected, WanAddressTranslation.NodeAddress(node));
    }

    [Theory]
    [InlineData("", "", 8080, "", 8080)]                                           // empty service address stays empty
    [InlineData("10.1.0.1", "wan=198.51.100.5:0", 8080, "198.51.100.5", 8080)]     // wan port 0: port kept
    [InlineData("10.1.0.1", "wan=198.51.100.5:18080", 8080, "198.51.100.5", 18080)]
    [InlineData("10.1.0.1", "wan=198.51.100.5:18080,lan_ipv4=10.1.0.2:8080", 8080, "10.1.0.2", 18080)]
    [InlineData("10.1.0.1", "wan_ipv6=2001:db8::5:9000", 8080, "2001:db8::5", 8080)]
    public void Service_AddressAndPort(string address, string tags, int port, string expectedAddress, int expectedPort)
    {
        var tagged = tags.Length == 0 ? ImmutableDictionary<string, ServiceAddress>.Empty
            : tags.Split(',').Select(t => t.Split('=')).ToImmutableDictionary(kv => kv[0], kv =>
            {
                var colon = kv[1].LastIndexOf(':');
                return new ServiceAddress(kv[1][..colon], int.Parse(kv[1][(colon + 1)..]));
            });
        var svc = new CatalogService("web-1", "web", [], address, tagged, port, Map());
        var translated = WanAddressTranslation.Translate(svc);
        Assert.Equal((expectedAddress, expectedPort), (translated.Address, translated.Port));
        Assert.Same(svc.TaggedAddresses, translated.TaggedAddresses);
    }

    [Theory]
    [InlineData(true, "dc1", "dc2", true)]
    [InlineData(true, "dc1", "dc1", false)]       // local: never
    [InlineData(false, "dc1", "dc2", false)]
    public void Translate_OnlyRemoteAndEnabled(bool enabled, string local, string answering, bool translated)
    {
        var i = Of("web-1", dc: answering) with { Node = new CatalogNode("n1", "10.0.0.1", answering, Parse("wan=198.51.100.1"), Map()) };
        var result = WanAddressTranslation.Translate(enabled, local, answering, [i]);
        Assert.Equal(translated ? "198.51.100.1" : "10.0.0.1", Assert.Single(result).Node.Address);
        Assert.Equal("198.51.100.1", result[0].Node.TaggedAddresses["wan"]);
    }

    private static ImmutableDictionary<string, string> Parse(string tags) => tags.Length == 0 ? Map()
        : tags.Split(',').Select(t => t.Split('=')).ToImmutableDictionary(kv => kv[0], kv => kv[1]);
}
