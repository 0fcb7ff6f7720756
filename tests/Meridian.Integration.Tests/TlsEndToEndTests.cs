using System.Globalization;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>
/// Transport files made by the real CLI (<c>meridian tls …</c>) and one in-memory silo with mutual TLS
/// (VerifyIncoming, VerifyOutgoing, VerifyServerHostname) on its gateway, shared by <see cref="TlsEndToEndTests"/>.
/// </summary>
public sealed class TlsSiloFixture : IAsyncLifetime
{
    private SiloProcess? _silo;

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("meridian-tls-e2e-").FullName;

    public SiloProcess Silo => _silo ?? throw new InvalidOperationException("TlsSiloFixture is not initialized.");

    public string File(string name) => Path.Combine(Directory, name);

    public async Task InitializeAsync()
    {
        foreach (var args in new[]
                 {
                     new[] { "tls", "ca", "create", "--out", Directory },
                     ["tls", "cert", "create", "--server", "--dc", "dc1", "--out", Directory],
                     ["tls", "cert", "create", "--client", "--dc", "dc1", "--out", Directory],
                     // A server certificate of another datacenter, signed by the same CA.
                     ["tls", "cert", "create", "--server", "--dc", "dc2", "--out", Directory],
                     // ... and of a datacenter that is not a member of dc1's federation (Meridian:Federation:Datacenters).
                     ["tls", "cert", "create", "--server", "--dc", "dc9", "--out", Directory],
                 })
        {
            var made = await Cli.RunAsync(args);
            Assert.True(made.ExitCode == 0, made.ToString());
        }
        var ports = FreePorts.Take(3);
        _silo = await SiloProcess.StartAsync("unused", ports[0], ports[1], ports[2], "dc1", "dc1", primaryGateway: null,
            new Dictionary<string, string>
            {
                ["Meridian__Storage__Provider"] = "Memory",
                ["Meridian__Tls__CaFile"] = File("meridian-agent-ca.pem"),
                ["Meridian__Tls__CertFile"] = File("dc1-server-meridian-0.pem"),
                ["Meridian__Tls__KeyFile"] = File("dc1-server-meridian-0-key.pem"),
                ["Meridian__Tls__VerifyIncoming"] = "true",
                ["Meridian__Tls__VerifyOutgoing"] = "true",
                ["Meridian__Tls__VerifyServerHostname"] = "true",
            }, new SiloHttps(File("meridian-agent-ca.pem"), File("dc1-client-meridian-0.pem"), File("dc1-client-meridian-0-key.pem")));
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null) await _silo.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

[Trait("Category", "EndToEnd")]
public sealed class TlsEndToEndTests(TlsSiloFixture fx) : IClassFixture<TlsSiloFixture>
{
    private string[] Tls(string client = "dc1-client-meridian-0") =>
        ["--ca-file", fx.File("meridian-agent-ca.pem"), "--client-cert", fx.File($"{client}.pem"), "--client-key", fx.File($"{client}-key.pem")];

    [Fact]
    public async Task Cli_WithTheClientCertificate_TalksToTheTlsGateway()
    {
        var status = await Cli.RunAsync(["--gateway", fx.Silo.Gateway, .. Tls(), "status", "--json"]);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Equal("dc1", Cli.Json(status).GetProperty("Datacenter").GetString());
    }

    [Fact]
    public async Task Cli_TlsFilesFromTheEnvironment_TalksToTheTlsGateway()
    {
        await using var cli = ChildProcess.StartDotnet(Binaries.Cli, ["--gateway", fx.Silo.Gateway, "status"], new Dictionary<string, string?>
        {
            ["MERIDIAN_CACERT"] = fx.File("meridian-agent-ca.pem"),
            ["MERIDIAN_CLIENT_CERT"] = fx.File("dc1-client-meridian-0.pem"),
            ["MERIDIAN_CLIENT_KEY"] = fx.File("dc1-client-meridian-0-key.pem"),
        });
        var code = await cli.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, cli.Output);
    }

    [Fact]
    public async Task Cli_WithoutAClientCertificate_CannotConnect_Exit5()
    {
        var status = await Cli.RunAsync("--gateway", fx.Silo.Gateway, "--ca-file", fx.File("meridian-agent-ca.pem"), "status");
        Assert.True(status.ExitCode == 5, status.ToString());
        Assert.Contains($"{fx.Silo.Gateway} closed the TLS connection: it requires a client certificate; pass --client-cert and --client-key", status.Stderr);
    }

    [Fact]
    public async Task Cli_Plaintext_CannotConnectToTheTlsGateway_Exit5SaysItRequiresTls()
    {
        var status = await Cli.RunAsync("--gateway", fx.Silo.Gateway, "status");
        Assert.True(status.ExitCode == 5, status.ToString());
        // Before: "closed the connection: it is not a gateway of dc1 (check --datacenter); is it a Meridian gateway?"
        Assert.True(status.Stderr.Contains(
            $"{fx.Silo.Gateway} requires TLS: pass --ca-file, --client-cert and --client-key (or set MERIDIAN_CACERT, MERIDIAN_CLIENT_CERT and MERIDIAN_CLIENT_KEY",
            StringComparison.Ordinal), status.ToString());
        Assert.DoesNotContain("check --datacenter", status.Stderr);
    }

    [Fact]
    public async Task Cli_ExpectingAnotherDatacenter_RefusesTheServerCertificate_Exit5()
    {
        // dc1's gateway, a valid certificate of the same CA, but the client wants server.dc2.meridian.
        var status = await Cli.RunAsync(["--gateway", fx.Silo.Gateway, "--datacenter", "dc2", .. Tls(), "status"]);
        Assert.True(status.ExitCode == 5, status.ToString());
        Assert.Contains("presented a certificate that does not name server.dc2.meridian", status.Stderr);
    }

    [Fact]
    public async Task Cli_MissingTlsFile_Exit2NamingTheOption()
    {
        var status = await Cli.RunAsync("--gateway", fx.Silo.Gateway, "--ca-file", fx.File("nope.pem"), "--client-cert", fx.File("dc1-client-meridian-0.pem"), "status");
        Assert.True(status.ExitCode == 2, status.ToString());
        Assert.Contains("--ca-file:", status.Stderr);
        Assert.Contains("--client-key:", status.Stderr);
    }

    [Theory]
    [InlineData("-tls1_2")]
    [InlineData("-tls1_3")]
    public async Task OpensslSClient_WithoutAClientCertificate_IsRefused(string protocol)
    {
        // The server refuses by closing the connection; .NET sends no alert, so openssl reports an EOF rather than
        // "certificate required". Under TLS 1.3 (and, depending on timing, 1.2) openssl's side of the handshake has
        // already ended when the server checks the client certificate: -ign_eof makes s_client read on until the
        // server closes, instead of quitting at the end of its (empty) input.
        var result = await SClientAsync([protocol, "-ign_eof"]);
        Assert.True(result.ExitCode != 0, result.ToString());
        // It was the TLS gateway that refused: it showed its certificate first.
        Assert.True(result.Stdout.Contains("CN = server.dc1.meridian", StringComparison.Ordinal), result.ToString());
        Assert.True(result.Stderr.Contains("unexpected eof", StringComparison.OrdinalIgnoreCase), result.ToString());
    }

    [Fact]
    public async Task OpensslSClient_WithTheClientCertificate_ShowsServerDc1AndVerifies()
    {
        var result = await SClientAsync(["-cert", fx.File("dc1-client-meridian-0.pem"), "-key", fx.File("dc1-client-meridian-0-key.pem")]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("CN = server.dc1.meridian", result.Stdout);
        Assert.Contains("Verify return code: 0 (ok)", result.Stdout);
        Assert.DoesNotContain("certificate required", result.Stdout + result.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Secondary_OverMutualTls_JoinsThePrimarysTrustDomain()
    {
        await using var dc2 = await StartSecondaryAsync("dc2");
        // Joined = the secondary's CA holds an intermediate of the primary's trust domain: it went over the TLS link.
        var primary = Cli.Json(await Cli.RunAsync(["--gateway", fx.Silo.Gateway, .. Tls(), "status", "--json"])).GetProperty("TrustDomain").GetString();
        Assert.False(string.IsNullOrEmpty(primary));
        var status = await WaitStatusAsync(dc2, "dc2", s => s.GetProperty("Ca").GetProperty("TrustDomain").GetString() == primary);
        Assert.True(status is not null, $"dc2 did not join {primary} over TLS\n{dc2.Output}");
    }

    [Fact]
    public async Task Secondary_WithTheCertificateOfANonMember_IsRefusedAtThePrimary_StatusSaysWhy()
    {
        // dc9 is configured correctly on its side and its certificate is signed by the same transport CA: only the
        // primary's federation check stands between it and the primary (dc1's members: dc2, dc3).
        await using var dc9 = await StartSecondaryAsync("dc9");
        var status = await WaitStatusAsync(dc9, "dc9", s =>
            s.GetProperty("Degraded").GetString()?.Contains("did not accept the client certificate", StringComparison.Ordinal) == true
            && fx.Silo.Output.Contains("dc9 is not a member of the federation of primary datacenter dc1", StringComparison.Ordinal));
        Assert.True(status is not null, $"dc9's status does not say the primary refused it\n{dc9.Output}\nprimary:\n{fx.Silo.Output}");
        // The secondary's status: the primary refused its certificate, and where to look.
        var degraded = status.Value.GetProperty("Degraded").GetString();
        Assert.Contains("closed the TLS connection: it did not accept the client certificate", degraded);
        Assert.Contains("Meridian:Federation:Datacenters", degraded);
        // The primary's log: which certificate and why.
        Assert.Contains("Gateway refused a TLS connection with certificate CN=server.dc9.meridian", fx.Silo.Output);
        Assert.Contains("dc9 is not a member of the federation of primary datacenter dc1 (members: dc2, dc3)", fx.Silo.Output);
        // Nothing crossed: dc9 never got an intermediate from dc1.
        var primary = Cli.Json(await Cli.RunAsync(["--gateway", fx.Silo.Gateway, .. Tls(), "status", "--json"])).GetProperty("TrustDomain").GetString();
        Assert.NotEqual(primary, status.Value.GetProperty("Ca").GetProperty("TrustDomain").GetString());
    }

    [Fact]
    public async Task Secondary_WithoutTls_StatusSaysThePrimaryRequiresTls()
    {
        var ports = FreePorts.Take(3);
        await using var dc2 = await SiloProcess.StartAsync("unused", ports[0], ports[1], ports[2], "dc2", "dc1", fx.Silo.Gateway,
            new Dictionary<string, string> { ["Meridian__Storage__Provider"] = "Memory" });
        string? degraded = null;
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTimeOffset.UtcNow < deadline && degraded?.Contains("requires TLS", StringComparison.Ordinal) != true)
        {
            var result = await Cli.RunAsync("--gateway", dc2.Gateway, "--datacenter", "dc2", "status", "--json");
            if (result.ExitCode == 0) degraded = Cli.Json(result).GetProperty("Degraded").GetString();
            // Polling a real condition (each round is a CLI process), bounded by the deadline.
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
        // Before: "the primary datacenter dc1 is unreachable (still connecting)", and nothing about why.
        Assert.True(degraded?.Contains(
            $"the primary's gateway {fx.Silo.Gateway} requires TLS: set Meridian:Tls:CaFile, CertFile and KeyFile", StringComparison.Ordinal) == true,
            $"dc2's status: {degraded}\n{dc2.Output}");
    }

    // A secondary of dc1 with mutual TLS and its own server certificate (from the fixture's CA).
    private Task<SiloProcess> StartSecondaryAsync(string datacenter)
    {
        var ports = FreePorts.Take(3);
        return SiloProcess.StartAsync("unused", ports[0], ports[1], ports[2], datacenter, "dc1", fx.Silo.Gateway,
            new Dictionary<string, string>
            {
                ["Meridian__Storage__Provider"] = "Memory",
                ["Meridian__Tls__CaFile"] = fx.File("meridian-agent-ca.pem"),
                ["Meridian__Tls__CertFile"] = fx.File($"{datacenter}-server-meridian-0.pem"),
                ["Meridian__Tls__KeyFile"] = fx.File($"{datacenter}-server-meridian-0-key.pem"),
                ["Meridian__Tls__VerifyIncoming"] = "true",
                ["Meridian__Tls__VerifyServerHostname"] = "true",
            }, new SiloHttps(fx.File("meridian-agent-ca.pem"), fx.File("dc1-client-meridian-0.pem"), fx.File("dc1-client-meridian-0-key.pem")));
    }

    // The secondary's status (meridian status --json over TLS) once it satisfies done; null after 60 s.
    private async Task<System.Text.Json.JsonElement?> WaitStatusAsync(SiloProcess silo, string datacenter, Func<System.Text.Json.JsonElement, bool> done)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTimeOffset.UtcNow < deadline)
        {
            var result = await Cli.RunAsync(["--gateway", silo.Gateway, "--datacenter", datacenter, .. Tls(), "status", "--json"]);
            if (result.ExitCode == 0 && Cli.Json(result) is var status && done(status)) return status;
            // Polling a real condition (each round is a CLI process), bounded by the deadline.
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
        return null;
    }

    [Theory]
    [InlineData("/health", "\"status\":\"healthy\"")]
    [InlineData("/dashboard/meridian", "Meridian datacenter dc1")]
    public async Task Https_CurlWithTheClientCertificate_Serves(string path, string expected)
    {
        var result = await CurlAsync(path, withClientCertificate: true);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(expected, result.Stdout);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/dashboard/meridian")]
    public async Task Https_CurlWithoutAClientCertificate_IsRefused(string path)
    {
        // Before: plaintext HTTP, open to anyone (curl failed its TLS handshake against it for another reason).
        var plain = await Commands.RunAsync("curl", "-sS", "--max-time", "10", $"http://127.0.0.1:{fx.Silo.HttpPort}{path}");
        Assert.True(plain.ExitCode != 0, plain.ToString());
        var result = await CurlAsync(path, withClientCertificate: false);
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.DoesNotContain("Meridian", result.Stdout);
    }

    [Fact]
    public async Task Https_OpensslSClient_ShowsServerDc1_AndVerifiesWithTheClientCertificate()
    {
        var with = await SClientAsync(["-cert", fx.File("dc1-client-meridian-0.pem"), "-key", fx.File("dc1-client-meridian-0-key.pem")], fx.Silo.HttpPort);
        Assert.True(with.ExitCode == 0, with.ToString());
        Assert.Contains("CN = server.dc1.meridian", with.Stdout);
        Assert.Contains("Verify return code: 0 (ok)", with.Stdout);
        var without = await SClientAsync(["-ign_eof"], fx.Silo.HttpPort);
        Assert.True(without.ExitCode != 0, without.ToString());
    }

    [Theory]
    [InlineData("/dashboard/GrainState?grainId=dc1&grainType=Meridian.Grains.DatacenterGrain", "Meridian:Dashboard:GrainDetails=true")]
    [InlineData("/DASHBOARD/grainstate?grainId=dc1&grainType=Meridian.Grains.DatacenterGrain", "Meridian:Dashboard:GrainDetails=true")]
    [InlineData("/dashboard/Trace", "disabled")]
    public async Task Dashboard_GrainDetailsAndLogStream_OffUnlessEnabled(string path, string says)
    {
        using var response = await fx.Silo.Http.GetAsync(fx.Silo.HttpBase + path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(!response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        Assert.Contains(says, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Https_WithoutVerifyIncoming_HealthOpen_DashboardNeedsAClientCertificate()
    {
        var ports = FreePorts.Take(3);
        await using var silo = await SiloProcess.StartAsync("unused", ports[0], ports[1], ports[2], "dc1", "dc1", primaryGateway: null,
            new Dictionary<string, string>
            {
                ["Meridian__Storage__Provider"] = "Memory",
                ["Meridian__Tls__CaFile"] = fx.File("meridian-agent-ca.pem"),
                ["Meridian__Tls__CertFile"] = fx.File("dc1-server-meridian-0.pem"),
                ["Meridian__Tls__KeyFile"] = fx.File("dc1-server-meridian-0-key.pem"),
            }, new SiloHttps(fx.File("meridian-agent-ca.pem")));
        using var anonymous = new SiloHttps(fx.File("meridian-agent-ca.pem")).CreateClient();
        using var health = await anonymous.GetAsync(silo.HttpBase + "/health");
        Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        foreach (var path in new[] { "/dashboard/meridian", "/dashboard/", "/Dashboard/ClusterStats" })
        {
            using var page = await anonymous.GetAsync(silo.HttpBase + path);
            Assert.True(page.StatusCode == System.Net.HttpStatusCode.Forbidden, $"{path}: {(int)page.StatusCode}");
        }
        using var withCertificate = new SiloHttps(fx.File("meridian-agent-ca.pem"), fx.File("dc1-client-meridian-0.pem"), fx.File("dc1-client-meridian-0-key.pem")).CreateClient();
        using var shown = await withCertificate.GetAsync(silo.HttpBase + "/dashboard/meridian");
        Assert.Equal(System.Net.HttpStatusCode.OK, shown.StatusCode);
        Assert.Contains("Meridian datacenter dc1", await shown.Content.ReadAsStringAsync());
    }

    private Task<CommandResult> CurlAsync(string path, bool withClientCertificate) => Commands.RunAsync("curl", TimeSpan.FromSeconds(30),
        ["-sS", "--max-time", "10", "--cacert", fx.File("meridian-agent-ca.pem"),
         .. withClientCertificate ? new[] { "--cert", fx.File("dc1-client-meridian-0.pem"), "--key", fx.File("dc1-client-meridian-0-key.pem") } : [],
         $"https://127.0.0.1:{fx.Silo.HttpPort}{path}"]);

    // -verify_return_error and -verify_hostname: openssl itself checks the chain to our CA and the server name. The
    // input is empty, so s_client ends after the handshake (and after reading what the server sends in TLS 1.3: a
    // refused client certificate arrives as an alert after the client's Finished).
    private Task<CommandResult> SClientAsync(string[] extra, int? port = null) => Commands.RunAsync("openssl", TimeSpan.FromSeconds(30),
        ["s_client", "-connect", port is { } p ? $"127.0.0.1:{p}" : fx.Silo.Gateway, "-CAfile", fx.File("meridian-agent-ca.pem"), "-verify_return_error",
         "-verify_hostname", "server.dc1.meridian", "-servername", "server.dc1.meridian", .. extra]);
}

/// <summary>A silo's TLS options, checked with all its others before it starts.</summary>
[Trait("Category", "EndToEnd")]
public sealed class TlsSiloOptionsTests
{
    [Fact]
    public async Task SiloProcess_BadTlsOptions_Exit2WithEveryProblemTogether()
    {
        var dir = Directory.CreateTempSubdirectory("meridian-tls-opt-").FullName;
        try
        {
            Assert.Equal(0, (await Cli.RunAsync("tls", "ca", "create", "--out", dir)).ExitCode);
            Assert.Equal(0, (await Cli.RunAsync("tls", "cert", "create", "--server", "--dc", "dc2", "--out", dir)).ExitCode);
            var ports = FreePorts.Take(2);
            await using var silo = ChildProcess.StartDotnet(Binaries.Silo, [], new Dictionary<string, string?>
            {
                ["Meridian__Datacenter"] = "dc1",
                ["Meridian__PrimaryDatacenter"] = "dc1",
                ["Meridian__Endpoints__SiloPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
                ["Meridian__Endpoints__GatewayPort"] = ports[1].ToString(CultureInfo.InvariantCulture),
                ["Meridian__Endpoints__HttpPort"] = "0",
                ["Meridian__Tls__CaFile"] = Path.Combine(dir, "meridian-agent-ca.pem"),
                // dc2's certificate on a dc1 silo, with peers checking names.
                ["Meridian__Tls__CertFile"] = Path.Combine(dir, "dc2-server-meridian-0.pem"),
                ["Meridian__Tls__KeyFile"] = Path.Combine(dir, "dc2-server-meridian-0-key.pem"),
                ["Meridian__Tls__VerifyServerHostname"] = "true",
                ["Meridian__Tls__VerifyIncoming"] = "perhaps",
            });
            var code = await silo.WaitForExitAsync(TimeSpan.FromMinutes(2));
            Assert.True(code == 2, $"exit {code}\n{silo.Output}");
            Assert.Contains("Meridian:Tls:VerifyIncoming: 'perhaps' is not true or false", silo.Output);
            Assert.Contains("Meridian:Tls:CertFile does not name server.dc1.meridian", silo.Output);
            Assert.DoesNotContain("PRIVATE KEY", silo.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
