using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Meridian.Client;
using Meridian.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// What ACLs cost (issue 13): the external <c>authorize</c> closed loop of <see cref="AuthorizeScenario"/> against a
/// silo with ACLs off, then against one with ACLs on (default deny) called with a service token that allows it; the
/// rate with ACLs on is printed as a ratio to the rate without (target &gt;= 0.9). Then token resolution as a caller
/// sees it: the first call made with each of many new tokens (cold: the silo's token cache misses and asks the ACL
/// store) against the second call with the same token (warm: cached), p50 and p99.
/// </summary>
internal static class AclScenario
{
    private const int Intentions = AuthorizeScenario.Intentions;
    private const int Destinations = AuthorizeScenario.Destinations;
    private const int Concurrency = AuthorizeScenario.Concurrency;
    private const int ColdTokens = 300;
    private static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Measured = TimeSpan.FromSeconds(8);

    public static async Task RunAsync()
    {
        var requests = IntentionLoad.Requests(4096, Intentions, Destinations);
        Console.WriteLine($"acl: authorize with ACLs off and on ({Intentions:N0} intentions over {Destinations} destinations, " +
            $"{Concurrency} outstanding calls, warm-up {Warmup.TotalSeconds} s, measured {Measured.TotalSeconds} s); token resolution " +
            $"cold and warm over {ColdTokens} tokens; {Environment.ProcessorCount} cores, load {Latency.Load()}");

        var off = await ExternalAsync(requests, acl: false);
        var on = await ExternalAsync(requests, acl: true);
        var ratio = on.Rate.PerSecond / off.Rate.PerSecond;
        Console.WriteLine($"  ACLs on / off rate: {ratio:F3}   (target >= 0.9)");
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "acl",
            acl_off_per_s = Math.Round(off.Rate.PerSecond),
            acl_off_p99_ms = Math.Round(off.Rate.P99Ms, 3),
            acl_on_per_s = Math.Round(on.Rate.PerSecond),
            acl_on_p99_ms = Math.Round(on.Rate.P99Ms, 3),
            acl_on_to_off = Math.Round(ratio, 3),
            resolve_cold_p50_ms = Math.Round(on.Cold.P50, 3),
            resolve_cold_p99_ms = Math.Round(on.Cold.P99, 3),
            resolve_warm_p50_ms = Math.Round(on.Warm.P50, 3),
            resolve_warm_p99_ms = Math.Round(on.Warm.P99, 3),
        }));
    }

    private sealed record Run(Latency.Result Rate, (double P50, double P99) Cold, (double P50, double P99) Warm);

    private static async Task<Run> ExternalAsync(AuthorizeRequestDto[] requests, bool acl)
    {
        var label = acl ? "ACLs on" : "ACLs off";
        var dir = Directory.CreateTempSubdirectory("meridian-bench-acl-");
        try
        {
            var keyFile = Path.Combine(dir.FullName, "acl-hash.key");
            File.WriteAllText(keyFile, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var environment = acl
                ? new Dictionary<string, string?>
                {
                    ["Meridian__Acl__Enabled"] = "true",
                    ["Meridian__Acl__DefaultPolicy"] = "deny",
                    ["Meridian__Acl__SecretHashKeyFile"] = keyFile,
                    ["Meridian__Acl__BootstrapResetFile"] = Path.Combine(dir.FullName, "acl-bootstrap-reset"),
                }
                : null;
            await using var silo = await SiloHarness.StartExternalAsync(environment);
            Console.WriteLine($"  {label}: silo pid {silo.ProcessId}, gateway 127.0.0.1:{silo.GatewayPort}");
            using var host = await SiloHarness.StartClientAsync(silo.GatewayPort);
            var client = host.Services.GetRequiredService<IClusterClient>();
            var store = client.GetGrain<IAclStoreGrain>("dc1");

            // Set-up with the management token; the measured calls with a service token that may authorize anything.
            string? service = null, management = null;
            if (acl)
            {
                management = (await store.BootstrapAsync()).SecretID;
                using (CallerToken.Use(management))
                {
                    await store.SetPolicyAsync(new AclPolicyDto { Name = "bench-services", Rules = "service_prefix \"\" { policy = \"write\" }" });
                    service = (await store.CreateTokenAsync(new AclTokenDto { Policies = [AclLinkDto.ByName("bench-services")] })).SecretID;
                    await IntentionLoad.UpsertAsync(client.GetGrain<IIntentionRegistryGrain>("dc1"), Intentions, Destinations, 16);
                }
            }
            else
            {
                await IntentionLoad.UpsertAsync(client.GetGrain<IIntentionRegistryGrain>("dc1"), Intentions, Destinations, 16);
            }

            var authorizer = client.GetGrain<IAuthorizerGrain>("dc1");
            Latency.Result rate;
            using (CallerToken.Use(service))
            {
                await authorizer.AuthorizeAsync(requests[0]);
                rate = await Latency.ClosedLoopAsync(Concurrency, Warmup, Measured,
                    (w, n) => authorizer.AuthorizeAsync(requests[(int)((w * 7919 + n) & 4095)]));
            }
            AuthorizeScenario.Print($"{label}, max rate", rate);
            if (!acl) return new Run(rate, (0, 0), (0, 0));

            // Cold and warm resolution: ColdTokens new tokens, each used twice in a row.
            var tokens = new List<string>(ColdTokens);
            using (CallerToken.Use(management))
            {
                for (var i = 0; i < ColdTokens; i++)
                    tokens.Add((await store.CreateTokenAsync(new AclTokenDto { Policies = [AclLinkDto.ByName("bench-services")] })).SecretID);
            }
            var (cold, warm) = (new List<double>(ColdTokens), new List<double>(ColdTokens));
            foreach (var token in tokens)
            {
                using var _ = CallerToken.Use(token);
                cold.Add(await TimeAsync(() => authorizer.AuthorizeAsync(requests[0])));
                warm.Add(await TimeAsync(() => authorizer.AuthorizeAsync(requests[1])));
            }
            var (c, h) = (Percentiles(cold), Percentiles(warm));
            Console.WriteLine($"  token resolution (authorize round trip), cold: p50 {c.P50:F3} ms p99 {c.P99:F3} ms; warm: p50 {h.P50:F3} ms p99 {h.P99:F3} ms");
            await host.StopAsync();
            return new Run(rate, c, h);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<double> TimeAsync(Func<Task> call)
    {
        var start = Stopwatch.GetTimestamp();
        await call();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static (double P50, double P99) Percentiles(List<double> samples)
    {
        samples.Sort();
        return (samples[(int)(samples.Count * 0.50)], samples[Math.Min(samples.Count - 1, (int)(samples.Count * 0.99))]);
    }
}
