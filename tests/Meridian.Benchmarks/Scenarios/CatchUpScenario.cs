using System.Diagnostics;
using System.Text.Json;
using Meridian.Grains;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// Catch-up of a secondary that was away: dc1 (primary) in this process takes 10,000 intention writes (10,000
/// destinations) while dc2 does not run; then dc2 (secondary, memory storage, so it starts empty) is started pointed
/// at dc1's gateway and the clock runs until dc2's registry has applied dc1's index (WaitForReplicatedAsync), i.e. a
/// full first sync including the link's connect. Convergence is checked by comparing dc2's list with dc1's.
/// Target: &gt;= 5,000 intentions/s.
/// </summary>
internal static class CatchUpScenario
{
    private const int Intentions = 10_000;
    private const int Destinations = 10_000;
    private const int WriteConcurrency = 32;
    private static readonly TimeSpan ConvergeTimeout = TimeSpan.FromSeconds(120);

    public static async Task RunAsync()
    {
        var json = await MeasureAsync();
        Console.WriteLine(json);
    }

    private static async Task<string> MeasureAsync()
    {
        Console.WriteLine($"catch-up: dc1 (primary) + dc2 (secondary) in this process, memory storage, dc2 started after the writes; " +
            $"{Intentions:N0} intentions over {Destinations:N0} destinations; {Environment.ProcessorCount} cores, load {Latency.Load()}");
        await using var dc1 = await SiloHarness.StartDatacenterAsync("dc1");
        var primary = dc1.Grains.GetGrain<IIntentionRegistryGrain>("dc1");

        // Phase 1: the writes happen before dc2 exists; then dc2 starts and makes its first sync.
        var sw = Stopwatch.StartNew();
        await IntentionLoad.UpsertAsync(primary, Intentions, Destinations, WriteConcurrency);
        Console.WriteLine($"  phase 1: wrote {Intentions:N0} intentions in dc1 in {sw.Elapsed.TotalSeconds:F1} s ({Intentions / sw.Elapsed.TotalSeconds:N0} /s)");
        var index1 = (await primary.ListAsync()).Index;
        sw.Restart();
        await using var dc2 = await SiloHarness.StartDatacenterAsync("dc2", primaryGateway: dc1.Gateway);
        var started = sw.Elapsed;
        var secondary = dc2.Grains.GetGrain<IIntentionRegistryGrain>("dc2");
        var replicator = dc2.Grains.GetGrain<IIntentionReplicatorGrain>("dc2");
        if (!await secondary.WaitForReplicatedAsync(index1, ConvergeTimeout))
            throw new TimeoutException($"dc2's first sync did not reach index {index1}: {(await replicator.GetStatusAsync()).LastErrorMessage}");
        var firstSync = sw.Elapsed;
        await CheckSameAsync(primary, secondary, Intentions);
        Console.WriteLine($"  phase 1: dc2 started in {started.TotalSeconds:F2} s, first sync of {Intentions:N0} intentions done " +
            $"{firstSync.TotalSeconds:F2} s after the start ({Intentions / firstSync.TotalSeconds:N0} /s incl. silo start and link connect)");

        var status = await dc2.Grains.GetGrain<IIntentionReplicatorGrain>("dc2").GetStatusAsync();
        var afterStart = firstSync - started;
        var rate = Intentions / afterStart.TotalSeconds;
        Console.WriteLine($"  replicator: index {status.ReplicatedIndex}, last round applied {status.LastRoundChanges:N0} entries, last error \"{Short(status.LastErrorMessage)}\"");
        Console.WriteLine($"  catch-up (dc2 silo started -> converged): {afterStart.TotalSeconds:F2} s = {rate:N0} intentions/s   (load now {Latency.Load()})");
        return JsonSerializer.Serialize(new
        {
            scenario = "catch-up",
            intentions = Intentions,
            seconds = Math.Round(afterStart.TotalSeconds, 3),
            per_s = Math.Round(rate),
            measured = "dc2 started after the 10,000 writes: full first sync, from dc2's StartAsync returning to dc2 at dc1's index (includes link connect)",
            including_silo_start_seconds = Math.Round(firstSync.TotalSeconds, 3),
        });
    }

    private static async Task CheckSameAsync(IIntentionRegistryGrain primary, IIntentionRegistryGrain secondary, int expected)
    {
        var a = (await primary.ListAsync()).Intentions;
        var b = (await secondary.ListAsync()).Intentions;
        static string Key(IntentionDto x) => $"{x.SourceName}>{x.DestinationName}:{x.Action}";
        if (a.Length != expected || b.Length != expected || !a.Select(Key).Order().SequenceEqual(b.Select(Key).Order()))
            throw new InvalidOperationException($"dc2 differs from dc1: dc1 has {a.Length}, dc2 has {b.Length}, expected {expected}");
    }

    private static string Short(string s) => s.Length <= 100 ? s : s[..100] + "…";
}
