namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// The metrics on/off comparison of the <c>authorize</c> and <c>leaf-issuance</c> scenarios (issue 15 §3: the rate
/// with metrics on, as a ratio to off in the same run, target &gt;= 0.95). Rounds alternate off and on, each on a silo
/// of its own started with <c>Meridian:Metrics:Enabled</c> set (one process holds one exporter at a time: an exporter
/// listens to every meter of its name in the process); the best of each mode is kept. Environment:
/// <c>MERIDIAN_BENCH_METRICS_ONLY=1</c> runs only this comparison, <c>MERIDIAN_BENCH_SECONDS</c> shortens the
/// measured window and <c>MERIDIAN_BENCH_METRICS_ROUNDS</c> sets the rounds per mode (default 3): a smoke run.
/// </summary>
internal static class MetricsSwitch
{
    /// <summary>The configuration key (<c>Meridian:Metrics:Enabled</c>).</summary>
    public const string Key = "Meridian:Metrics:Enabled";

    /// <summary>True when only the on/off comparison should run.</summary>
    public static bool Only => Environment.GetEnvironmentVariable("MERIDIAN_BENCH_METRICS_ONLY") == "1";

    /// <summary>Rounds per mode.</summary>
    public static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("MERIDIAN_BENCH_METRICS_ROUNDS"), out var n) && n > 0 ? n : 3;

    /// <summary>The measured window: <paramref name="normal"/>, or MERIDIAN_BENCH_SECONDS.</summary>
    public static TimeSpan Measured(TimeSpan normal)
        => int.TryParse(Environment.GetEnvironmentVariable("MERIDIAN_BENCH_SECONDS"), out var s) && s > 0 ? TimeSpan.FromSeconds(s) : normal;

    /// <summary>
    /// Runs <paramref name="measure"/> (metrics on or off → calls per second) alternately, off first, and prints each
    /// round and the ratio line; returns the best of each mode and their ratio.
    /// </summary>
    public static async Task<(double Off, double On, double Ratio)> CompareAsync(string scenario, Func<bool, Task<double>> measure)
    {
        double off = 0, on = 0;
        for (var round = 1; round <= Rounds; round++)
        {
            var o = await measure(false);
            var m = await measure(true);
            Console.WriteLine($"  metrics round {round}: off {o,10:N0} /s   on {m,10:N0} /s   ratio {m / o:F3}   (load {Latency.Load()})");
            (off, on) = (Math.Max(off, o), Math.Max(on, m));
        }
        var ratio = on / off;
        Console.WriteLine($"  {scenario} metrics on / off rate: {ratio:F3}   (best of {Rounds} rounds each: on {on:N0} /s, off {off:N0} /s; target >= 0.95)");
        return (off, on, ratio);
    }
}
