using System.Globalization;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>
/// <c>Meridian.Silo.dll probe live|ready|health</c>, the container image's HEALTHCHECK (the ASP.NET image has no curl):
/// it reads the silo's own settings, asks its HTTP port and exits 0 on 200, 1 otherwise. Real silo processes.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class SiloProbeTests
{
    [Fact]
    public async Task Probe_PrimaryAndASecondaryWhosePrimaryIsDown_ReadyExits0AndNotReadyExits1_BothLive()
    {
        var ports = FreePorts.Take(7);
        Dictionary<string, string> Settings(int http) => new()
        {
            ["Meridian__Storage__Provider"] = "Memory",
            ["Meridian__Endpoints__Address"] = "0.0.0.0",
            ["Meridian__Tls__AllowInsecure"] = "true",
            ["Meridian__Endpoints__HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
        };
        await using var primary = await SiloProcess.StartAsync("unused", ports[0], ports[1], ports[2], "dc1", "dc1", primaryGateway: null, Settings(ports[2]));
        // Nothing listens at ports[6]: the secondary never completes a round.
        await using var secondary = await SiloProcess.StartAsync("unused", ports[3], ports[4], ports[5], "dc2", "dc1", $"127.0.0.1:{ports[6]}", Settings(ports[5]));

        var (primaryReady, primaryReadyOut) = await ProbeAsync(Settings(ports[2]), "ready");
        var (secondaryReady, secondaryReadyOut) = await ProbeAsync(Settings(ports[5]), "ready");
        var (secondaryLive, secondaryLiveOut) = await ProbeAsync(Settings(ports[5]), "live");

        Assert.True(primaryReady == 0, primaryReadyOut);
        Assert.Contains("200 ready", primaryReadyOut, StringComparison.Ordinal);
        Assert.True(secondaryReady == 1, secondaryReadyOut);
        Assert.Contains("503 not-ready the CA of dc2 is not initialised", secondaryReadyOut, StringComparison.Ordinal);
        Assert.True(secondaryLive == 0, secondaryLiveOut);
        Assert.Contains("200 alive", secondaryLiveOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_UnknownCheck_Exit2NamingTheChoices()
    {
        var (code, output) = await ProbeAsync(new Dictionary<string, string>(), "started");

        Assert.True(code == 2, output);
        Assert.Contains("meridian silo probe: \"started\" is not live, ready or health", output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> ProbeAsync(IReadOnlyDictionary<string, string> settings, string check)
    {
        await using var probe = ChildProcess.StartDotnet(Binaries.Silo, ["probe", check], settings.ToDictionary(e => e.Key, e => (string?)e.Value));
        var code = await probe.WaitForExitAsync(TimeSpan.FromMinutes(1));
        return (code, probe.Output);
    }
}
