using System.Text.RegularExpressions;
using Meridian.Client;

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
            // The secondaries start without it (the primary holds no such token before its bootstrap) and get it after.
            Assert.Null(config.GetValueOrDefault("Meridian:Acl:Tokens:Replication"));
            Assert.Equal(silo.Datacenter == "dc2" ? null : acl.ReplicationSecret, silo.AclReplicationToken);
            Assert.Same(acl, silo.AclFiles);
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

/// <summary>
/// <c>meridian dev --acl</c> with real silos: bootstrapped, the management token printed once and usable; then the real
/// ACL store and the real enforcement filter together, through the CLI as an operator runs it (issue 13 §3, §5), and a
/// capture of everything the run printed, logged, reported in status and showed in the dashboard, with no SecretID.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class DevAclTests
{
    private static readonly System.Text.RegularExpressions.Regex SecretLine = new(@"^SecretID:\s+(\S+)$", RegexOptions.Multiline);

    [Fact]
    public async Task DevAcl_TwoDatacenters_TokensEnforcedEndToEnd_NoSecretInLogsStatusOrDashboard()
    {
        var output = new SignalingWriter();
        var error = new StringWriter();
        var logs = new CapturingLoggerProvider();
        var context = new CliContext(output, error, new HostedMeridianClientFactory(), new WebApplicationSiloLauncher(logs), _ => null);
        // 8 free ports: gateways +0 and +1, HTTP +2 and +3, silo ports +4 and +5.
        var (gatewayPort, siloPort) = TestPorts.FreeRanges(4);
        using var stop = new CancellationTokenSource();
        var ready = output.WaitForLineAsync("meridian dev: ready");
        var secret = "";
        var captured = new List<string>(); // every CLI output, status and dashboard answer of the run
        var secrets = new List<string>(); // every SecretID the run created (each shown once, at creation)
        var run = MeridianCli.RunAsync(
            ["dev", "--acl", "--datacenters", "dc1,dc2", "--gateway-port", $"{gatewayPort}", "--http-port", $"{gatewayPort + 2}", "--silo-port", $"{siloPort}"],
            context, stop.Token);
        try
        {
            if (await Task.WhenAny(ready, run).WaitAsync(TimeSpan.FromSeconds(120)) == run)
                Assert.Fail($"dev ended before it was ready (exit {await run}):\n{error}");
            var lines = Regex.Matches(output.ToString(), @"^management token: (\S+)$", RegexOptions.Multiline);
            secret = Assert.Single(lines).Groups[1].Value;
            Assert.True(Guid.TryParse(secret, out _));
            Assert.Single(Regex.Matches(output.ToString(), Regex.Escape(secret)));
            secrets.Add(secret);
            // Ready means each gateway answered; with ACLs on its refusal of the anonymous token is that answer.
            Assert.DoesNotContain("did not answer a status call", error.ToString(), StringComparison.Ordinal);

            var dc1 = $"127.0.0.1:{gatewayPort}";
            async Task<(int ExitCode, string Stdout, string Stderr)> Cli(params string[] args)
            {
                var result = await RunCliAsync(args.Contains("--gateway") ? args : [.. args, "--gateway", dc1]);
                captured.Add($"$ meridian {string.Join(' ', args.Select(a => secrets.Contains(a) ? "<secret>" : a))}\n{result.Stdout}{result.Stderr}");
                return result;
            }

            var (code, stdout, stderr) = await Cli("acl", "token", "list", "--token", secret);
            Assert.True(code == ExitCodes.Ok, stderr);
            Assert.Contains("Bootstrap Token (Global Management)", stdout, StringComparison.Ordinal);
            Assert.Contains("Replication Token (meridian dev)", stdout, StringComparison.Ordinal);
            var again = await Cli("acl", "bootstrap");
            Assert.Equal(ExitCodes.PermissionDenied, again.ExitCode);
            var json = await Cli("acl", "token", "read-self", "--json", "--token", secret);
            Assert.Contains("\"SecretID\": \"<hidden>\"", json.Stdout, StringComparison.Ordinal);

            await EnforcedEndToEndAsync(Cli, secret, secrets);
            await StatusAndDashboardAsync(Cli, secret, gatewayPort, captured);
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
        var problems = logs.WarningsSince(beforeStop);
        Assert.True(problems.Count == 0, $"{problems.Count} warning(s) or worse while stopping:\n{string.Join('\n', problems)}");

        // Issue 13: "a log and status capture of a whole run with ACLs on finds no SecretID". Each secret may appear
        // only where it was created: the dev banner (the management token) and the one `acl token create` answer.
        var everything = string.Join('\n', [.. logs.Since(0).Select(e => e.ToString()), .. captured, output.ToString(), error.ToString()]);
        Assert.True(captured.Count > 10, $"captured only {captured.Count} answers");
        foreach (var s in secrets)
            Assert.True(Regex.Matches(everything, Regex.Escape(s)).Count == 1, $"a SecretID appears {Regex.Matches(everything, Regex.Escape(s)).Count} times in the run's capture");
    }

    /// <summary>
    /// The real store and the real filter: a policy for service web, a token for it; authorize to web allowed and to api
    /// refused; intention writes need intentions:write on the destination; a read-limited list is filtered and says so;
    /// no token is the anonymous token (default deny); read-self works with any valid token; an unknown secret is
    /// <c>ACL not found</c>; the ACL commands need acl:read/acl:write and CA rotation operator:write (exit 4 each).
    /// </summary>
    private static async Task EnforcedEndToEndAsync(Func<string[], Task<(int ExitCode, string Stdout, string Stderr)>> cli, string management, List<string> secrets)
    {
        async Task<string> Ok(params string[] args)
        {
            var (code, stdout, stderr) = await cli(args);
            Assert.True(code == ExitCodes.Ok, $"meridian {string.Join(' ', args.Take(3))}: exit {code}: {stderr}{stdout}");
            return stdout;
        }
        async Task<string> Denied(string expected, params string[] args)
        {
            var (code, stdout, stderr) = await cli(args);
            Assert.True(code == ExitCodes.PermissionDenied, $"meridian {string.Join(' ', args.Take(3))}: exit {code}, expected 4: {stderr}{stdout}");
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            return stderr;
        }
        string Created(string stdout)
        {
            var created = SecretLine.Match(stdout).Groups[1].Value;
            Assert.True(Guid.TryParse(created, out _), stdout);
            secrets.Add(created);
            return created;
        }

        await Ok("acl", "policy", "create", "--name", "web-write", "--rules", "service \"web\" { policy = \"write\" }", "--token", management);
        await Ok("acl", "policy", "create", "--name", "web-intentions", "--rules", "service \"web\" { policy = \"read\" intentions = \"write\" }", "--token", management);
        var web = Created(await Ok("acl", "token", "create", "--description", "web", "--policy-name", "web-write", "--token", management));
        var intentions = Created(await Ok("acl", "token", "create", "--description", "web intentions", "--policy-name", "web-intentions", "--token", management));
        var webAccessor = Regex.Match(await Ok("acl", "token", "read-self", "--token", web), @"^AccessorID:\s+(\S+)$", RegexOptions.Multiline).Groups[1].Value;
        Assert.True(Guid.TryParse(webAccessor, out _));

        var td = System.Text.Json.JsonDocument.Parse(await Ok("ca", "roots", "--json")).RootElement.GetProperty("TrustDomain").GetString();
        var client = $"spiffe://{td}/ns/default/dc/dc1/svc/api";
        // Allowed: ACLs on, default deny, no intention yet: Consul's reason.
        Assert.Contains("denied: Default behavior configured by ACLs", await Ok("authorize", "--target", "web", "--client-cert-uri", client, "--token", web));
        await Denied($"Permission denied: token with AccessorID '{webAccessor}' lacks permission 'service:write' on \"api\"",
            "authorize", "--target", "api", "--client-cert-uri", client.Replace("/svc/api", "/svc/web"), "--token", web);
        await Denied("Permission denied: anonymous token lacks permission 'service:write' on \"web\"",
            "authorize", "--target", "web", "--client-cert-uri", client);

        // policy = "write" implies intentions = "read" (Consul's acl/policy_authorizer.go): no intention writes.
        await Denied($"token with AccessorID '{webAccessor}' lacks permission 'intention:write' on \"web\"",
            "intention", "upsert", "--source", "api", "--destination", "web", "--action", "allow", "--token", web);
        await Ok("intention", "upsert", "--source", "api", "--destination", "web", "--action", "allow", "--token", intentions);
        await Denied("lacks permission 'intention:write' on \"api\"",
            "intention", "upsert", "--source", "web", "--destination", "api", "--action", "allow", "--token", intentions);
        await Ok("intention", "upsert", "--source", "web", "--destination", "api", "--action", "allow", "--token", management);
        await Ok("intention", "upsert", "--source", "db", "--destination", "api", "--action", "deny", "--token", management);
        Assert.Contains("authorized: ", await Ok("authorize", "--target", "web", "--client-cert-uri", client, "--token", web));

        // Read on either end reads the intention (Consul's Intention.CanRead): db => api is the one web may not see.
        Assert.Contains("default/db => default/api", await Ok("intention", "list", "--token", management));
        var limited = await Ok("intention", "list", "--token", web);
        Assert.Contains("(filtered by ACLs: intentions the token may not read are not listed)", limited);
        Assert.Contains("default/api => default/web allow", limited);
        Assert.Contains("default/web => default/api allow", limited);
        Assert.DoesNotContain("default/db", limited);

        // Any valid token reads itself; an unknown one is not found; none is the anonymous token.
        Assert.Contains("web intentions", await Ok("acl", "token", "read-self", "--token", intentions));
        Assert.Contains("Anonymous Token", await Ok("acl", "token", "read-self"));
        await Denied("ACL not found", "acl", "token", "read-self", "--token", Guid.NewGuid().ToString());
        await Denied("ACL not found", "status", "--token", Guid.NewGuid().ToString());

        // Consul parity: the ACL commands need acl:read / acl:write, CA rotation operator:write.
        await Denied("lacks permission 'acl:read'", "acl", "policy", "list", "--token", web);
        await Denied("lacks permission 'acl:read'", "acl", "token", "list", "--token", web);
        await Denied("lacks permission 'acl:write'", "acl", "policy", "create", "--name", "sneaky", "--rules", "operator = \"write\"", "--token", web);
        await Denied("lacks permission 'acl:write'", "acl", "token", "create", "--policy-name", "global-management", "--token", web);
        await Denied("anonymous token lacks permission 'acl:write'", "acl", "role", "create", "--name", "sneaky", "--policy-name", "web-write");
        await Denied("lacks permission 'operator:write'", "ca", "rotate", "--token", web);
        await Denied("lacks permission 'operator:read'", "status", "--token", web);
        Assert.DoesNotContain("sneaky", await Ok("acl", "policy", "list", "--token", management));
        Assert.DoesNotContain("sneaky", await Ok("acl", "role", "list", "--token", management));
    }

    /// <summary>Status, replication status (both datacenters, whatever they answer) and each dashboard's Meridian JSON.</summary>
    private static async Task StatusAndDashboardAsync(Func<string[], Task<(int ExitCode, string Stdout, string Stderr)>> cli, string management, int gatewayPort, List<string> captured)
    {
        var status = await cli(["status", "--token", management]);
        Assert.True(status.ExitCode == ExitCodes.Ok, status.Stderr);
        await cli(["status", "--json", "--token", management]);
        await cli(["replication", "status", "--token", management]);
        // dc2: whatever it answers (until ACL replication brings the global tokens there, `ACL not found`) is captured too.
        var dc2 = new[] { "--gateway", $"127.0.0.1:{gatewayPort + 1}", "--datacenter", "dc2" };
        foreach (var command in new[] { new[] { "status" }, ["replication", "status", "--json"], ["acl", "token", "list"] })
        {
            var (_, _, stderr) = await cli([.. command, "--token", management, .. dc2]);
            Assert.DoesNotContain("cannot reach", stderr, StringComparison.Ordinal);
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var port in new[] { gatewayPort + 2, gatewayPort + 3 })
        {
            var overview = await http.GetStringAsync($"http://127.0.0.1:{port}/dashboard/meridian/overview");
            Assert.Contains("\"Status\"", overview, StringComparison.Ordinal);
            captured.Add(overview);
            captured.Add(await http.GetStringAsync($"http://127.0.0.1:{port}/dashboard/meridian"));
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var context = new CliContext(output, error, new HostedMeridianClientFactory(), new FakeSiloLauncher(), _ => null);
        return (await MeridianCli.RunAsync(args, context, CancellationToken.None), output.ToString(), error.ToString());
    }
}
