using System.Text.Json;
using System.Text.RegularExpressions;
using Meridian.Client;

namespace Meridian.Cli.Tests;

/// <summary>
/// <c>meridian dev --acl</c> end to end (issue 13 §4): dc2 replicates intentions and ACLs from dc1 with the replication
/// token dev set, so the management token created in dc1 resolves in dc2 and its replication status has no error.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class DevAclReplicationTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task DevAcl_Secondary_ReplicatesAclsAndIntentions_WithItsReplicationToken()
    {
        var output = new SignalingWriter();
        var error = new StringWriter();
        var logs = new CapturingLoggerProvider();
        var context = new CliContext(output, error, new HostedMeridianClientFactory(), new WebApplicationSiloLauncher(logs), _ => null);
        var (gatewayPort, siloPort) = TestPorts.FreeRanges(2);
        using var stop = new CancellationTokenSource();
        var ready = output.WaitForLineAsync("meridian dev: ready");
        var run = MeridianCli.RunAsync(
            ["dev", "--acl", "--datacenters", "dc1,dc2", "--gateway-port", $"{gatewayPort}", "--http-port", "0", "--silo-port", $"{siloPort}"],
            context, stop.Token);
        try
        {
            if (await Task.WhenAny(ready, run).WaitAsync(TimeSpan.FromSeconds(120)) == run)
                Assert.Fail($"dev ended before it was ready (exit {await run}):\n{error}");
            var secret = Regex.Match(output.ToString(), @"^management token: (\S+)$", RegexOptions.Multiline).Groups[1].Value;
            string[] dc1 = ["--gateway", $"127.0.0.1:{gatewayPort}", "--token", secret];
            string[] dc2 = ["--gateway", $"127.0.0.1:{gatewayPort + 1}", "--datacenter", "dc2", "--token", secret];

            // Before any write: each replicator's first contact succeeds (a never-synced secondary is answered at once, not
            // left in a long-poll behind the error of its refused first round, which showed as Degraded until a write).
            var quiet = DateTime.UtcNow + Converge;
            while (true)
            {
                var first = await RunCliAsync(["replication", "status", "--json", .. dc2]);
                if (first.ExitCode == 0 && Healthy(first.Stdout, "acl") && Healthy(first.Stdout, "intentions")) break;
                Assert.True(DateTime.UtcNow < quiet, $"dc2's replication did not recover before any write in {Converge}: {first.Stdout}{first.Stderr}");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
            // Before dev's bootstrap, dc2's loops waited for their token quietly: no refused round was logged.
            var refused = logs.Since(0).Where(l => l.Message.Contains("refused the replication token", StringComparison.Ordinal)).ToList();
            Assert.True(refused.Count == 0, string.Join("\n", refused.Select(l => $"{l.Category} {l.EventId}: {l.Message}")));

            var upsert = await RunCliAsync(["intention", "upsert", "--source", "web", "--destination", "db", "--action", "allow", .. dc1]);
            Assert.True(upsert.ExitCode == ExitCodes.Ok, upsert.Stderr);

            // The management token is global: it resolves in dc2 once ACL replication brought it there.
            var deadline = DateTime.UtcNow + Converge;
            (int ExitCode, string Stdout, string Stderr) self, list, status;
            while (true)
            {
                self = await RunCliAsync(["acl", "token", "read-self", .. dc2]);
                list = await RunCliAsync(["intention", "list", .. dc2]);
                status = await RunCliAsync(["replication", "status", "--json", .. dc2]);
                if ((self.ExitCode, list.ExitCode, status.ExitCode) == (0, 0, 0) && list.Stdout.Contains("db", StringComparison.Ordinal)
                    && Healthy(status.Stdout, "acl") && Healthy(status.Stdout, "intentions"))
                    break;
                Assert.True(DateTime.UtcNow < deadline,
                    $"dc2 did not converge in {Converge}: read-self {self.ExitCode} {self.Stderr}; list {list.ExitCode} {list.Stdout}{list.Stderr}; status {status.Stdout}{status.Stderr}");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
            Assert.Contains("Bootstrap Token (Global Management)", self.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, status.Stdout, StringComparison.Ordinal);

            // `meridian check` in the secondary: its intermediate chains to dc1's active root, every replicator (ACLs
            // included) is healthy, and its clock (from its replication status) agrees with this machine's.
            var checkDeadline = DateTime.UtcNow + Converge;
            (int ExitCode, string Stdout, string Stderr) check;
            while (true)
            {
                check = await RunCliAsync(["check", "--json", .. dc2]);
                if (check.ExitCode == ExitCodes.Ok) break;
                Assert.True(DateTime.UtcNow < checkDeadline, $"`meridian check` in dc2 did not pass in {Converge}: {check.ExitCode} {check.Stdout}{check.Stderr}");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
            var lines = JsonDocument.Parse(check.Stdout).RootElement.EnumerateArray()
                .ToDictionary(l => l.GetProperty("Check").GetString()!, l => (Status: l.GetProperty("Status").GetString(), Detail: l.GetProperty("Detail").GetString()));
            Assert.Equal("ok", lines[HealthCheckRules.IntermediateChain].Status);
            Assert.StartsWith("dc2's intermediate", lines[HealthCheckRules.IntermediateChain].Detail, StringComparison.Ordinal);
            Assert.Equal("ok", lines[HealthCheckRules.AclReplication].Status);
            Assert.Equal("ok", lines["replication-intentions"].Status);
            Assert.Equal("ok", lines[HealthCheckRules.ClockSkew].Status);
            Assert.Equal("ok", lines[HealthCheckRules.Role].Status);
            var dc1Check = await RunCliAsync(["check", .. dc1]);
            Assert.True(dc1Check.ExitCode == ExitCodes.Ok, dc1Check.Stdout + dc1Check.Stderr);
        }
        finally
        {
            await stop.CancelAsync();
            try { await run.WaitAsync(TimeSpan.FromSeconds(120)); } catch (TimeoutException) { }
        }
    }

    // The replicator named type is running and its last round succeeded (after any error).
    private static bool Healthy(string json, string type)
    {
        using var doc = JsonDocument.Parse(json);
        var statuses = doc.RootElement.ValueKind == JsonValueKind.Array ? doc.RootElement : doc.RootElement.GetProperty("Replication");
        foreach (var s in statuses.EnumerateArray())
        {
            if (s.GetProperty("ReplicationType").GetString() != type) continue;
            return s.GetProperty("Running").GetBoolean() && s.GetProperty("LastSuccess").GetDateTimeOffset() > s.GetProperty("LastError").GetDateTimeOffset();
        }
        return false;
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var context = new CliContext(output, error, new HostedMeridianClientFactory(), new FakeSiloLauncher(), _ => null);
        return (await MeridianCli.RunAsync(args, context, CancellationToken.None), output.ToString(), error.ToString());
    }
}
