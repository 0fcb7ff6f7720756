using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Meridian.Grains;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>
/// <c>/metrics</c> of a silo built by the production host wiring (docs/metrics.md): Meridian's series after an
/// authorize, a leaf certificate and a replication round, Orleans' own, and the <c>operator:read</c> rule with ACLs on.
/// </summary>
public sealed partial class MetricsEndpointTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Metrics_AfterAuthorizeLeafAndReplicationRound_ServesTheSeries_InPrometheusFormat()
    {
        var quiet = new Dictionary<string, string?> { ["Meridian:Wan:PingInterval"] = "00:00:00" };
        // Names no other test uses: every silo of this test process reports to every exporter in it (one meter name).
        await using var dc1 = await InProcessDatacenter.StartAsync(settings: new Dictionary<string, string?>(quiet)
        {
            ["Meridian:Datacenter"] = "mx1", ["Meridian:PrimaryDatacenter"] = "mx1", ["Meridian:Federation:Datacenters:0"] = "mx2",
        });
        var http2 = FreePorts.Take(1)[0];
        await using var dc2 = await InProcessDatacenter.StartAsync(settings: new Dictionary<string, string?>(quiet)
        {
            ["Meridian:Datacenter"] = "mx2", ["Meridian:PrimaryDatacenter"] = "mx1", ["Meridian:Primary:Gateways:0"] = dc1.Gateway,
            ["Meridian:Endpoints:HttpPort"] = http2.ToString(CultureInfo.InvariantCulture),
        });

        // A replication round that applies something, an authorize and a leaf certificate, all in mx2.
        await dc1.Grains.GetGrain<IIntentionRegistryGrain>("mx1").UpsertAsync(new IntentionDto
        {
            SourceName = "web", DestinationName = "db", Action = "allow",
        });
        var decision = await dc2.Grains.GetGrain<IAuthorizerGrain>("mx2").AuthorizeAsync(new AuthorizeRequestDto
        {
            Target = "db", ClientCertURI = "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/mx2/svc/api",
        });
        // A secondary signs once mx1 has signed its intermediate, moments after it starts.
        IssuedCertificateDto? leaf = null;
        for (var until = DateTime.UtcNow + Deadline; leaf is null; await Task.Delay(100))
        {
            try
            {
                leaf = await dc2.Grains.GetGrain<IServiceCertificateGrain>("mx2/web").GetAsync();
            }
            catch (CaNotInitializedException) when (DateTime.UtcNow < until)
            {
            }
        }
        Assert.False(string.IsNullOrEmpty(leaf.CertPEM));

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = $"http://127.0.0.1:{http2}/metrics";
        var body = await UntilAsync(client, url, text => Value(text, "meridian_replication_index", "datacenter=\"mx2\"", "type=\"intentions\"") >= 1,
            "mx2's intention replication reached index 1");

        // The text format Prometheus reads: TYPE lines, the series with their labels.
        Assert.Contains("# TYPE meridian_authorize_decisions_total counter", body, StringComparison.Ordinal);
        Assert.Equal(1, Value(body, "meridian_authorize_decisions_total", "datacenter=\"mx2\"", $"result=\"{(decision.Authorized ? "allow" : "deny")}\""));
        Assert.Contains("# TYPE meridian_authorize_duration_seconds histogram", body, StringComparison.Ordinal);
        Assert.Equal(1, Value(body, "meridian_authorize_duration_seconds_count", "datacenter=\"mx2\""));
        Assert.True(Value(body, "meridian_ca_leaf_issued_total", "datacenter=\"mx2\"") >= 1, body);
        // mx2 signs with its intermediate (valid a year by default), under mx1's root (ten years).
        var signing = Value(body, "meridian_ca_active_signing_ca_expiry_seconds", "datacenter=\"mx2\"");
        var root = Value(body, "meridian_ca_active_root_expiry_seconds", "datacenter=\"mx2\"");
        Assert.InRange(signing, TimeSpan.FromDays(300).TotalSeconds, TimeSpan.FromDays(400).TotalSeconds);
        Assert.True(root >= signing, $"root {root} s, signing CA {signing} s");
        Assert.Equal(1, Value(body, "meridian_replication_status", "datacenter=\"mx2\"", "source_datacenter=\"mx1\"", "datacenter=\"mx2\"", "type=\"intentions\""));
        Assert.Equal(0, Value(body, "meridian_replication_lag", "datacenter=\"mx2\"", "type=\"intentions\""));
        // A round ends when its long-poll answers (a change, or PollWait with none): the age of a healthy, idle stream
        // climbs to PollWait (5 min) before it drops.
        Assert.InRange(Value(body, "meridian_replication_last_success_age_seconds", "datacenter=\"mx2\"", "type=\"intentions\""), 0, 300);
        // Every Meridian series is one docs/metrics.md lists, under the name it gives (MetricInfo.PrometheusName).
        var documented = Meridian.Grains.Diagnostics.MeridianInstruments.All.ToDictionary(m => m.PrometheusName, m => m.Kind);
        foreach (Match type in Regex.Matches(body, @"^# TYPE (meridian_\S+) (\S+)$", RegexOptions.Multiline))
            Assert.True(documented.TryGetValue(type.Groups[1].Value, out var kind) && kind == type.Groups[2].Value,
                $"/metrics has {type.Groups[1].Value} ({type.Groups[2].Value}), which docs/metrics.md does not list");
        // Orleans' own meter is exported too.
        Assert.Matches(new Regex("^orleans_", RegexOptions.Multiline), body);

        // The rotation gauges follow the inventory, which hears of the certificate within its 100 ms batch window.
        body = await UntilAsync(client, url, text => text.Contains("meridian_ca_rotation_progress{", StringComparison.Ordinal),
            "the certificate inventory reported");
        Assert.Equal(1, Value(body, "meridian_ca_rotation_progress", "datacenter=\"mx2\""));
        Assert.Equal(1, Value(body, "meridian_ca_certificates", "datacenter=\"mx2\"", "root=\"active\""));
    }

    [Fact]
    public async Task Metrics_AclsOn_NeedsOperatorRead_ByBearerOrConsulHeader()
    {
        var management = Guid.NewGuid().ToString();
        var http = FreePorts.Take(1)[0];
        var (keyFile, _) = TestKeyEncryptionKey.Write(RandomNumberGenerator.GetBytes(32));
        await using var dc1 = await InProcessDatacenter.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Meridian:Endpoints:HttpPort"] = http.ToString(CultureInfo.InvariantCulture),
            ["Meridian:Acl:Enabled"] = "true", ["Meridian:Acl:DefaultPolicy"] = "deny",
            ["Meridian:Acl:SecretHashKeyFile"] = keyFile, ["Meridian:Acl:Tokens:InitialManagement"] = management,
        });
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = $"http://127.0.0.1:{http}/metrics";

        using (var anonymous = await client.GetAsync(url))
        {
            var text = await anonymous.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
            Assert.StartsWith("Permission denied: anonymous token lacks permission 'operator:read'", text, StringComparison.Ordinal);
        }
        var unknown = Guid.NewGuid().ToString();
        using (var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", unknown) } })
        using (var refused = await client.SendAsync(request))
        {
            var text = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("ACL not found", text, StringComparison.Ordinal);
            Assert.DoesNotContain(unknown, text, StringComparison.Ordinal);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", management) } })
        using (var bearer = await client.SendAsync(request))
        {
            var text = await bearer.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
            // Resolving the management token: a miss (the store) for the refused scrapes' tokens and this one, then hits.
            Assert.True(Value(text, "meridian_acl_token_cache_requests_total", "datacenter=\"dc1\"", "result=\"miss\"") >= 1, text);
            Assert.DoesNotContain(management, text, StringComparison.Ordinal);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, url) { Headers = { { "X-Consul-Token", management } } })
        using (var consulHeader = await client.SendAsync(request))
        {
            var text = await consulHeader.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, consulHeader.StatusCode);
            Assert.True(Value(text, "meridian_acl_token_cache_requests_total", "datacenter=\"dc1\"", "result=\"hit\"") >= 1, text);
        }
        // Only /metrics is guarded by a token here: the probe stays open.
        using (var health = await client.GetAsync($"http://127.0.0.1:{http}/health/live"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static async Task<string> UntilAsync(HttpClient client, string url, Func<string, bool> done, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        var last = "";
        while (DateTime.UtcNow < until)
        {
            using var response = await client.GetAsync(url);
            last = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {last}");
            if (done(last)) return last;
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"never: {what}; last scrape:\n{last}");
    }

    /// <summary>The value of the one series named <paramref name="name"/> whose labels include every one of <paramref name="labels"/>; NaN when there is none.</summary>
    internal static double Value(string text, string name, params string[] labels)
    {
        var values = Series().Where(s => s.Name == name && labels.All(l => s.Labels.Contains(l, StringComparison.Ordinal))).Select(s => s.Value).ToList();
        return values.Count switch
        {
            1 => values[0],
            0 => double.NaN,
            _ => throw new Xunit.Sdk.XunitException($"{values.Count} series {name} with {string.Join(",", labels)}:\n{text}"),
        };

        IEnumerable<(string Name, string Labels, double Value)> Series()
        {
            foreach (Match m in SeriesLine().Matches(text))
                yield return (m.Groups["name"].Value, m.Groups["labels"].Value, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
        }
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>[^ \n]+)", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}
