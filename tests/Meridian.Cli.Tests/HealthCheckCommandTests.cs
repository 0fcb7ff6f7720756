using System.Text.Json;
using Meridian.Grains;

namespace Meridian.Cli.Tests;

/// <summary>
/// <c>meridian check</c> (no subcommand) against a real primary silo, next to <c>check pass|warn|fail</c> which keep
/// working. The two-datacenter case (a secondary's chain, replication, clock) is in <see cref="DevAclReplicationTests"/>.
/// </summary>
[Collection(AclSiloCollection.Name), Trait("Category", "Cluster")]
public sealed class HealthCheckCommandTests(AclSiloFixture fx)
{
    private static Dictionary<string, JsonElement> Lines(CliResult result)
        => JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray().ToDictionary(l => l.GetProperty("Check").GetString()!, l => l);

    [Fact]
    public async Task Check_OnAHealthyPrimary_EveryCheckOkOrSkipped_ExitZero_AndCheckPassStillSetsTtlChecks()
    {
        var result = await fx.AsManagementAsync("check", "--json");
        Assert.True(result.ExitCode == ExitCodes.Ok, $"exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
        var lines = Lines(result);
        Assert.Equal("ok", lines[HealthCheckRules.ActiveRoot].GetProperty("Status").GetString());
        Assert.Equal("ok", lines[HealthCheckRules.SigningCa].GetProperty("Status").GetString());
        Assert.Contains("the primary's root", lines[HealthCheckRules.SigningCa].GetProperty("Detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("ok", lines[HealthCheckRules.Role].GetProperty("Status").GetString());
        Assert.Equal("skip", lines[HealthCheckRules.AclReplication].GetProperty("Status").GetString());
        Assert.Equal("skip", lines[HealthCheckRules.Tls].GetProperty("Status").GetString());
        Assert.DoesNotContain(lines.Values, l => l.GetProperty("Status").GetString() == "FAIL");

        var human = await fx.AsManagementAsync("check");
        Assert.Equal(ExitCodes.Ok, human.ExitCode);
        Assert.Matches($@"(?m)^ok\s+{HealthCheckRules.ActiveRoot}\s+active root \S+ valid for \d+ days", human.Stdout);
        Assert.EndsWith("All checks passed.", human.Stdout.TrimEnd(), StringComparison.Ordinal);

        // The subcommands still route to the catalog's TTL checks.
        var node = $"n-{Guid.NewGuid():N}"[..16];
        var check = $"ttl-{Guid.NewGuid():N}"[..16];
        var registered = await fx.AsManagementAsync("catalog", "register", "--node", node, "--address", "10.0.0.1", "--service", "web", "--check-id", check, "--check-ttl", "30s");
        Assert.True(registered.ExitCode == ExitCodes.Ok, registered.Stderr);
        var passed = await fx.AsManagementAsync("check", "pass", check);
        Assert.True(passed.ExitCode == ExitCodes.Ok, passed.Stderr);
        Assert.Equal($"{check} on {node}: passing", passed.Stdout.Trim());
    }

    [Fact]
    public async Task Check_WithoutOperatorRead_IsPermissionDenied_NotAFalseOk()
    {
        var result = await fx.RunAsync(null, "check");
        Assert.Equal(ExitCodes.PermissionDenied, result.ExitCode);
        Assert.Equal("", result.Stdout);
    }
}

/// <summary><c>meridian check</c>'s printing and exit code on canned answers.</summary>
[Trait("Category", "Unit")]
public sealed class HealthCheckCommandOutputTests
{
    [Fact]
    public async Task Check_SigningCaRunningOut_PrintsFailWithItsFix_ExitOne()
    {
        var cli = new CliHarness();
        cli.Client.Status = cli.Client.Status with { Ca = cli.Client.Status.Ca with { SigningCaExpiry = DateTimeOffset.UtcNow.AddDays(10) } };
        cli.Client.Datacenters = new DatacenterListDto { Datacenters = [new DatacenterInfoDto { Name = "dc1", Primary = true, Local = true }] };
        var result = await cli.RunAsync("check");
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        var lines = result.Stdout.ReplaceLineEndings("\n").Split('\n');
        var fail = Array.FindIndex(lines, l => l.StartsWith("FAIL", StringComparison.Ordinal));
        Assert.True(fail >= 0, result.Stdout);
        Assert.Contains(HealthCheckRules.SigningCa, lines[fail], StringComparison.Ordinal);
        Assert.Contains("fix: rotate the root in the primary: `meridian ca rotate`", lines[fail + 1], StringComparison.Ordinal);
        Assert.Contains("1 check failed.", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_NegativeMaxLag_IsBadInput()
    {
        var result = await new CliHarness().RunAsync("check", "--max-lag", "-1");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal("--max-lag: must be 0 or more", result.Stderr.Trim());
    }
}
