using System.Text.RegularExpressions;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class DevAclPlanTests
{
    [Fact]
    public void WithAcl_EveryDatacenterOnWithDefaultDenyAndOneKey_ReplicationTokenOnlyInSecondaries()
    {
        using var acl = DevAcl.Create();
        var plan = DevPlan.Create("dc1,dc2,dc3", "dc2", 31000, 0, 12000, null).WithAcl(acl);
        Assert.True(plan.Acl);
        foreach (var silo in plan.Silos)
        {
            var config = silo.Configuration();
            Assert.Equal(("true", "deny", acl.KeyFile), (config["Meridian:Acl:Enabled"], config["Meridian:Acl:DefaultPolicy"], config["Meridian:Acl:SecretHashKeyFile"]));
            Assert.Equal(silo.Datacenter == "dc2" ? null : acl.ReplicationSecret, config.GetValueOrDefault("Meridian:Acl:Tokens:Replication"));
        }
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(acl.KeyFile));
    }

    [Fact]
    public async Task Dev_AclWithPostgres_Exit2BeforeStartingAnything()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("dev", "--acl", "--postgres", "Host=db");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.StartsWith("--acl: not with --postgres", result.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Empty(cli.Silos.Started);
    }

    [Fact]
    public void WithoutAcl_NoAclKeys()
    {
        var config = DevPlan.Create("dc1", null, 31000, 0, 12000, null).Silos[0].Configuration();
        Assert.DoesNotContain(config.Keys, k => k.StartsWith("Meridian:Acl:", StringComparison.Ordinal));
    }
}

/// <summary><c>meridian dev --acl</c> with real silos: bootstrapped, the management token printed once and usable.</summary>
[Trait("Category", "Cluster")]
public sealed class DevAclTests
{
    [Fact]
    public async Task DevAcl_TwoDatacenters_PrintsTheManagementTokenOnce_ItManagesAndTheReplicationTokenExists()
    {
        var output = new SignalingWriter();
        var error = new StringWriter();
        var logs = new CapturingLoggerProvider();
        var context = new CliContext(output, error, new HostedMeridianClientFactory(), new WebApplicationSiloLauncher(logs), _ => null);
        var (gatewayPort, siloPort) = TestPorts.FreeRanges(2);
        using var stop = new CancellationTokenSource();
        var ready = output.WaitForLineAsync("meridian dev: ready");
        var secret = "";
        var run = MeridianCli.RunAsync(
            ["dev", "--acl", "--datacenters", "dc1,dc2", "--gateway-port", $"{gatewayPort}", "--http-port", "0", "--silo-port", $"{siloPort}"],
            context, stop.Token);
        try
        {
            if (await Task.WhenAny(ready, run).WaitAsync(TimeSpan.FromSeconds(120)) == run)
                Assert.Fail($"dev ended before it was ready (exit {await run}):\n{error}");
            var lines = Regex.Matches(output.ToString(), @"^management token: (\S+)$", RegexOptions.Multiline);
            secret = Assert.Single(lines).Groups[1].Value;
            Assert.True(Guid.TryParse(secret, out _));
            Assert.Single(Regex.Matches(output.ToString(), Regex.Escape(secret)));

            var (code, stdout, stderr) = await RunCliAsync("acl", "token", "list", "--gateway", $"127.0.0.1:{gatewayPort}", "--token", secret);
            Assert.True(code == ExitCodes.Ok, stderr);
            Assert.Contains("Bootstrap Token (Global Management)", stdout, StringComparison.Ordinal);
            Assert.Contains("Replication Token (meridian dev)", stdout, StringComparison.Ordinal);
            var again = await RunCliAsync("acl", "bootstrap", "--gateway", $"127.0.0.1:{gatewayPort}");
            Assert.Equal(ExitCodes.PermissionDenied, again.ExitCode);
            var json = await RunCliAsync("acl", "token", "read-self", "--json", "--gateway", $"127.0.0.1:{gatewayPort}", "--token", secret);
            Assert.Contains("\"SecretID\": \"<hidden>\"", json.Stdout, StringComparison.Ordinal);
        }
        catch
        {
            await stop.CancelAsync();
            try { await run.WaitAsync(TimeSpan.FromSeconds(120)); } catch (TimeoutException) { }
            throw;
        }
        // The silos' ACL cache loops (long-polls on the store) end with the silos: nothing to warn about.
        var beforeStop = logs.Count;
        await stop.CancelAsync();
        Assert.Equal(ExitCodes.Ok, await run.WaitAsync(TimeSpan.FromSeconds(120)));
        var problems = logs.Since(beforeStop).Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning).ToList();
        Assert.True(problems.Count == 0, $"{problems.Count} warning(s) or worse while stopping:\n{string.Join('\n', problems)}");
        Assert.DoesNotContain(logs.Since(0), e => e.Message.Contains(secret, StringComparison.Ordinal));
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var context = new CliContext(output, error, new HostedMeridianClientFactory(), new FakeSiloLauncher(), _ => null);
        return (await MeridianCli.RunAsync(args, context, CancellationToken.None), output.ToString(), error.ToString());
    }
}
