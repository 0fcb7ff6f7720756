using Meridian.Grains;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class DatacentersCommandTests
{
    private static DatacenterListDto ThreeDatacenters => new()
    {
        AnsweredBy = "dc1",
        Datacenters =
        [
            new DatacenterInfoDto { Name = "dc1", Primary = true, Local = true, Reachable = true, Rtt = TimeSpan.Zero },
            new DatacenterInfoDto { Name = "dc2", Reachable = true, Rtt = TimeSpan.FromMilliseconds(10.4) },
            new DatacenterInfoDto { Name = "dc3", Reachable = false, Rtt = null },
        ],
    };

    [Fact]
    public async Task Datacenters_Human_OneLinePerDatacenter_InTheAnswersOrder_UnmeasuredShownAsDash()
    {
        var cli = new CliHarness();
        cli.Client.Datacenters = ThreeDatacenters;
        var result = await cli.RunAsync("datacenters");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(4, lines.Count);
        Assert.StartsWith("NAME", lines[0], StringComparison.Ordinal);
        Assert.Equal(["dc1", "yes", "yes", "0", "(local)"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["dc2", "no", "yes", "10.4", "ms"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["dc3", "no", "no", "-"], lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Datacenters_Json_HasNamePrimaryReachableRtt()
    {
        var cli = new CliHarness();
        cli.Client.Datacenters = ThreeDatacenters;
        var result = await cli.RunAsync("datacenters", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var root = JsonFields.Parse(result.Stdout);
        Assert.Equal("dc1", root.GetProperty("AnsweredBy").GetString());
        var dcs = root.GetProperty("Datacenters");
        Assert.Equal(3, dcs.GetArrayLength());
        Assert.True(dcs[0].GetProperty("Primary").GetBoolean());
        Assert.True(dcs[1].GetProperty("Reachable").GetBoolean());
        Assert.False(dcs[2].GetProperty("Reachable").GetBoolean());
        // Unmeasured (+∞): no RTT; measured: Go duration text, as every duration of the CLI's JSON.
        Assert.False(dcs[2].TryGetProperty("Rtt", out var none) && none.ValueKind != System.Text.Json.JsonValueKind.Null, result.Stdout);
        Assert.Equal("10.4ms", dcs[1].GetProperty("Rtt").GetString());
        Assert.Equal("dc2", dcs[1].GetProperty("Name").GetString());
    }
}
