using System.Net.Sockets;

namespace Meridian.Cli.Tests;

[Trait("Category", "Unit")]
public sealed class DevCommandTests
{
    [Fact]
    public void Plan_DatacenterK_UsesBasePortsPlusK_AndFirstIsPrimary()
    {
        var plan = DevPlan.Create("dc1,dc2", null, 30000, 8500, 11111, null);
        Assert.Equal(
            [new DevSiloPlan("dc1", "dc1", 30000, 8500, 11111, null) { Secondaries = "dc2" }, new DevSiloPlan("dc2", "dc1", 30001, 8501, 11112, null) { PrimaryGateway = "127.0.0.1:30000" }],
            plan.Silos);
        Assert.True(plan.InMemory);
        Assert.Equal("meridian dev: ready dc1=127.0.0.1:30000 dc2=127.0.0.1:30001", plan.ReadyLine());
    }

    [Fact]
    public void Plan_Configuration_IsCompleteForTheSilo()
    {
        var silo = DevPlan.Create("east,west", "west", 31000, 0, 12000, "Host=db").Silos[0];
        var config = silo.Configuration();
        Assert.Equal("east", config["Meridian:Datacenter"]);
        Assert.Equal("west", config["Meridian:PrimaryDatacenter"]);
        Assert.Equal("PostgreSql", config["Meridian:Storage:Provider"]);
        Assert.Equal("Host=db", config["Meridian:Storage:ConnectionString"]);
        Assert.Equal("true", config["Meridian:Ca:AllowUnsealedKeys"]);
        Assert.Equal(("31000", "0", "12000"), (config["Meridian:Endpoints:GatewayPort"], config["Meridian:Endpoints:HttpPort"], config["Meridian:Endpoints:SiloPort"]));
        // A secondary is pointed at the primary's gateway (west = datacenter 1 = base + 1).
        Assert.Equal("127.0.0.1:31001", config["Meridian:Primary:Gateways:0"]);
        Assert.DoesNotContain(config.Keys, k => k.StartsWith("Meridian:Federation:", StringComparison.Ordinal));
    }

    [Fact]
    public void Plan_Primary_ListsEveryOtherDatacenterAsFederationMember()
    {
        var primary = DevPlan.Create("dc1,dc2,dc3", "dc2", 31000, 0, 12000, null).Silos.Single(s => s.Datacenter == "dc2");
        var config = primary.Configuration();
        Assert.Equal(("dc1", "dc3"), (config["Meridian:Federation:Datacenters:0"], config["Meridian:Federation:Datacenters:1"]));
        Assert.False(config.ContainsKey("Meridian:Federation:Datacenters:2"));
    }

    [Fact]
    public async Task Dev_BadOptions_ExitsTwoWithEveryProblem()
    {
        var cli = new CliHarness();
        var result = await cli.RunAsync("dev", "--datacenters", "dc1,dc1,DC 2", "--primary", "dc9", "--gateway-port", "65535");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--datacenters: \"dc1\" is listed more than once", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--primary: ", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--gateway-port: ", StringComparison.Ordinal));
        Assert.Contains(result.ErrorLines, l => l.StartsWith("--datacenters: ", StringComparison.Ordinal) && l.Contains("DC 2"));
        Assert.Empty(cli.Silos.Started);
    }

    [Fact]
    public async Task Dev_AllServe_PrintsBannerThenOneReadyLine_AndStopsCleanlyOnCancel()
    {
        var cli = new CliHarness();
        var result = await RunUntilReadyAsync(cli, () =>
        {
            Assert.Equal(["dc1", "dc2"], cli.Silos.Started.Select(s => s.Datacenter));
            Assert.Equal([("127.0.0.1:30000", "dc1"), ("127.0.0.1:30001", "dc2")],
                cli.Clients.Connections.Select(c => (c.Gateways.Single(), c.Datacenter)));
            Assert.Equal(2, cli.Client.Requests.Count(r => r is "status"));
        }, "dev", "--datacenters", "dc1,dc2");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(["dc2", "dc1"], cli.Silos.Stopped.Select(s => s.Datacenter));
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("lost on exit", lines[1]);
        // A restart of an in-memory dev silently invalidated every certificate and every deny: say so up front.
        Assert.Contains("a restart makes a new trust domain and new roots", lines[2]);
        Assert.Contains("every intention (every deny too) is gone", lines[2]);
        Assert.Equal("meridian dev: ready dc1=127.0.0.1:30000 dc2=127.0.0.1:30001", Assert.Single(lines, l => l.Contains("ready")));
        Assert.Equal(lines[^1], Assert.Single(lines, l => l.Contains("ready")));
    }

    [Fact]
    public async Task Dev_PrimaryBetweenSecondaries_StopsSecondariesFirstThenThePrimary()
    {
        var cli = new CliHarness();
        var result = await RunUntilReadyAsync(cli, () => { }, "dev", "--datacenters", "dc1,dc2,dc3", "--primary", "dc2");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(["dc1", "dc2", "dc3"], cli.Silos.Started.Select(s => s.Datacenter));
        Assert.Equal(["dc3", "dc1", "dc2"], cli.Silos.Stopped.Select(s => s.Datacenter));
    }

    [Fact]
    public async Task Dev_StatusCallFails_WarnsAndStillReports()
    {
        var cli = new CliHarness();
        cli.Client.Failure = new TimeoutException("slow");
        var result = await RunUntilReadyAsync(cli, () => { }, "dev");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains(result.ErrorLines, l => l.Contains("dc1 started but did not answer") && l.Contains("slow"));
        Assert.Single(cli.Silos.Stopped);
    }

    [Fact]
    public async Task Dev_GatewayPortInUse_ExitsTwoNamingThePortAndTheOption()
    {
        var cli = new CliHarness();
        cli.Silos.Busy.Add(31500);
        var result = await cli.RunAsync("dev", "--gateway-port", "31500", "--http-port", "0", "--silo-port", "12500");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(["--gateway-port: port 31500 is in use (gateway of dc1, 127.0.0.1:31500); pick another --gateway-port"], result.ErrorLines);
        Assert.Empty(cli.Silos.Started);
    }

    [Fact]
    public async Task Dev_SeveralPortsInUse_ReportsEveryOneBeforeStartingAny()
    {
        var cli = new CliHarness();
        cli.Silos.Busy.UnionWith([30001, 8500, 11113]);
        var result = await cli.RunAsync("dev", "--datacenters", "dc1,dc2,dc3");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal(
            ["--http-port: port 8500 is in use (HTTP port of dc1, 127.0.0.1:8500); pick another --http-port, or 0 to turn HTTP off",
             "--gateway-port: port 30001 is in use (gateway of dc2, 127.0.0.1:30001); pick another --gateway-port",
             "--silo-port: port 11113 is in use (silo port of dc3, 127.0.0.1:11113); pick another --silo-port"],
            result.ErrorLines);
        Assert.Empty(cli.Silos.Started);
    }

    [Fact]
    public async Task Dev_PortTakenAfterTheCheck_NamesItAndStopsTheDatacentersAlreadyStarted()
    {
        var cli = new CliHarness();
        cli.Silos.TakenDuringStart = ("dc2", 30001);
        var result = await cli.RunAsync("dev", "--datacenters", "dc1,dc2");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("--gateway-port: port 30001 is in use (gateway of dc2, 127.0.0.1:30001); pick another --gateway-port", result.ErrorLines);
        Assert.Equal(["dc1"], cli.Silos.Stopped.Select(s => s.Datacenter));
    }

    [Fact]
    public async Task Dev_SiloFailsToStartForAnotherReason_NamesThatDatacenterNotTheDefaultGateway()
    {
        var cli = new CliHarness();
        cli.Silos.StartFailure = new SocketException((int)SocketError.AccessDenied);
        var result = await cli.RunAsync("dev", "--gateway-port", "31500", "--http-port", "0", "--silo-port", "12500");
        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("meridian: datacenter dc1 did not start (gateway 127.0.0.1:31500, silo port 12500, HTTP off): ", line);
        Assert.DoesNotContain("30000", line);
    }

    [Fact]
    public async Task Dev_Default_BannerSaysPlaintextOnLoopback_AndSilosRunWithoutTls()
    {
        var cli = new CliHarness();
        var result = await RunUntilReadyAsync(cli, () => { }, "dev");

        Assert.Contains("meridian dev: plaintext (no TLS), listening on loopback 127.0.0.1 only; --tls runs every datacenter with mutual TLS", result.Stdout);
        Assert.DoesNotContain(cli.Silos.Started.Single().Configuration().Keys, k => k.StartsWith("Meridian:Tls:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dev_Tls_EverySiloOnMutualTlsWithAThrowawayCa_PrintsTheClientFiles_AndDeletesThemOnExit()
    {
        var cli = new CliHarness();
        var ca = "";
        var result = await RunUntilReadyAsync(cli, () =>
        {
            var configs = cli.Silos.Started.Select(s => s.Configuration()).ToList();
            Assert.Equal(2, configs.Count);
            ca = configs[0]["Meridian:Tls:CaFile"]!;
            foreach (var (config, dc) in configs.Zip(["dc1", "dc2"]))
            {
                Assert.Equal(ca, config["Meridian:Tls:CaFile"]);
                Assert.EndsWith($"{dc}-server-meridian-0.pem", config["Meridian:Tls:CertFile"], StringComparison.Ordinal);
                Assert.EndsWith($"{dc}-server-meridian-0-key.pem", config["Meridian:Tls:KeyFile"], StringComparison.Ordinal);
                Assert.Equal(("true", "true", "true"), (config["Meridian:Tls:VerifyIncoming"], config["Meridian:Tls:VerifyOutgoing"], config["Meridian:Tls:VerifyServerHostname"]));
                Assert.True(File.Exists(config["Meridian:Tls:CertFile"]));
                if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config["Meridian:Tls:KeyFile"]!));
            }
            // The ready check connected with the same client files the banner prints.
            var tls = cli.Clients.Connections.Select(c => (c.CaFile, c.ClientCertFile, c.ClientKeyFile)).Distinct().Single();
            Assert.Equal(ca, tls.CaFile);
            var output = cli.Out.ToString();
            Assert.Contains($"  --ca-file {ca} --client-cert {tls.ClientCertFile} --client-key {tls.ClientKeyFile}\n", output);
            Assert.Contains($"  export MERIDIAN_CACERT={ca} MERIDIAN_CLIENT_CERT={tls.ClientCertFile} MERIDIAN_CLIENT_KEY={tls.ClientKeyFile}\n", output);
            Assert.Contains("dashboard https://127.0.0.1:8500/dashboard", output);
            Assert.DoesNotContain("plaintext", output);
            Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(ca)!, "meridian-agent-ca-key.pem")), "the throwaway CA's key is never written");
        }, "dev", "--datacenters", "dc1,dc2", "--tls");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.False(Directory.Exists(Path.GetDirectoryName(ca)), "the throwaway CA's directory is deleted on exit");
    }

    // Runs `meridian args…` until its ready line, checks what it started with whileReady, then stops it as Ctrl-C does.
    private static async Task<CliResult> RunUntilReadyAsync(CliHarness cli, Action whileReady, params string[] args)
    {
        using var stop = new CancellationTokenSource();
        var ready = cli.Out.WaitForLineAsync("meridian dev: ready");
        var run = cli.RunAsync(stop.Token, args);
        try
        {
            await ready.WaitAsync(TimeSpan.FromSeconds(30));
            whileReady();
        }
        finally
        {
            stop.Cancel();
        }
        return await run.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
