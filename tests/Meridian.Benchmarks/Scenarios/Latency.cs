using System.Diagnostics;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>Load generators over an async call: closed loop (N outstanding) and open loop (paced), with latencies.</summary>
internal static class Latency
{
    public sealed record Result(double PerSecond, double P50Ms, double P99Ms, long Count, long Errors);

    /// <summary>Closed loop: <paramref name="concurrency"/> callers each awaiting one call at a time.</summary>
    public static async Task<Result> ClosedLoopAsync(int concurrency, TimeSpan warmup, TimeSpan measure, Func<int, long, Task> call)
    {
        var phase = 0; // 0 warm-up, 1 measuring, 2 stop
        var samples = new List<long>[concurrency];
        long errors = 0;
        var start = 0L;
        var end = 0L;
        var loops = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = samples[w] = new List<long>(1 << 16);
            for (long n = 0; ; n++)
            {
                var p = Volatile.Read(ref phase);
                if (p == 2) break;
                var t0 = Stopwatch.GetTimestamp();
                try { await call(w, n); }
                catch { if (p == 1) Interlocked.Increment(ref errors); continue; }
                if (p == 1 && Volatile.Read(ref phase) == 1) mine.Add(Stopwatch.GetTimestamp() - t0);
            }
        })).ToList();
        await Task.Delay(warmup);
        start = Stopwatch.GetTimestamp();
        Volatile.Write(ref phase, 1);
        await Task.Delay(measure);
        Volatile.Write(ref phase, 2);
        end = Stopwatch.GetTimestamp();
        await Task.WhenAll(loops);
        var all = samples.SelectMany(s => s).ToArray();
        var seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        return Summarise(all, seconds, errors);
    }

    /// <summary>Open loop: issues calls at <paramref name="rate"/>/s from one pacing thread, never waiting for answers.</summary>
    public static async Task<Result> PacedAsync(double rate, TimeSpan warmup, TimeSpan measure, Func<long, Task> call)
    {
        var total = warmup + measure;
        var maxCalls = (long)(rate * total.TotalSeconds) + 1024;
        var latencies = new long[maxCalls];
        var done = new long[maxCalls];
        long errors = 0;
        // Outstanding calls are counted, not kept: a list of every task would keep them all alive, and the client's
        // GC would then copy every call's state on each collection (20-50 ms stalls that are the benchmark's, not ours).
        long outstanding = 1;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var origin = Stopwatch.GetTimestamp();
        var warmTicks = (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        long issued = 0;
        var pacer = new Thread(() =>
        {
            using var tick = new ManualResetEventSlim(); // never set: a 1 ms pacing wait
            while (true)
            {
                var elapsed = Stopwatch.GetElapsedTime(origin);
                if (elapsed >= total) break;
                var due = Math.Min((long)(elapsed.TotalSeconds * rate), maxCalls);
                for (; issued < due; issued++)
                {
                    var i = issued;
                    var t0 = Stopwatch.GetTimestamp();
                    Interlocked.Increment(ref outstanding);
                    call(i).ContinueWith(t =>
                    {
                        if (t.IsCompletedSuccessfully) { latencies[i] = Stopwatch.GetTimestamp() - t0; done[i] = t0; }
                        else Interlocked.Increment(ref errors);
                        if (Interlocked.Decrement(ref outstanding) == 0) drained.TrySetResult();
                    }, TaskContinuationOptions.ExecuteSynchronously);
                }
                tick.Wait(1);
            }
        }) { IsBackground = true, Name = "pacer" };
        pacer.Start();
        pacer.Join();
        if (Interlocked.Decrement(ref outstanding) == 0) drained.TrySetResult();
        await drained.Task;
        // Diagnostics: MERIDIAN_BENCH_DUMP=FILE writes one line per call of the last paced run: when it was issued (ms
        // from the start), its latency (ms) and how late the pacer issued it (ms). Calls that are slow exactly when the
        // pacer is late point at a stall of the calling process (GC), not of the service.
        if (Environment.GetEnvironmentVariable("MERIDIAN_BENCH_DUMP") is { Length: > 0 } dump)
            File.WriteAllLines(dump, Enumerable.Range(0, (int)issued).Select(i => $"{(done[i] - origin) * 1000.0 / Stopwatch.Frequency:F3} {latencies[i] * 1000.0 / Stopwatch.Frequency:F3} {((done[i] - origin) * 1.0 / Stopwatch.Frequency - i / rate) * 1000:F3}"));
        var measured = Enumerable.Range(0, (int)issued).Where(i => done[i] - origin >= warmTicks).Select(i => latencies[i]).ToArray();
        return Summarise(measured, measure.TotalSeconds, errors);
    }

    private static Result Summarise(long[] ticks, double seconds, long errors)
    {
        Array.Sort(ticks);
        double Pct(double q) => ticks.Length == 0 ? double.NaN
            : ticks[Math.Min(ticks.Length - 1, (int)Math.Ceiling(q * ticks.Length) - 1)] * 1000.0 / Stopwatch.Frequency;
        return new Result(ticks.Length / seconds, Pct(0.50), Pct(0.99), ticks.Length, errors);
    }

    public static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
