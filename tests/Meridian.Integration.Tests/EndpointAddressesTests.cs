using System.Net;
using Meridian.Silo;

namespace Meridian.Integration.Tests;

/// <summary>
/// Bind and advertise apart (<see cref="EndpointAddresses"/>): what a silo listens on and what it tells peers and
/// clients, as Consul's bind_addr and advertise_addr. Pure: the host's addresses are given.
/// </summary>
public sealed class EndpointAddressesTests
{
    private static readonly IPAddress[] ContainerHost = [IPAddress.Parse("203.0.113.9"), IPAddress.Parse("10.89.0.7"), IPAddress.Parse("fe80::1")];

    public static TheoryData<string, string?, string[], string, string> Resolved => new()
    {
        // address, advertise, host addresses, bind, advertised
        { "127.0.0.1", null, [], "127.0.0.1", "127.0.0.1" },                                   // as before: one address for both
        { "10.0.0.5", "", [], "10.0.0.5", "10.0.0.5" },
        { "0.0.0.0", null, ["203.0.113.9", "10.89.0.7", "fe80::1"], "0.0.0.0", "10.89.0.7" },   // a container: its private address
        { "0.0.0.0", null, ["10.89.0.7", "fd00::7"], "0.0.0.0", "10.89.0.7" },                 // one private address per family
        { "0.0.0.0", null, ["203.0.113.9"], "0.0.0.0", "203.0.113.9" },                       // no private one: the first
        { "0.0.0.0", null, ["127.0.0.1", "172.16.4.2"], "0.0.0.0", "172.16.4.2" },            // loopback never
        { "0.0.0.0", "192.0.2.10", ["10.89.0.7"], "0.0.0.0", "192.0.2.10" },                   // told: a NAT or published address
        { "10.0.0.5", "10.0.0.5", [], "10.0.0.5", "10.0.0.5" },
        { "::", null, ["10.89.0.7", "fd00::7"], "::", "10.89.0.7" },                           // :: is dual-stack: IPv4 too
        { "::", null, ["2001:db8::7", "fd00::7"], "::", "fd00::7" },                           // a unique local one first
    };

    [Theory]
    [MemberData(nameof(Resolved))]
    public void Resolve_ValidSettings_BindsAndAdvertises(string address, string? advertise, string[] host, string bind, string advertised)
    {
        List<string> problems = [];

        var result = EndpointAddresses.Resolve(address, advertise, [.. host.Select(IPAddress.Parse)], problems);

        Assert.Empty(problems);
        Assert.NotNull(result);
        Assert.Equal(IPAddress.Parse(bind), result.Bind);
        Assert.Equal(IPAddress.Parse(advertised), result.Advertise);
    }

    [Theory]
    // Orleans refuses an unspecified advertised address: before, the container crashed at start.
    [InlineData("0.0.0.0", "0.0.0.0", "Meridian:Endpoints:AdvertiseAddress 0.0.0.0 cannot be advertised: peers and clients cannot connect to it")]
    [InlineData("0.0.0.0", "::", "Meridian:Endpoints:AdvertiseAddress :: cannot be advertised")]
    [InlineData("10.0.0.5", "10.0.0.6", "Meridian:Endpoints:AdvertiseAddress 10.0.0.6 differs from Meridian:Endpoints:Address 10.0.0.5, where the silo listens: bind Meridian:Endpoints:Address=0.0.0.0")]
    [InlineData("0.0.0.0", "silo-a", "Meridian:Endpoints:AdvertiseAddress \"silo-a\" is not an IP address")]
    [InlineData("any", null, "Meridian:Endpoints:Address \"any\" is not an IP address (use 0.0.0.0 to listen on every interface)")]
    public void Resolve_Unusable_ProblemNamesTheKeyAndTheFix(string address, string? advertise, string problem)
    {
        List<string> problems = [];

        var result = EndpointAddresses.Resolve(address, advertise, ContainerHost, problems);

        Assert.Null(result);
        Assert.Contains(problems, p => p.StartsWith(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Resolve_AnyOnAHostWithTwoPrivateAddresses_AsksForAdvertiseAddress_NeverGuesses()
    {
        List<string> problems = [];

        // A container on two networks: either could be the one the peers share.
        var result = EndpointAddresses.Resolve("0.0.0.0", null, [IPAddress.Parse("10.89.0.7"), IPAddress.Parse("192.168.7.2")], problems);

        Assert.Null(result);
        Assert.Equal(["Meridian:Endpoints:Address is 0.0.0.0 (every interface) and this host has several private addresses (10.89.0.7, 192.168.7.2): set Meridian:Endpoints:AdvertiseAddress to the one peers and clients reach this silo at"], problems);
    }

    [Fact]
    public void Resolve_AnyOnAHostWithOnlyLoopback_AsksForAdvertiseAddress()
    {
        List<string> problems = [];

        var result = EndpointAddresses.Resolve("0.0.0.0", null, [IPAddress.Loopback, IPAddress.IPv6Loopback], problems);

        Assert.Null(result);
        Assert.Equal(["Meridian:Endpoints:Address is 0.0.0.0 (every interface) and this host has no non-loopback address to advertise: set Meridian:Endpoints:AdvertiseAddress to the address peers and clients reach this silo at"], problems);
    }
}
