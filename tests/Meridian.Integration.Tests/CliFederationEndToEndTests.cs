using System.Text.Json;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>One <c>meridian dev --datacenters dc1,dc2,dc3 --primary dc1</c> process for every test of <see cref="CliFederationEndToEndTests"/>.</summary>
public sealed class FederatedDevFixture : IAsyncLifetime
{
    private DevProcess? _dev;

    public DevProcess Dev => _dev ?? throw new InvalidOperationException("FederatedDevFixture is not initialized.");

    public IReadOnlyDictionary<string, string> Gateways { get; private set; } = new Dictionary<string, string>();

    public async Task InitializeAsync() => (_dev, Gateways) = await DevProcess.StartFederatedAsync(["dc1", "dc2", "dc3"], "dc1");

    /// <summary>Runs <c>meridian --gateway &lt;dc's gateway&gt; --datacenter DC args…</c>.</summary>
    public Task<CommandResult> CliAsync(string datacenter, params string[] args) =>
        Cli.RunAsync(["--gateway", Gateways[datacenter], "--datacenter", datacenter, .. args]);

    public async Task DisposeAsync()
    {
        if (_dev is not null) await _dev.DisposeAsync();
    }
}

/// <summary>
/// The README's federation walk-through as a user runs it: <c>meridian dev</c> with three datacenters as a process and
/// a <c>meridian</c> process per command, checked by exit code, JSON fields and openssl.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class CliFederationEndToEndTests(FederatedDevFixture fx) : IClassFixture<FederatedDevFixture>
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Datacenters_FromASecondary_ListsAllThree_Reachable_Measured_PrimaryMarked()
    {
        // dev wires nothing special: each secondary registers its own gateway in dc1 and learns the list back.
        var list = await Poll.UntilAsync(async () => Cli.Json(await fx.CliAsync("dc3", "datacenters", "--json")),
            l => l.GetProperty("Datacenters").GetArrayLength() == 3
                && l.GetProperty("Datacenters").EnumerateArray().All(d => d.GetProperty("Reachable").GetBoolean() && d.TryGetProperty("Rtt", out _)),
            Converge, "dc3 sees dc1, dc2 and dc3 reachable and measured", () => fx.Dev.Output);
        var dcs = list.GetProperty("Datacenters").EnumerateArray().ToList();
        Assert.Equal("dc3", dcs[0].GetProperty("Name").GetString());
        Assert.Equal(["dc1", "dc2", "dc3"], dcs.Select(d => d.GetProperty("Name").GetString()).Order());
        Assert.Equal(["dc1"], dcs.Where(d => d.GetProperty("Primary").GetBoolean()).Select(d => d.GetProperty("Name").GetString()));
    }

    [Fact]
    public async Task UpsertInDc1_VisibleInDc3_AuthorizeInDc2_Dc2CertVerifiesAgainstDc1Root()
    {
        var (web, db) = ($"web-{_id}", $"db-{_id}");
        var upsert = await fx.CliAsync("dc1", "intention", "upsert", "--source", web, "--destination", db, "--action", "allow");
        Assert.True(upsert.ExitCode == 0, upsert.ToString());

        await Poll.UntilAsync(async () => Cli.Json(await fx.CliAsync("dc3", "intention", "list", "--json")),
            list => list.GetProperty("Intentions").EnumerateArray().Any(i =>
                i.GetProperty("SourceName").GetString() == web && i.GetProperty("DestinationName").GetString() == db
                && i.GetProperty("Action").GetString() == "allow"),
            Converge, $"{web} => {db} listed in dc3", () => fx.Dev.Output);

        var dc1Roots = Cli.Json(await fx.CliAsync("dc1", "ca", "roots", "--json"));
        var td = dc1Roots.GetProperty("TrustDomain").GetString();
        // Replicated into dc2 as well (dc3 having it does not say dc2 has it yet).
        await Poll.UntilAsync(async () => Cli.Json(await fx.CliAsync("dc2", "authorize", "--target", db,
                "--client-cert-uri", $"spiffe://{td}/ns/default/dc/dc2/svc/{web}", "--json")),
            a => a.GetProperty("Authorized").GetBoolean(), Converge, $"dc2 authorizes {web} => {db}");
        var denied = Cli.Json(await fx.CliAsync("dc2", "authorize", "--target", db,
            "--client-cert-uri", $"spiffe://{td}/ns/default/dc/dc2/svc/api-{_id}", "--json"));
        Assert.False(string.IsNullOrEmpty(denied.GetProperty("Reason").GetString()));

        var dir = Directory.CreateTempSubdirectory("meridian-fed-e2e-");
        try
        {
            var dc1Dir = Path.Combine(dir.FullName, "dc1");
            var dc2Dir = Path.Combine(dir.FullName, "dc2");
            Assert.Equal(0, Checked(await fx.CliAsync("dc1", "cert", "get", "--service", web, "--out", dc1Dir)).ExitCode);
            var written = Cli.Json(await fx.CliAsync("dc2", "cert", "get", "--service", web, "--out", dc2Dir, "--json"));
            Assert.Equal($"spiffe://{td}/ns/default/dc/dc2/svc/{web}", written.GetProperty("ServiceURI").GetString());
            var cert = Path.Combine(dc2Dir, "cert.pem");
            // dc1's trust bundle (its ca.pem) is the only trust anchor; dc2's intermediate travels in cert.pem.
            var verify = await Commands.RunAsync("openssl", "verify", "-CAfile", Path.Combine(dc1Dir, "ca.pem"), "-untrusted", cert, cert);
            Assert.True(verify.ExitCode == 0 && verify.Stdout.Contains(": OK", StringComparison.Ordinal), verify.ToString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task CaRotateInDc1_Dc2WaitNewerThan_ReturnsCertificateOnTheNewRoot()
    {
        var service = $"rot-{_id}";
        var first = Cli.Json(await fx.CliAsync("dc2", "cert", "get", "--service", service, "--json"));
        var serial = first.GetProperty("SerialNumber").GetString()!;

        var rotated = Cli.Json(await fx.CliAsync("dc1", "ca", "rotate", "--json"));
        var newRoot = rotated.GetProperty("ActiveRootID").GetString();
        var newRootPem = rotated.GetProperty("Roots").EnumerateArray().Single(r => r.GetProperty("ID").GetString() == newRoot)
            .GetProperty("RootCert").GetString()!;

        var dir = Directory.CreateTempSubdirectory("meridian-fed-e2e-");
        try
        {
            // Waits (server-side long-poll) until dc2 has re-keyed and re-issued this service's certificate.
            var next = Cli.Json(await fx.CliAsync("dc2", "cert", "get", "--service", service, "--wait-newer-than", serial,
                "--out", dir.FullName, "--json"));
            Assert.NotEqual(serial, next.GetProperty("SerialNumber").GetString());
            var rootFile = Path.Combine(dir.FullName, "new-root.pem");
            await File.WriteAllTextAsync(rootFile, newRootPem);
            var cert = Path.Combine(dir.FullName, "cert.pem");
            // Chains to the new root alone (the old root is not trusted here).
            var verify = await Commands.RunAsync("openssl", "verify", "-CAfile", rootFile, "-untrusted", cert, cert);
            Assert.True(verify.ExitCode == 0 && verify.Stdout.Contains(": OK", StringComparison.Ordinal), verify.ToString());

            var dc2Roots = Cli.Json(await fx.CliAsync("dc2", "ca", "roots", "--json"));
            Assert.Equal(newRoot, dc2Roots.GetProperty("ActiveRootID").GetString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ReplicationStatusJson_InDc2_ReportsRunningReplicationFromDc1()
    {
        Checked(await fx.CliAsync("dc1", "intention", "upsert", "--source", $"status-{_id}", "--destination", $"db-{_id}", "--action", "deny"));

        var status = await Poll.UntilAsync(async () => Cli.Json(await fx.CliAsync("dc2", "replication", "status", "--json")),
            s => Intentions(s) is { } r && r.GetProperty("Running").GetBoolean() && r.GetProperty("ReplicatedIndex").GetUInt64() > 0
                 && r.GetProperty("Lag").GetUInt64() == 0,
            Converge, "dc2 replication status running and caught up");
        var intentions = Intentions(status)!.Value;
        Assert.True(intentions.GetProperty("Enabled").GetBoolean());
        Assert.Equal("dc1", intentions.GetProperty("SourceDatacenter").GetString());
        Assert.True(intentions.GetProperty("LastSuccess").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-10));

        var primary = Cli.Json(await fx.CliAsync("dc1", "replication", "status", "--json"));
        Assert.Equal(0, primary.GetArrayLength());
    }

    private static JsonElement? Intentions(JsonElement list)
    {
        foreach (var r in list.EnumerateArray())
            if (r.GetProperty("ReplicationType").GetString() == "intentions") return r;
        return null;
    }

    private static CommandResult Checked(CommandResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
