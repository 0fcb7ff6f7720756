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
    public async Task ReplicationStatus_Human_ErrorSinceRecovered_IsKeptAndSaysSo_CurrentErrorDoesNot()
    {
        // Consul's fields: the last error's time and text stay after a later success; healthy is LastSuccess > LastError.
        var cli = new CliHarness();
        var at = new DateTimeOffset(2026, 12, 6, 7, 0, 0, TimeSpan.Zero);
        cli.Client.Replication.Add(new ReplicationStatusDto
        {
            Enabled = true, ReplicationType = "intentions", LastError = at, LastSuccess = at.AddSeconds(3),
            LastErrorMessage = "dc1 refused the replication token: Permission denied",
        });
        cli.Client.Replication.Add(new ReplicationStatusDto
        {
            Enabled = true, ReplicationType = "acl", LastSuccess = at, LastError = at.AddSeconds(3), LastErrorMessage = "the primary datacenter dc1 is unreachable",
        });
        var result = await cli.RunAsync("replication", "status");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var lines = result.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Contains("Last error message:", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.EndsWith("dc1 refused the replication token: Permission denied (recovered: the last success is later)", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("the primary datacenter dc1 is unreachable", lines[1], StringComparison.Ordinal);
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

    private static readonly ReplicationHoldDto Replaced = new()
    {
        Reason = "primary-replaced", Summary = "held: primary replaced (epoch 0f3c9a1b→77e0d2c4)",
        AppliedIndex = 12, AppliedEpoch = "0f3c9a1b00", PrimaryIndex = 0, PrimaryEpoch = "77e0d2c400",
        Deletes = 12, DeleteNames = [.. Enumerable.Range(0, 10).Select(i => $"default/svc{i}")], Adds = 1, AddNames = ["default/web"],
        Since = new DateTimeOffset(2026, 12, 6, 1, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public async Task ReplicationStatus_Held_ShowsTheReasonTheDiffCountsAndNames()
    {
        var cli = new CliHarness();
        cli.Client.Replication.Add(new ReplicationStatusDto { Enabled = true, ReplicationType = "intentions", Held = Replaced });
        var result = await cli.RunAsync("replication", "status");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("held: primary replaced (epoch 0f3c9a1b→77e0d2c4) since 2026-12-06T01:00:00Z", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Would delete: 12 (default/svc0, default/svc1", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("default/svc9, and 2 more)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Would add:    1 (default/web)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("meridian replication adopt", result.Stdout, StringComparison.Ordinal);

        var asJson = new CliHarness();
        asJson.Client.Replication.Add(new ReplicationStatusDto { Enabled = true, ReplicationType = "intentions", Held = Replaced });
        var json = await asJson.RunAsync("replication", "status", "--json");
        var held = JsonFields.Parse(json.Stdout)[0].GetProperty("Held");
        Assert.Equal("primary-replaced", held.GetProperty("Reason").GetString());
        Assert.Equal(12, held.GetProperty("Deletes").GetInt32());
    }

    [Fact]
    public async Task ReplicationAdopt_HeldStateApplied_PrintsWhatWasAdopted_ExitsZero()
    {
        var cli = new CliHarness();
        cli.Client.Adoption = new() { Adopted = true, Hold = Replaced, Changes = 13, ReplicatedIndex = 0, PrimaryEpoch = "77e0d2c400",
            Message = "adopted dc0's state (held: primary replaced (epoch 0f3c9a1b→77e0d2c4)): 13 entries applied, replicated index 0" };
        var result = await cli.RunAsync("replication", "adopt");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal("adopt", cli.Client.Last<string>());
        Assert.Contains("adopted dc0's state", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Adopted:", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Would delete: 12 (", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Apply with", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    public static TheoryData<string, int, string> AdoptOutcomes => new()
    {
        // case, exit code, text (stdout on success and on a refused adoption, stderr for an error)
        { "nothing held", ExitCodes.Ok, "nothing is held" },
        { "replaced again", ExitCodes.Failed, "not adopted: dc0 changed since it was held" },
        { "in the primary", ExitCodes.BadInput, "nothing to adopt" },
    };

    [Theory]
    [MemberData(nameof(AdoptOutcomes))]
    public async Task ReplicationAdopt_Outcome_ExitCodeAndText(string outcome, int exitCode, string text)
    {
        var cli = new CliHarness();
        if (outcome == "replaced again")
            cli.Client.Adoption = new()
            {
                Hold = Replaced with { Summary = "held: primary replaced (epoch 0f3c9a1b→c0ffee00)", PrimaryEpoch = "c0ffee0000" }, ReplicatedIndex = 12,
                Message = "not adopted: dc0 changed since it was held (held: primary replaced (epoch 0f3c9a1b→c0ffee00)); check `meridian replication status` and adopt again",
            };
        if (outcome == "in the primary")
            cli.Client.Failure = new MeridianException("dc1 is the primary datacenter: it replicates from nobody, so there is nothing to adopt", MeridianErrorKind.Validation);

        var result = await cli.RunAsync("replication", "adopt");

        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(text, exitCode == ExitCodes.BadInput ? result.Stderr : result.Stdout, StringComparison.Ordinal);
        // A refused adoption shows the hold it now sees, the primary's new epoch included.
        if (outcome == "replaced again")
            Assert.Contains(result.Stdout.Split('\n'), l => l.TrimStart().StartsWith("Still held:", StringComparison.Ordinal)
                && l.Contains("held: primary replaced (epoch 0f3c9a1b→c0ffee00)", StringComparison.Ordinal));
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
