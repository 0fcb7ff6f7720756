using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json;
using Meridian.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// 100,000 intentions over 10,000 destinations in one datacenter (in-process silo, memory storage): load time through
/// IIntentionRegistryGrain.UpsertAsync (concurrent callers; the registry is one non-reentrant activation), process
/// memory after load, then in-silo p99 of MatchAsync by destination and of IAuthorizerGrain.AuthorizeAsync for random
/// destinations, and a breakdown of where an upsert's time goes at full size. Target: match p99 &lt;= 1 ms in-silo.
/// </summary>
internal static class ScaleScenario
{
    private const int Intentions = 100_000;
    private const int Destinations = 10_000;
    private const int LoadConcurrency = 64;
    private const int Samples = 5_000;
    private static readonly TimeSpan LoadBudget = TimeSpan.FromSeconds(60);

    public static async Task RunAsync()
    {
        Console.WriteLine($"scale: {Intentions:N0} intentions over {Destinations:N0} destinations, in-process silo, memory storage, " +
            $"{LoadConcurrency} concurrent upserts (budget {LoadBudget.TotalSeconds} s); load {Latency.Load()}");
        var memBefore = GC.GetTotalMemory(forceFullCollection: true);
        await using var silo = await SiloHarness.StartInProcessAsync();
        var registry = silo.Grains.GetGrain<IIntentionRegistryGrain>("dc1");
        var authorizer = silo.Grains.GetGrain<IAuthorizerGrain>("dc1");
        await authorizer.CheckAsync("a", "b"); // activations before the clock starts

        var sw = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        var loaded = await IntentionLoad.UpsertAsync(registry, Intentions, Destinations, LoadConcurrency, (n, t) =>
        {
            lock (sw)
            {
                Console.WriteLine($"  {n,7:N0} upserted at {t.TotalSeconds,6:F1} s   last 10k at {10_000 / (t - last).TotalSeconds,7:N0} /s");
                last = t;
            }
        }, 10_000, LoadBudget);
        var loadSeconds = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"  loaded {loaded:N0} intentions in {loadSeconds:F1} s ({loaded / loadSeconds:N0} /s)" +
            (loaded < Intentions ? "  ** budget ran out: not all loaded **" : ""));

        var heap = GC.GetTotalMemory(forceFullCollection: true);
        var workingSet = Process.GetCurrentProcess().WorkingSet64;
        Console.WriteLine($"  managed heap after load {heap / 1048576.0:F0} MiB (before silo {memBefore / 1048576.0:F0} MiB), working set {workingSet / 1048576.0:F0} MiB");

        var loadedDestinations = Math.Min(loaded, Destinations);
        var rnd = new Random(7);
        // Sanity: match by destination equals the full list filtered to that destination, in the same order.
        var everything = (await registry.ListAsync()).Intentions;
        for (var i = 0; i < 20; i++)
        {
            var name = $"dst-{rnd.Next(loadedDestinations)}";
            var got = (await registry.MatchAsync("destination", [name])).Matches[0].Intentions;
            var want = everything.Where(x => x.DestinationName == name).ToList();
            if (!got.Select(x => (x.SourceName, x.Action, x.Precedence)).SequenceEqual(want.Select(x => (x.SourceName, x.Action, x.Precedence))))
                throw new InvalidOperationException($"match for {name} differs from the list");
        }
        var match = await SequentialAsync(Samples, async () =>
        {
            var m = await registry.MatchAsync("destination", [$"dst-{rnd.Next(loadedDestinations)}"]);
            if (m.Matches[0].Intentions.IsEmpty) throw new InvalidOperationException("no match");
        });
        Print("match by destination (1 caller)", match);
        var requests = IntentionLoad.Requests(4096, loaded, loadedDestinations);
        var auth = await SequentialAsync(Samples * 4, () => authorizer.AuthorizeAsync(requests[rnd.Next(4096)]));
        Print("authorize (1 caller)", auth);
        var authLoaded = await Latency.ClosedLoopAsync(200, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3),
            (w, n) => authorizer.AuthorizeAsync(requests[(int)((w * 7919 + n) & 4095)]));
        Console.WriteLine($"  authorize (200 outstanding)            {authLoaded.PerSecond,9:N0} /s   p50 {authLoaded.P50Ms:F3} ms   p99 {authLoaded.P99Ms:F3} ms");

        // Where an upsert goes at full size: one more upsert per destination (sequential), the durable write of one
        // entry alone (IIntentionGrain.SetAsync on scratch keys the registry never reads), and the serialization of a
        // registry state the size of this one (Index + the set of destination keys), which every upsert writes whole.
        var upsert = await SequentialAsync(1_000, () => registry.UpsertAsync(new IntentionDto
        {
            SourceName = $"late-{rnd.Next()}", DestinationName = $"dst-{rnd.Next(loadedDestinations)}", Action = "allow",
        }));
        Print("upsert at full size (1 caller)", upsert);
        var entry = new IntentionEntryDto
        {
            Name = "scratch", Namespace = "default", Partition = "default",
            Sources = [.. Enumerable.Range(0, Intentions / Destinations).Select(i => new SourceIntentionDto { Name = $"src-{i}", Action = "allow", Type = "consul", Precedence = 9 })],
        };
        var scratch = 0;
        var set = await SequentialAsync(1_000, () => silo.Grains.GetGrain<IIntentionGrain>($"dc1/bench-scratch/{scratch++}").SetAsync(entry));
        Print("entry grain SetAsync alone", set);
        // The change-feed read that the silo's cache poller makes after every change (reads the change log).
        var lastIndex = (await registry.UpsertAsync(new IntentionDto { SourceName = "last", DestinationName = "dst-0", Action = "allow" })).Index;
        var feed = await SequentialAsync(500, () => registry.WaitForChangesAsync(lastIndex - 1, TimeSpan.Zero));
        Print("change feed read, 1 change", feed);
        var delta = await SequentialAsync(500, async () => await registry.MatchAsync("source", ["nobody"]));
        Print("match by source (full scan, 0 hits)", delta);

        Console.WriteLine($"  (load now {Latency.Load()})");
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "scale",
            intentions = loaded,
            destinations = loadedDestinations,
            load_s = Math.Round(loadSeconds, 1),
            load_per_s = Math.Round(loaded / loadSeconds),
            heap_mib = Math.Round(heap / 1048576.0),
            working_set_mib = Math.Round(workingSet / 1048576.0),
            match_p50_ms = Math.Round(match.P50Ms, 3),
            match_p99_ms = Math.Round(match.P99Ms, 3),
            authorize_p50_ms = Math.Round(auth.P50Ms, 3),
            authorize_p99_ms = Math.Round(auth.P99Ms, 3),
            authorize_per_s_200 = Math.Round(authLoaded.PerSecond),
            upsert_full_p50_ms = Math.Round(upsert.P50Ms, 3),
            entry_write_p50_ms = Math.Round(set.P50Ms, 3),
        }));
    }

    private static async Task<Latency.Result> SequentialAsync(int n, Func<Task> call)
    {
        for (var i = 0; i < Math.Min(200, n / 10); i++) await call(); // warm-up
        var ticks = new long[n];
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await call();
            ticks[i] = Stopwatch.GetTimestamp() - t0;
        }
        var seconds = sw.Elapsed.TotalSeconds;
        Array.Sort(ticks);
        double Pct(double q) => ticks[Math.Min(n - 1, (int)Math.Ceiling(q * n) - 1)] * 1000.0 / Stopwatch.Frequency;
        return new Latency.Result(n / seconds, Pct(0.5), Pct(0.99), n, 0);
    }

    private static void Print(string what, Latency.Result r)
        => Console.WriteLine($"  {what,-38} {r.PerSecond,9:N0} /s   p50 {r.P50Ms:F3} ms   p99 {r.P99Ms:F3} ms");
}
