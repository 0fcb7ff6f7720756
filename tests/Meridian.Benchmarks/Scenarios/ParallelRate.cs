using System.Diagnostics;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>Runs an operation on N dedicated threads: warm-up, then a measured window; returns operations per second.</summary>
internal static class ParallelRate
{
    public static double Measure(int threads, TimeSpan warmup, TimeSpan measure, Func<int, Action> perThread)
    {
        var counts = new long[threads * 16]; // one cache line apart
        var phase = 0; // 0 warm-up, 1 measuring, 2 stop
        var ready = new CountdownEvent(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var op = perThread(t);
            ready.Signal();
            long n = 0;
            while (Volatile.Read(ref phase) == 0) op();
            while (Volatile.Read(ref phase) == 1) { op(); n++; }
            counts[t * 16] = n;
        }) { IsBackground = true, Name = $"bench-{t}" }).ToList();
        workers.ForEach(w => w.Start());
        ready.Wait();
        Pause(warmup);
        var sw = Stopwatch.StartNew();
        Volatile.Write(ref phase, 1);
        Pause(measure);
        Volatile.Write(ref phase, 2);
        sw.Stop();
        workers.ForEach(w => w.Join());
        return counts.Sum() / sw.Elapsed.TotalSeconds;
    }

    // The measuring thread blocks on purpose (the workers own the cores); a wait handle rather than a sleep call.
    private static void Pause(TimeSpan duration)
    {
        using var never = new ManualResetEventSlim();
        never.Wait(duration);
    }
}
