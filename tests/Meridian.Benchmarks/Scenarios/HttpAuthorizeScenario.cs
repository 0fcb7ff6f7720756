using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Meridian.Client;
using Meridian.Grains;
using Meridian.HttpApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// Consul's <c>POST /v1/agent/connect/authorize</c> rate and latency (issue 16): through a silo's HTTP port and through
/// a <c>meridian agent</c>-style process (the HTTP API over one SDK connection, here in this process), each as a ratio
/// to SDK <c>AuthorizeAsync</c> against the same silo in the same run (target &gt;= 0.5). One silo as a separate
/// process, memory storage, the authorize scenario's 1,000 intentions over 100 destinations. HTTP/1.1 keep-alive
/// connections, <see cref="Concurrency"/> outstanding requests. <c>HTTP_AUTHORIZE_SECONDS</c> sets the measured
/// seconds per run (default 8; 1 for a smoke run).
/// </summary>
internal static class HttpAuthorizeScenario
{
    private const int Concurrency = 64;
    private const double TargetRatio = 0.5;

    public static async Task RunAsync()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("HTTP_AUTHORIZE_SECONDS"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 8;
        var (warmup, measured) = (TimeSpan.FromSeconds(Math.Min(3, seconds)), TimeSpan.FromSeconds(seconds));
        var requests = IntentionLoad.Requests(4096, AuthorizeScenario.Intentions, AuthorizeScenario.Destinations);
        var bodies = requests.Select(r => JsonSerializer.Serialize(new { r.Target, r.ClientCertURI, r.ClientCertSerial })).ToArray();
        Console.WriteLine($"http-authorize: {Concurrency} outstanding requests, warm-up {warmup.TotalSeconds} s, measured {measured.TotalSeconds} s; " +
            $"{Environment.ProcessorCount} cores, load {Latency.Load()}");

        await using var silo = await SiloHarness.StartExternalAsync();
        using var host = await SiloHarness.StartClientAsync(silo.GatewayPort);
        var cluster = host.Services.GetRequiredService<IClusterClient>();
        await IntentionLoad.UpsertAsync(cluster.GetGrain<IIntentionRegistryGrain>("dc1"), AuthorizeScenario.Intentions, AuthorizeScenario.Destinations, 16);
        var sdk = host.Services.GetRequiredService<IMeridianClient>();

        var sdkResult = await Latency.ClosedLoopAsync(Concurrency, warmup, measured,
            (w, n) => sdk.AuthorizeAsync(requests[(int)((w * 7919 + n) & 4095)]));
        AuthorizeScenario.Print("SDK AuthorizeAsync", sdkResult);

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Concurrency }) { Timeout = TimeSpan.FromSeconds(30) };
        var siloResult = await HttpLoopAsync(http, $"http://127.0.0.1:{silo.HttpPort}", bodies, warmup, measured);
        AuthorizeScenario.Print("HTTP through the silo", siloResult);

        // The agent: the HTTP API over this process's SDK connection, as `meridian agent` runs it.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var agentPort = SiloHarness.FreePort();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, agentPort));
        await using var agent = builder.Build();
        agent.MapConsulHttpApi(sdk, new ConsulHttpApiOptions());
        await agent.StartAsync();
        var agentResult = await HttpLoopAsync(http, $"http://127.0.0.1:{agentPort}", bodies, warmup, measured);
        AuthorizeScenario.Print("HTTP through the agent", agentResult);
        await agent.StopAsync();

        var (siloRatio, agentRatio) = (siloResult.PerSecond / sdkResult.PerSecond, agentResult.PerSecond / sdkResult.PerSecond);
        Console.WriteLine($"  silo HTTP / SDK: {siloRatio:F3}, agent HTTP / SDK: {agentRatio:F3}   (target >= {TargetRatio})");
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "http-authorize",
            sdk_per_s = Math.Round(sdkResult.PerSecond),
            sdk_p99_ms = Math.Round(sdkResult.P99Ms, 3),
            silo_http_per_s = Math.Round(siloResult.PerSecond),
            silo_http_p99_ms = Math.Round(siloResult.P99Ms, 3),
            agent_http_per_s = Math.Round(agentResult.PerSecond),
            agent_http_p99_ms = Math.Round(agentResult.P99Ms, 3),
            silo_http_to_sdk = Math.Round(siloRatio, 3),
            agent_http_to_sdk = Math.Round(agentRatio, 3),
            errors = sdkResult.Errors + siloResult.Errors + agentResult.Errors,
        }));
    }

    private static Task<Latency.Result> HttpLoopAsync(HttpClient http, string baseUrl, string[] bodies, TimeSpan warmup, TimeSpan measured)
    {
        var url = new Uri(baseUrl + "/v1/agent/connect/authorize");
        return Latency.ClosedLoopAsync(Concurrency, warmup, measured, async (w, n) =>
        {
            using var content = new StringContent(bodies[(int)((w * 7919 + n) & 4095)], Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(url, content);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"authorize answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            await response.Content.ReadAsByteArrayAsync();
        });
    }
}
