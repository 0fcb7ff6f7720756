using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>
/// A silo on a network address without TLS (issue 12: anyone who reaches the gateway owns the mesh): refused before
/// anything starts, unless <c>Meridian:Tls:AllowInsecure</c>, which is logged at every start. Real silo processes.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class SiloBindTests
{
    [Fact]
    public async Task SiloProcess_NonLoopbackWithoutTls_Exit2NamingAllowInsecureAndTheFix_WithTheOtherProblems()
    {
        var ports = FreePorts.Take(2);
        await using var silo = ChildProcess.StartDotnet(Binaries.Silo, [], new Dictionary<string, string?>
        {
            ["Meridian__Datacenter"] = "dc1",
            ["Meridian__PrimaryDatacenter"] = "dc1",
            ["Meridian__Storage__Provider"] = "Memory",
            ["Meridian__Endpoints__Address"] = "0.0.0.0",
            ["Meridian__Endpoints__SiloPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
            ["Meridian__Endpoints__GatewayPort"] = ports[1].ToString(CultureInfo.InvariantCulture),
            ["Meridian__Endpoints__HttpPort"] = "0",
            // A second, unrelated problem: both are reported in the same start.
            ["Meridian__Dashboard__LogStream"] = "loud",
        });

        var code = await silo.WaitForExitAsync(TimeSpan.FromMinutes(2));

        // Before: the silo started, plaintext, on every interface.
        Assert.True(code == 2, $"exit {code}\n{silo.Output}");
        Assert.Contains("meridian silo: Meridian:Endpoints:Address 0.0.0.0 is not a loopback address and TLS is off", silo.Output);
        Assert.Contains("Set Meridian:Tls:CaFile, Meridian:Tls:CertFile and Meridian:Tls:KeyFile (see `meridian tls cert create --server`), or Meridian:Tls:AllowInsecure=true", silo.Output);
        Assert.Contains("meridian silo: Meridian:Dashboard:LogStream: 'loud' is not true or false", silo.Output);
        Assert.DoesNotContain("Unhandled exception", silo.Output);
    }

    [Fact]
    public async Task SiloProcess_NonLoopbackWithAllowInsecure_StartsThereAndWarns()
    {
        var address = NetworkAddress();
        var ports = FreePorts.Take(3);
        await using var silo = await SiloProcess.StartAsync("unused", ports[0], ports[1], ports[2], "dc1", "dc1", primaryGateway: null,
            new Dictionary<string, string>
            {
                ["Meridian__Storage__Provider"] = "Memory",
                ["Meridian__Endpoints__Address"] = address,
                ["Meridian__Tls__AllowInsecure"] = "true",
            });

        var status = await Cli.RunAsync("--gateway", silo.Gateway, "status", "--json");
        Assert.Equal("dc1", Cli.Json(status).GetProperty("Datacenter").GetString());
        Assert.Contains("SiloStartupWarnings[5020]", silo.Output);
        Assert.Contains($"Meridian:Tls:AllowInsecure is true: dc1 serves its gateway, silo and HTTP ports on {address} without TLS", silo.Output);
    }

    [Fact]
    public async Task SiloProcess_BindEveryInterface_AdvertisesAnAddressOfThisHost_ClientsReachItThere()
    {
        var ports = FreePorts.Take(3);
        // What the container image sets. Before: Orleans refused 0.0.0.0 as the advertised address and the silo crashed.
        await using var silo = await SiloProcess.StartAsync("unused", ports[0], ports[1], ports[2], "dc1", "dc1", primaryGateway: null,
            new Dictionary<string, string>
            {
                ["Meridian__Storage__Provider"] = "Memory",
                ["Meridian__Endpoints__Address"] = "0.0.0.0",
                ["Meridian__Tls__AllowInsecure"] = "true",
            });

        Assert.Contains("SiloStartupWarnings[5040]", silo.Output);
        var advertised = System.Text.RegularExpressions.Regex.Match(silo.Output, @"This silo of dc1 listens on 0\.0\.0\.0 and advertises (\S+) to peers").Groups[1].Value;
        Assert.True(IPAddress.TryParse(advertised, out var address), silo.Output);
        Assert.False(IPAddress.IsLoopback(address));
        Assert.Contains(address, NetworkInterface.GetAllNetworkInterfaces().SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address));
        // Orleans clients must dial the advertised address (a gateway refuses a client that expected another silo address).
        var status = await Cli.RunAsync("--gateway", $"{advertised}:{ports[1]}", "status", "--json");
        Assert.Equal("dc1", Cli.Json(status).GetProperty("Datacenter").GetString());
        Assert.False(silo.HasExited, silo.Output);
    }

    // An address of this machine other than loopback (a container's eth0): what a production silo binds.
    private static string NetworkAddress()
    {
        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.True(address is not null, "this machine has no IPv4 address other than loopback to bind a silo to");
        return address.ToString();
    }
}
