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
            LastSuccessAge = TimeSpan.FromSeconds(90),
        });
        var result = await cli.RunAsync("replication", "status", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var item = JsonFields.Parse(result.Stdout)[0];
        foreach (var field in new[] { "Enabled", "Running", "SourceDatacenter", "ReplicatedIndex", "PrimaryIndex", "LastSuccess", "LastError", "LastErrorMessage", "Lag", "LastSuccessAge" })
            Assert.True(item.TryGetProperty(field, out _), $"missing {field} in {result.Stdout}");
        Assert.Equal(2UL, item.GetProperty("Lag").GetUInt64());
        Assert.Equal(9UL, item.GetProperty("PrimaryIndex").GetUInt64());
        Assert.Equal("1m30s", item.GetProperty("LastSuccessAge").GetString());
        Assert.Equal("primary unreachable", item.GetProperty("LastErrorMessage").GetString());
    }

    [Fact]
    public async Task ReplicationStatus_Human_ShowsLagAndAgeOfLastSuccess_AndRoleMismatch()
    {
        var cli = new CliHarness();
        cli.Client.Replication.Add(new ReplicationStatusDto
        {
            Enabled = true, Running = true, SourceDatacenter = "dc1", ReplicationType = "intentions", ReplicatedIndex = 0, PrimaryIndex = 5, Lag = 5,
            LastErrorMessage = "role mismatch: dc3 is configured with primary dc1, but the cluster its primary gateways lead to says it is dc2 with role secondary (primary dc1)",
        });
        cli.Client.Replication.Add(new ReplicationStatusDto
        {
            Enabled = true, ReplicationType = "ca-roots", ReplicatedIndex = 4, PrimaryIndex = 4, LastSuccessAge = TimeSpan.FromSeconds(12),
        });
        var result = await cli.RunAsync("replication", "status");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var lines = result.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains(lines, l => l.Trim().StartsWith("Lag:", StringComparison.Ordinal) && l.EndsWith(" 5", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Trim().StartsWith("Primary index:", StringComparison.Ordinal) && l.EndsWith(" 5", StringComparison.Ordinal));
        Assert.Contains("role mismatch: dc3 is configured with primary dc1", result.Stdout, StringComparison.Ordinal);
        // Only a replicator that has succeeded has an age of its last success.
        Assert.Single(lines, l => l.Contains("Last success age:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Last success age:", StringComparison.Ordinal) && l.EndsWith(" 12s", StringComparison.Ordinal));
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
