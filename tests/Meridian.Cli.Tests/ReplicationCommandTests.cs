using Meridian.Grains;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class ReplicationCommandTests
{
    [Fact]
    public async Task ReplicationStatus_Json_HasConsulStatusFieldsAndLag()
    {
        var cli = new CliHarness();
        cli.Client.Replication.Add(new ReplicationStatusDto
        {
            Enabled = true, Running = true, SourceDatacenter = "dc1", ReplicationType = "intentions",
            ReplicatedIndex = 7, PrimaryIndex = 9, Lag = 2, LastErrorMessage = "primary unreachable",
        });
        var result = await cli.RunAsync("replication", "status", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var item = JsonFields.Parse(result.Stdout)[0];
        foreach (var field in new[] { "Enabled", "Running", "SourceDatacenter", "ReplicatedIndex", "LastSuccess", "LastError", "LastErrorMessage", "Lag" })
            Assert.True(item.TryGetProperty(field, out _), $"missing {field} in {result.Stdout}");
        Assert.Equal(2UL, item.GetProperty("Lag").GetUInt64());
        Assert.Equal("primary unreachable", item.GetProperty("LastErrorMessage").GetString());
    }

    [Fact]
    public async Task ReplicationStatus_Human_ShowsThePrimaryEpochOnlyWhenKnown()
    {
        var cli = new CliHarness();
        cli.Client.Replication.Add(new ReplicationStatusDto { Enabled = true, ReplicationType = "intentions", PrimaryEpoch = "0f3c9a" });
        cli.Client.Replication.Add(new ReplicationStatusDto { Enabled = true, ReplicationType = "ca-roots" });
        var result = await cli.RunAsync("replication", "status");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Single(result.Stdout.Split('\n'), l => l.Contains("Primary epoch", StringComparison.Ordinal));
        Assert.Contains("Primary epoch:", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("0f3c9a", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplicationStatus_InPrimary_SaysNothingIsReplicated()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("replication", "status");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("is the primary", result.Stdout);
    }

    [Fact]
    public async Task UpsertWaitReplicated_ForwardedWrite_WaitsForThePrimaryIndex()
    {
        var cli = new CliHarness();
        cli.Client.CommittedIn = "dc0";
        var result = await cli.RunAsync("intention", "upsert", "--source", "web", "--destination", "db", "--action", "allow", "--wait-replicated");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(("wait-replicated", 42UL), cli.Client.Last<(string, ulong)>());
        Assert.Contains("in dc0", result.Stdout);
    }

    [Fact]
    public async Task UpsertWaitReplicated_LocalWrite_DoesNotWait()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("intention", "upsert", "--source", "web", "--destination", "db", "--action", "allow", "--wait-replicated");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Empty(cli.Client.Requests.OfType<(string, ulong)>());
    }

    [Fact]
    public async Task DeleteWaitReplicated_NotReplicatedInTime_FailsNamingTheIndex()
    {
        var cli = new CliHarness();
        cli.Client.CommittedIn = "dc0";
        cli.Client.Replicated = false;
        var result = await cli.RunAsync("intention", "delete", "--source", "web", "--destination", "db", "--wait-replicated");
        Assert.NotEqual(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("index 43", result.Stderr);
    }
}
