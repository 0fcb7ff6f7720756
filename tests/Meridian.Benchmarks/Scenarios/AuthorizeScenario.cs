using System.Text.Json;
using Meridian.Client;
using Meridian.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// IAuthorizerGrain.AuthorizeAsync decisions per second and latency: (a) from an external Orleans client through the
/// gateway of a silo running as a separate OS process — closed loop at max rate, then open loop paced at half the
/// measured max for the p99 at half load — and (b) in-silo through the grain factory of a silo hosted in this process
/// (the reference: the same call without the client, gateway and TCP hops). Both silos use memory storage and hold
/// the same 1,000 intentions over 100 destinations. Target: &gt;= 50,000/s external, p99 &lt;= 5 ms at half that load;
/// the open loop runs twice, at half the measured maximum and at the target's half load (25,000/s). The external closed
/// loop runs again over mutual TLS (every check on) and prints its rate as a ratio to the plaintext one (target &gt;= 0.8).
/// Last, the external closed loop with metrics off and on (<see cref="MetricsSwitch"/>; on, /metrics is scraped every
/// 5 s meanwhile), printed as a ratio (target &gt;= 0.95).
/// </summary>
internal static class AuthorizeScenario
{
    internal const int Intentions = 1_000;
    internal const int Destinations = 100;
    internal const int Concurrency = 200;
    private const double TargetPerSecond = 50_000;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Measured = TimeSpan.FromSeconds(8);

    public static async Task RunAsync()
    {
        var requests = IntentionLoad.Requests(4096, Intentions, Destinations);
        Console.WriteLine($"authorize: {Intentions:N0} intentions over {Destinations} destinations, {Concurrency} outstanding calls, " +
            $"warm-up {Warmup.TotalSeconds} s, measured {Measured.TotalSeconds} s; {Environment.ProcessorCount} cores, load {Latency.Load()}; client GC: {ClientGc.Describe()}");
        if (MetricsSwitch.Only)
        {
            var only = await MetricsSwitch.CompareAsync("authorize", on => ExternalWithMetricsAsync(requests, on));
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                scenario = "authorize", metrics_off_per_s = Math.Round(only.Off), metrics_on_per_s = Math.Round(only.On),
                metrics_on_to_off = Math.Round(only.Ratio, 3),
            }));
            return;
        }

        var (max, half, targetHalf, clientGcs, clientPauseMs) = await ExternalAsync(requests, tls: null, full: true);
        // The same external closed loop over mutual TLS (issue 12: the rate with TLS must be >= 0.8 of the rate without).
        Latency.Result tlsMax;
        using (var tls = new BenchTls())
        {
            (tlsMax, _, _, _, _) = await ExternalAsync(requests, tls, full: false);
        }
        var tlsRatio = tlsMax.PerSecond / max.PerSecond;
        Console.WriteLine($"  external TLS / plaintext rate: {tlsRatio:F3}   (target >= 0.8)");

        Latency.Result inSilo;
        await using (var silo = await SiloHarness.StartInProcessAsync())
        {
            await IntentionLoad.UpsertAsync(silo.Grains.GetGrain<IIntentionRegistryGrain>("dc1"), Intentions, Destinations, 16);
            var authorizer = silo.Grains.GetGrain<IAuthorizerGrain>("dc1");
            Check(await authorizer.AuthorizeAsync(requests[0]));
            inSilo = await Latency.ClosedLoopAsync(Concurrency, Warmup, Measured,
                (w, n) => authorizer.AuthorizeAsync(requests[(int)((w * 7919 + n) & 4095)]));
            Print("in-silo, max rate", inSilo);
        }

        Console.WriteLine($"  external / in-silo:  {max.PerSecond / inSilo.PerSecond:F3}   (load now {Latency.Load()})");
        var metrics = await MetricsSwitch.CompareAsync("authorize", on => ExternalWithMetricsAsync(requests, on));
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "authorize",
            external_per_s = Math.Round(max.PerSecond),
            external_p50_ms = Math.Round(max.P50Ms, 3),
            external_p99_ms = Math.Round(max.P99Ms, 3),
            half_load_per_s = Math.Round(half.PerSecond),
            half_load_p99_ms = Math.Round(half.P99Ms, 3),
            target_half_load_per_s = Math.Round(targetHalf.PerSecond),
            target_half_load_p99_ms = Math.Round(targetHalf.P99Ms, 3),
            half_load_client_gcs = clientGcs,
            half_load_client_gc_pause_ms = Math.Round(clientPauseMs),
            client_gc = ClientGc.Describe(),
            in_silo_per_s = Math.Round(inSilo.PerSecond),
            in_silo_p99_ms = Math.Round(inSilo.P99Ms, 3),
            external_to_in_silo = Math.Round(max.PerSecond / inSilo.PerSecond, 3),
            tls_external_per_s = Math.Round(tlsMax.PerSecond),
            tls_external_p99_ms = Math.Round(tlsMax.P99Ms, 3),
            tls_to_plaintext_external = Math.Round(tlsRatio, 3),
            metrics_off_per_s = Math.Round(metrics.Off),
            metrics_on_per_s = Math.Round(metrics.On),
            metrics_on_to_off = Math.Round(metrics.Ratio, 3),
        }));
    }

    // The external closed loop on a silo with Meridian:Metrics:Enabled = on; with metrics on, a scraper reads /metrics
    // every 5 s during the run (Prometheus' default is 15 s or 1 min) and must find the authorize counter.
    private static async Task<double> ExternalWithMetricsAsync(AuthorizeRequestDto[] requests, bool on)
    {
        await using var silo = await SiloHarness.StartExternalAsync(new Dictionary<string, string?> { ["Meridian__Metrics__Enabled"] = on ? "true" : "false" });
        using var host = await SiloHarness.StartClientAsync(silo.GatewayPort);
        var client = host.Services.GetRequiredService<IClusterClient>();
        await IntentionLoad.UpsertAsync(client.GetGrain<IIntentionRegistryGrain>("dc1"), Intentions, Destinations, 16);
        var authorizer = client.GetGrain<IAuthorizerGrain>("dc1");
        Check(await authorizer.AuthorizeAsync(requests[0]));
        using var scraping = new CancellationTokenSource();
        var scraper = on ? ScrapeAsync(silo.HttpPort, scraping.Token) : Task.FromResult(0);
        var result = await Latency.ClosedLoopAsync(Concurrency, Warmup, MetricsSwitch.Measured(Measured),
            (w, n) => authorizer.AuthorizeAsync(requests[(int)((w * 7919 + n) & 4095)]));
        await scraping.CancelAsync();
        var scrapes = await scraper;
        if (on && scrapes == 0) throw new InvalidOperationException("metrics on, but /metrics never showed meridian_authorize_decisions_total");
        await host.StopAsync();
        return result.PerSecond;
    }

    private static async Task<int> ScrapeAsync(int httpPort, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var scrapes = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var text = await http.GetStringAsync($"http://127.0.0.1:{httpPort}/metrics", ct);
                if (text.Contains("meridian_authorize_decisions_total", StringComparison.Ordinal)) scrapes++;
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        return scrapes;
    }

    // The external silo (a separate process) and an SDK client; with tls, mutual TLS with every check on. full adds the
    // two paced runs after the closed loop.
    private static async Task<(Latency.Result Max, Latency.Result Half, Latency.Result TargetHalf, int ClientGcs, double ClientPauseMs)> ExternalAsync(
        AuthorizeRequestDto[] requests, BenchTls? tls, bool full)
    {
        var label = tls is null ? "external" : "external TLS";
        await using var silo = await SiloHarness.StartExternalAsync(tls?.SiloSettings("dc1", "__"));
        Console.WriteLine($"  {label} silo pid {silo.ProcessId} ({silo.Dll}), gateway 127.0.0.1:{silo.GatewayPort}");
        using var host = await SiloHarness.StartClientAsync(silo.GatewayPort, tls);
        var client = host.Services.GetRequiredService<IClusterClient>();
        await IntentionLoad.UpsertAsync(client.GetGrain<IIntentionRegistryGrain>("dc1"), Intentions, Destinations, 16);
        var authorizer = client.GetGrain<IAuthorizerGrain>("dc1");
        Check(await authorizer.AuthorizeAsync(requests[0]));

        var max = await Latency.ClosedLoopAsync(Concurrency, Warmup, Measured,
            (w, n) => authorizer.AuthorizeAsync(requests[(int)((w * 7919 + n) & 4095)]));
        Print($"{label}, max rate", max);
        if (!full)
        {
            await host.StopAsync();
            return (max, max, max, 0, 0);
        }
        var (gc0, gcPause) = (GC.CollectionCount(0), GC.GetTotalPauseDuration());
        var half = await Latency.PacedAsync(max.PerSecond / 2, TimeSpan.FromSeconds(2), Measured,
            n => authorizer.AuthorizeAsync(requests[(int)(n & 4095)]));
        Print($"{label}, paced at {max.PerSecond / 2:N0}/s", half);
        var clientGcs = GC.CollectionCount(0) - gc0;
        var clientPauseMs = (GC.GetTotalPauseDuration() - gcPause).TotalMilliseconds;
        Console.WriteLine($"  client GCs during the paced run: {clientGcs}, paused {clientPauseMs:F0} ms in all ({ClientGc.Describe()})");
        // The target's own half load: half of 50,000/s.
        var targetHalf = await Latency.PacedAsync(TargetPerSecond / 2, TimeSpan.FromSeconds(2), Measured,
            n => authorizer.AuthorizeAsync(requests[(int)(n & 4095)]));
        Print($"{label}, paced at {TargetPerSecond / 2:N0}/s", targetHalf);
        await host.StopAsync();
        return (max, half, targetHalf, clientGcs, clientPauseMs);
    }

    private static void Check(AuthorizeResultDto r)
    {
        if (string.IsNullOrEmpty(r.Reason)) throw new InvalidOperationException("authorize answered without a reason");
    }

    internal static void Print(string what, Latency.Result r)
        => Console.WriteLine($"  {what,-30} {r.PerSecond,10:N0} /s   p50 {r.P50Ms,7:F3} ms   p99 {r.P99Ms,7:F3} ms   ({r.Count:N0} calls, {r.Errors} errors)");
}
