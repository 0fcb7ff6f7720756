using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>One <c>meridian dev</c> process (in memory) for every test of <see cref="CliEndToEndTests"/>.</summary>
public sealed class DevFixture : IAsyncLifetime
{
    private DevProcess? _dev;

    public DevProcess Dev => _dev ?? throw new InvalidOperationException("DevFixture is not initialized.");

    public async Task InitializeAsync() => _dev = await DevProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_dev is not null) await _dev.DisposeAsync();
    }
}

/// <summary>
/// The <c>meridian</c> CLI as a user runs it: a real process per command against <c>meridian dev</c> run as a real
/// process, checked by exit code, JSON field names and openssl.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class CliEndToEndTests(DevFixture fx) : IClassFixture<DevFixture>
{
    private readonly string _id = Guid.NewGuid().ToString("N")[..12];

    private DevProcess Dev => fx.Dev;

    [Fact]
    public async Task Intentions_UpsertMatchAuthorizeCheck_AnswerWithConsulFields()
    {
        var (web, api, db) = ($"web-{_id}", $"api-{_id}", $"db-{_id}");
        var upsert = await Dev.CliAsync("intention", "upsert", "--source", web, "--destination", db, "--action", "allow");
        Assert.True(upsert.ExitCode == 0, upsert.ToString());
        Assert.Contains($"{web} => {db} allow", upsert.Stdout);
        Assert.Equal(0, (await Dev.CliAsync("intention", "upsert", "--source", "*", "--destination", db, "--action", "deny")).ExitCode);

        var match = Cli.Json(await Dev.CliAsync("intention", "match", "--by", "destination", db, "--json"));
        var entry = Assert.Single(match.GetProperty("Matches").EnumerateArray());
        Assert.Equal(db, entry.GetProperty("Name").GetString());
        var intentions = entry.GetProperty("Intentions").EnumerateArray().ToList();
        Assert.Equal(2, intentions.Count);
        // Exact source before the wildcard: evaluation order.
        Assert.Equal((web, db, "allow"), Fields(intentions[0]));
        Assert.Equal(("*", db, "deny"), Fields(intentions[1]));
        Assert.True(intentions[0].GetProperty("Precedence").GetInt32() > intentions[1].GetProperty("Precedence").GetInt32());

        var td = await TrustDomainAsync();
        var allowed = Cli.Json(await Dev.CliAsync("authorize", "--target", db, "--client-cert-uri", Spiffe(td, web), "--json"));
        Assert.True(allowed.GetProperty("Authorized").GetBoolean());
        Assert.False(string.IsNullOrEmpty(allowed.GetProperty("Reason").GetString()));
        var denied = Cli.Json(await Dev.CliAsync("authorize", "--target", db, "--client-cert-uri", Spiffe(td, api), "--json"));
        Assert.False(denied.GetProperty("Authorized").GetBoolean());
        Assert.False(string.IsNullOrEmpty(denied.GetProperty("Reason").GetString()));

        Assert.True(Cli.Json(await Dev.CliAsync("intention", "check", "--source", web, "--destination", db, "--json")).GetProperty("Allowed").GetBoolean());
        // Denied exits 2, as Consul's `intention check` does, with the answer still on stdout.
        var check = await Dev.CliAsync("intention", "check", "--source", api, "--destination", db, "--json");
        Assert.True(check.ExitCode == 2, check.ToString());
        Assert.False(System.Text.Json.JsonDocument.Parse(check.Stdout).RootElement.GetProperty("Allowed").GetBoolean());
    }

    [Fact]
    public async Task CertGet_Out_OpensslVerifiesAndKeyIsOwnerOnly()
    {
        var dir = Directory.CreateTempSubdirectory("meridian-e2e-");
        try
        {
            var service = $"web-{_id}";
            var written = Cli.Json(await Dev.CliAsync("cert", "get", "--service", service, "--out", dir.FullName, "--json"));
            Assert.False(string.IsNullOrEmpty(written.GetProperty("SerialNumber").GetString()));
            Assert.Equal($"spiffe://{await TrustDomainAsync()}/ns/default/dc/dc1/svc/{service}", written.GetProperty("ServiceURI").GetString());

            await AssertOpensslVerifiesAsync(dir.FullName);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir.FullName, "key.pem")));
            // The key belongs to the certificate.
            Assert.Equal(
                (await OpensslAsync("x509", "-noout", "-pubkey", "-in", Path.Combine(dir.FullName, "cert.pem"))).Stdout,
                (await OpensslAsync("pkey", "-pubout", "-in", Path.Combine(dir.FullName, "key.pem"))).Stdout);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task CertSign_OpensslCsr_SignedCertVerifiesAndCarriesTheWorkloadKey()
    {
        var dir = Directory.CreateTempSubdirectory("meridian-e2e-");
        try
        {
            var service = $"api-{_id}";
            var uri = Spiffe(await TrustDomainAsync(), service);
            var workloadKey = Path.Combine(dir.FullName, "workload-key.pem");
            var csr = Path.Combine(dir.FullName, "api.csr");
            await OpensslAsync("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/",
                "-addext", $"subjectAltName=URI:{uri}", "-keyout", workloadKey, "-out", csr);
            var outDir = Path.Combine(dir.FullName, "out");

            var written = Cli.Json(await Dev.CliAsync("cert", "sign", "--service", service, "--csr", csr, "--out", outDir, "--json"));
            Assert.Equal(uri, written.GetProperty("ServiceURI").GetString());
            Assert.False(written.TryGetProperty("KeyFile", out _), "cert sign must not write a key");
            Assert.False(File.Exists(Path.Combine(outDir, "key.pem")));

            await AssertOpensslVerifiesAsync(outDir);
            Assert.Equal(
                (await OpensslAsync("x509", "-noout", "-pubkey", "-in", Path.Combine(outDir, "cert.pem"))).Stdout,
                (await OpensslAsync("pkey", "-pubout", "-in", workloadKey)).Stdout);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task CaRotate_NewActiveRoot_NewCertVerifies()
    {
        var before = Cli.Json(await Dev.CliAsync("ca", "roots", "--json"));
        var rotated = Cli.Json(await Dev.CliAsync("ca", "rotate", "--json"));
        var newRoot = rotated.GetProperty("ActiveRootID").GetString();
        Assert.NotEqual(before.GetProperty("ActiveRootID").GetString(), newRoot);
        Assert.Equal(before.GetProperty("TrustDomain").GetString(), rotated.GetProperty("TrustDomain").GetString());

        var dir = Directory.CreateTempSubdirectory("meridian-e2e-");
        try
        {
            Assert.Equal(0, (await Dev.CliAsync("cert", "get", "--service", $"after-rotate-{_id}", "--out", dir.FullName)).ExitCode);
            await AssertOpensslVerifiesAsync(dir.FullName);
            // Chains to the new root alone, not just to the bundle.
            var root = rotated.GetProperty("Roots").EnumerateArray().Single(r => r.GetProperty("ID").GetString() == newRoot);
            var rootFile = Path.Combine(dir.FullName, "new-root.pem");
            await File.WriteAllTextAsync(rootFile, root.GetProperty("RootCert").GetString());
            var verify = await OpensslAsync("verify", "-CAfile", rootFile, Path.Combine(dir.FullName, "cert.pem"));
            Assert.Contains(": OK", verify.Stdout);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task BadInput_Exit2_OneFieldLinePerProblem_NothingWritten()
    {
        var before = Cli.Json(await Dev.CliAsync("intention", "list", "--json"));

        // Rejected by the registry (partial wildcard).
        var invalid = await Dev.CliAsync("intention", "upsert", "--source", $"web-{_id}*", "--destination", $"db-{_id}", "--action", "allow");
        Assert.True(invalid.ExitCode == 2, invalid.ToString());
        AssertFieldLines(invalid, "--source");
        Assert.Contains("--source: wildcard", invalid.Stderr);
        Assert.DoesNotContain("SourceName", invalid.Stderr);
        Assert.Empty(invalid.Stdout);

        // Rejected by the parser (action not allow/deny, missing destination): every problem reported.
        var unparsable = await Dev.CliAsync("intention", "upsert", "--source", $"web-{_id}", "--action", "maybe");
        Assert.True(unparsable.ExitCode == 2, unparsable.ToString());
        AssertFieldLines(unparsable, "--action");
        Assert.Empty(unparsable.Stdout);

        var after = Cli.Json(await Dev.CliAsync("intention", "list", "--json"));
        Assert.Equal(before.GetProperty("Index").GetUInt64(), after.GetProperty("Index").GetUInt64());
        Assert.Equal(before.GetProperty("Intentions").GetArrayLength(), after.GetProperty("Intentions").GetArrayLength());
        Assert.DoesNotContain(after.GetProperty("Intentions").EnumerateArray(), i => i.GetProperty("DestinationName").GetString() == $"db-{_id}");
    }

    [Fact]
    public async Task NamesTheCertificateApiRefuses_IntentionsRefuseToo_LinesNameTheOption()
    {
        var before = Cli.Json(await Dev.CliAsync("intention", "list", "--json")).GetProperty("Index").GetUInt64();

        var cert = await Dev.CliAsync("cert", "get", "--service", $"Web-{_id}");
        Assert.True(cert.ExitCode == 2, cert.ToString());
        Assert.StartsWith($"--service: \"Web-{_id}\" may contain only lower-case letters", cert.Stderr);

        // Upper case, a control character (the spoofing case: "web\x01" printed as "web"), and a control character
        // in the description: each line names the option typed, and no raw control character reaches the terminal.
        var upsert = await Dev.CliAsync("intention", "upsert", "--source", $"Web-{_id}", "--destination", $"db-{_id}\u0001",
            "--action", "allow", "--description", "a\u001b[2Jb");
        Assert.True(upsert.ExitCode == 2, upsert.ToString());
        Assert.Equal(
            [
                $"--source: \"Web-{_id}\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)",
                $"--destination: \"db-{_id}\\x01\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)",
                "--description: \"a\\x1b[2Jb\" contains the control character \"\\x1b\" at position 1; control and bidirectional-override characters are not allowed",
            ],
            upsert.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var authorize = await Dev.CliAsync("authorize", "--target", "d b", "--client-cert-uri", Spiffe(await TrustDomainAsync(), "web"));
        Assert.True(authorize.ExitCode == 2, authorize.ToString());
        AssertFieldLines(authorize, "--target");
        var match = await Dev.CliAsync("intention", "match", "--by", "destination", $"DB-{_id}");
        Assert.True(match.ExitCode == 2, match.ToString());
        AssertFieldLines(match, "<NAME>");

        Assert.Equal(before, Cli.Json(await Dev.CliAsync("intention", "list", "--json")).GetProperty("Index").GetUInt64());
    }

    [Fact]
    public async Task UnknownIntention_Exit3()
    {
        var result = await Dev.CliAsync("intention", "get", "--source", $"nobody-{_id}", "--destination", $"nothing-{_id}");
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.StartsWith("meridian: ", result.Stderr);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task UnreachableGateway_Exit5_NamesTheGateway()
    {
        var gateway = $"127.0.0.1:{FreePorts.Take(1)[0]}";
        var result = await Cli.RunAsync("--gateway", gateway, "intention", "list");
        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains(gateway, result.Stderr);
        Assert.Empty(result.Stdout);
    }

    // The commands below are bounded by Commands' 60 s timeout: before, a silo port could hold the CLI for good.
    [Fact]
    public async Task NotAGateway_PortAcceptsAndSaysNothing_Exit5WithHint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var gateway = $"127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        var accepted = new List<Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true) accepted.Add(await listener.AcceptSocketAsync(stop.Token));
            }
            catch (OperationCanceledException)
            {
                // Test over.
            }
        });
        try
        {
            var result = await Cli.RunAsync("--gateway", gateway, "status");
            Assert.True(result.ExitCode == 5, result.ToString());
            Assert.Equal(
                $"meridian: cannot reach datacenter dc1: {gateway} accepted the connection but did not answer; " +
                "is it a Meridian gateway? `meridian dev` serves dc1 on 127.0.0.1:30000",
                result.Stderr.Trim());
            Assert.Empty(result.Stdout);
        }
        finally
        {
            await stop.CancelAsync();
            await accepting;
            accepted.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task SiloPort_SameDatacenter_Exit5SaysItIsTheSiloPort()
    {
        var result = await Cli.RunAsync("--gateway", Dev.SiloEndpoint, "status");
        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains($"{Dev.SiloEndpoint} is a silo of dc1 that refused the client: is it the silo port rather than the gateway port?", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task SiloPort_OtherDatacenter_Exit5SaysWhichDatacenterItServes()
    {
        var result = await Cli.RunAsync("--gateway", Dev.SiloEndpoint, "--datacenter", "dc2", "status");
        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Equal(
            $"meridian: gateway {Dev.SiloEndpoint} serves datacenter dc1, not dc2; use --gateway with a gateway of dc2, or --datacenter dc1",
            result.Stderr.Trim());
    }

    [Fact]
    public async Task Gateway_OtherDatacenter_Exit5SaysWhichDatacenterItServes()
    {
        var result = await Cli.RunAsync("--gateway", Dev.Gateway, "--datacenter", "dc2", "status");
        Assert.True(result.ExitCode == 5, result.ToString());
        // A gateway drops a client of another cluster right after its answer, and the answer can be lost every time
        // the probe asks (GatewayProbe.Attempts): then the error says only that it is not a gateway of dc2.
        Assert.Contains(result.Stderr.Trim(), new[]
        {
            $"meridian: gateway {Dev.Gateway} serves datacenter dc1, not dc2; use --gateway with a gateway of dc2, or --datacenter dc1",
            $"meridian: cannot reach datacenter dc2: {Dev.Gateway} closed the connection: it is not a gateway of dc2 (check --datacenter); " +
                "is it a Meridian gateway? `meridian dev` serves dc1 on 127.0.0.1:30000",
        });
    }

    [Fact]
    public async Task Gateway_Plaintext_ClientWithTlsFiles_Exit5SaysTheGatewayHasNoTls()
    {
        var dir = Directory.CreateTempSubdirectory("meridian-tls-client-").FullName;
        try
        {
            Assert.Equal(0, (await Cli.RunAsync("tls", "ca", "create", "--out", dir)).ExitCode);
            Assert.Equal(0, (await Cli.RunAsync("tls", "cert", "create", "--client", "--dc", "dc1", "--out", dir)).ExitCode);
            var result = await Cli.RunAsync("--gateway", Dev.Gateway, "--ca-file", Path.Combine(dir, "meridian-agent-ca.pem"),
                "--client-cert", Path.Combine(dir, "dc1-client-meridian-0.pem"), "--client-key", Path.Combine(dir, "dc1-client-meridian-0-key.pem"), "status");
            Assert.True(result.ExitCode == 5, result.ToString());
            Assert.True(result.Stderr.Contains(
                $"{Dev.Gateway} did not answer the TLS handshake: is TLS on at that gateway (Meridian:Tls)? Without it, leave out --ca-file and MERIDIAN_CACERT",
                StringComparison.Ordinal), result.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Gateway_InvalidDatacenterName_Exit2WithoutConnecting()
    {
        var result = await Cli.RunAsync("--gateway", Dev.Gateway, "--datacenter", "DC 1!", "status");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith("--datacenter: ", result.Stderr);
    }

    private async Task<string> TrustDomainAsync()
    {
        var td = Cli.Json(await Dev.CliAsync("ca", "roots", "--json")).GetProperty("TrustDomain").GetString();
        Assert.False(string.IsNullOrEmpty(td));
        return td!;
    }

    private static string Spiffe(string trustDomain, string service) => $"spiffe://{trustDomain}/ns/default/dc/dc1/svc/{service}";

    private static (string?, string?, string?) Fields(JsonElement i) =>
        (i.GetProperty("SourceName").GetString(), i.GetProperty("DestinationName").GetString(), i.GetProperty("Action").GetString());

    private static void AssertFieldLines(CommandResult result, string expectedField)
    {
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(@"^\S[^:]*: \S", l));
        Assert.Contains(lines, l => l.StartsWith(expectedField + ": ", StringComparison.Ordinal));
    }

    private static async Task AssertOpensslVerifiesAsync(string dir)
    {
        var verify = await OpensslAsync("verify", "-CAfile", Path.Combine(dir, "ca.pem"), Path.Combine(dir, "cert.pem"));
        Assert.Equal($"{Path.Combine(dir, "cert.pem")}: OK", verify.Stdout.Trim());
    }

    private static async Task<CommandResult> OpensslAsync(params string[] args)
    {
        var result = await Commands.RunAsync("openssl", args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
