using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Meridian.Integration.Tests.Processes;
using Xunit.Abstractions;

namespace Meridian.Integration.Tests;

/// <summary>
/// A three-datacenter <c>meridian dev</c> in which, before anything is looked at, an intention was written through
/// dc2 (and replicated back to it) and a certificate was issued in dc2: what every view of dc2's dashboard must show.
/// </summary>
public sealed partial class DashboardFixture : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private DevProcess? _dev;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>dc2's HTTP base URL.</summary>
    public string Dc2 { get; private set; } = "";

    public string TrustDomain { get; private set; } = "";

    /// <summary>dc2's replicated intention index once the intention arrived.</summary>
    public ulong ReplicatedIndex { get; private set; }

    /// <summary>The private key of the certificate issued to dc2/api: it must appear nowhere in the dashboard.</summary>
    public string LeafKeyPem { get; private set; } = "";

    public async Task InitializeAsync()
    {
        // Free ports are only free when picked: another process on this machine may take one before `dev` binds it
        // (dev then exits 2 naming the port). A second set of ports, once, rather than a failure that is not ours.
        (DevProcess Dev, IReadOnlyDictionary<string, string> Gateways) started;
        try
        {
            started = await DevProcess.StartFederatedAsync(["dc1", "dc2", "dc3"], "dc1");
        }
        catch (Exception e) when (e is Xunit.Sdk.XunitException or TimeoutException)
        {
            started = await DevProcess.StartFederatedAsync(["dc1", "dc2", "dc3"], "dc1");
        }
        var (dev, gateways) = started;
        _dev = dev;
        Dc2 = dev.HttpBases["dc2"];
        var dc2 = new[] { "--gateway", gateways["dc2"], "--datacenter", "dc2" };
        var upsert = await Cli.RunAsync([.. dc2, "intention", "upsert", "--source", "dash-web", "--destination", "dash-billing",
            "--action", "allow", "--description", "written before the screenshots", "--wait-replicated"]);
        Assert.True(upsert.ExitCode == 0, upsert.ToString());
        LeafKeyPem = Cli.Json(await Cli.RunAsync([.. dc2, "--json", "cert", "get", "--service", "dash-api", "--include-key"])).GetProperty("PrivateKeyPEM").GetString()!;
        Assert.Contains("PRIVATE KEY", LeafKeyPem, StringComparison.Ordinal);

        // The certificate inventory hears of new certificates in 100 ms batches: wait (bounded) until it lists dash-api.
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            var overview = await Http.GetFromJsonAsync<JsonElement>($"{Dc2}/dashboard/meridian/overview");
            var listed = overview.GetProperty("Certificates").GetProperty("Certificates").EnumerateArray()
                .Any(c => c.GetProperty("Service").GetString() == "dash-api");
            if (listed)
            {
                TrustDomain = overview.GetProperty("Status").GetProperty("TrustDomain").GetString()!;
                ReplicatedIndex = overview.GetProperty("Status").GetProperty("IntentionReplication").GetProperty("ReplicatedIndex").GetUInt64();
                return;
            }
            Assert.True(DateTime.UtcNow < until, $"dc2's certificate inventory did not list dash-api within {Deadline}: {overview}");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Fails when <paramref name="body"/> holds a PEM private key or the secret bytes of the key issued to dash-api: its
    /// scalar in hex or base64, or the stretch of the PEM that encodes it (the rest of the PEM is public: headers, OIDs
    /// and the public point also appear in the certificate).
    /// </summary>
    public void AssertNoKeyMaterial(string what, string body)
    {
        Assert.False(body.Contains("PRIVATE KEY", StringComparison.OrdinalIgnoreCase), $"{what} shows a private key");
        using var key = ECDsa.Create();
        key.ImportFromPem(LeafKeyPem);
        var d = key.ExportParameters(includePrivateParameters: true).D!;
        var pemBase64 = string.Concat(LeafKeyPem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal)).Select(l => l.Trim()));
        var der = Convert.FromBase64String(pemBase64);
        var at = der.AsSpan().IndexOf(d);
        Assert.True(at >= 0, "the key's scalar is not in its DER");
        var first = (at + 2) / 3 * 4;
        var last = (at + d.Length) / 3 * 4;
        string[] secrets =
        [
            Convert.ToHexString(d), Convert.ToHexStringLower(d), Convert.ToBase64String(d)[..40],
            .. AlphanumericRun().Matches(pemBase64[first..last]).Select(m => m.Value),
        ];
        foreach (var secret in secrets)
        {
            Assert.False(body.Contains(secret, StringComparison.Ordinal), $"{what} shows bytes of dash-api's private key ({secret})");
        }
    }

    // JSON inside JSON (Grain Details) escapes '+' and '/': compare the runs between them.
    [GeneratedRegex("[A-Za-z0-9]{12,}")]
    private static partial Regex AlphanumericRun();

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_dev is not null) await _dev.DisposeAsync();
    }
}

/// <summary>
/// Each dashboard view of a secondary, rendered by headless Chromium: the rendered DOM must show what the datacenter
/// holds, the screenshot must not be blank, and no response may carry key material.
/// </summary>
public sealed class DashboardViewTests(DashboardFixture fx, ITestOutputHelper output) : IClassFixture<DashboardFixture>
{
    public static TheoryData<string> Views => new(["overview", "grains", "grain-details-datacenter", "grain-details-ca",
        "grain-details-replicator", "silos", "reminders", "log-stream", "meridian"]);

    [Theory]
    [MemberData(nameof(Views))]
    public async Task DashboardView_SecondaryOfThreeDatacenters_ShowsItsState(string view)
    {
        var (path, streaming, expected) = Expect(view);
        // A busy machine can take longer than the first budget to fetch and render (the log stream's connection
        // above all): render again with more time before judging what the page shows.
        var (dom, png) = ("", Array.Empty<byte>());
        foreach (var seconds in streaming ? new[] { 6, 15, 30 } : [8, 20, 40])
        {
            (dom, png) = await Chromium.RenderAsync(fx.Dc2 + path, TimeSpan.FromSeconds(seconds), streaming);
            if (expected.All(text => dom.Contains(text, StringComparison.Ordinal))) break;
        }

        var file = Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots", $"{view}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllBytesAsync(file, png);
        output.WriteLine($"{view}: {file}");

        foreach (var text in expected) Assert.True(dom.Contains(text, StringComparison.Ordinal), $"{view} does not show {text}:\n{dom}");
        Assert.True(PngImage.CountColours(png) > 16, $"{view}'s screenshot is (nearly) one colour: {file}");
        fx.AssertNoKeyMaterial(view, dom);
    }

    [Fact]
    public async Task DashboardResponses_EveryMeridianGrainAndPage_CarryNoKeyMaterial()
    {
        var types = await fx.Http.GetFromJsonAsync<string[]>($"{fx.Dc2}/dashboard/GrainTypes");
        var meridian = types!.Where(t => t.StartsWith("Meridian.", StringComparison.Ordinal)).ToList();
        Assert.Contains("Meridian.Grains.Certificates.CertificateAuthorityGrain", meridian);
        List<string> urls = ["/dashboard/", "/dashboard/meridian", "/dashboard/meridian/overview"];
        // Each grain type under the key of the one dc2 grain of that type that holds keys or certificates.
        urls.AddRange(meridian.Select(t => (Type: t, Key: t.EndsWith(".ServiceCertificateGrain", StringComparison.Ordinal) ? "dc2/dash-api" : "dc2"))
            .Select(g => $"/dashboard/GrainState?grainId={Uri.EscapeDataString(g.Key)}&grainType={Uri.EscapeDataString(g.Type)}"));

        var shown = new List<string>();
        foreach (var url in urls)
        {
            var body = await fx.Http.GetStringAsync(fx.Dc2 + url);
            fx.AssertNoKeyMaterial(url, body);
            if (body.Contains("GetState", StringComparison.Ordinal)) shown.Add(url);
        }
        // The check above means something only if the grains that hold keys did answer with their state.
        Assert.Contains(shown, u => u.Contains("CertificateAuthorityGrain", StringComparison.Ordinal) && u.Contains("grainId=dc2&", StringComparison.Ordinal));
        Assert.Contains(shown, u => u.Contains("ServiceCertificateGrain", StringComparison.Ordinal) && u.Contains("dash-api", StringComparison.Ordinal));
    }

    private (string Path, bool Streaming, string[] Expected) Expect(string view)
    {
        const string banner = "Meridian dc2 (secondary of dc1)";
        string Details(string type) => $"/dashboard/?grainType={type}&grainId=dc2#/grainDetails";
        return view switch
        {
            "overview" => ("/dashboard/#/", false, ["Total Activations", banner]),
            "grains" => ("/dashboard/#/grains", false, ["DatacenterGrain", "CertificateAuthorityGrain", "IntentionRegistryGrain", banner]),
            "grain-details-datacenter" => (Details("Meridian.Grains.DatacenterGrain"), false,
            [
                "\"Datacenter\": \"dc2\"", "\"Role\": \"secondary\"", "\"PrimaryDatacenter\": \"dc1\"", $"\"TrustDomain\": \"{fx.TrustDomain}\"",
                "\"DestinationName\": \"dash-billing\"", "\"Service\": \"dash-api\"", $"\"ReplicatedIndex\": {fx.ReplicatedIndex}",
            ]),
            "grain-details-ca" => (Details("Meridian.Grains.Certificates.CertificateAuthorityGrain"), false,
                ["\"State\": \"INITIALIZED\"", "\"SigningCaExpiry\"", $"\"TrustDomain\": \"{fx.TrustDomain}\"", "\"Roots\""]),
            "grain-details-replicator" => (Details("Meridian.Grains.Replication.IntentionReplicatorGrain"), false,
                ["\"ReplicationType\": \"intentions\"", "\"SourceDatacenter\": \"dc1\"", $"\"ReplicatedIndex\": {fx.ReplicatedIndex}"]),
            "silos" => ("/dashboard/#/silos", false, ["Active Silos", banner]),
            "reminders" => ("/dashboard/#/reminders", false, ["intentionreplicator/dc2", "rootwatcher/dc2"]),
            "log-stream" => ("/dashboard/#/trace", true, ["You are connected to the Orleans Dashboard log streaming service"]),
            "meridian" => ("/dashboard/meridian", false,
            [
                "Meridian datacenter dc2", "secondary of dc1", fx.TrustDomain, "dash-billing", "written before the screenshots", "dash-api",
                $"<td>intentions</td><td>dc1</td><td>yes</td><td>{fx.ReplicatedIndex}</td>", "Signing CA expiry",
            ]),
            _ => throw new ArgumentOutOfRangeException(nameof(view), view, "no such view"),
        };
    }
}
