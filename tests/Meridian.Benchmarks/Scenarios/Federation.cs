using System.Diagnostics;
using Meridian.Grains;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>Helpers shared by the federation scenarios (primary dc1 + secondary dc2 in this process).</summary>
internal static class Federation
{
    public const string TrustDomainStub = "11111111-2222-3333-4444-555555555555.consul";

    /// <summary>A SPIFFE URI of a dc1 source service (authorize matches on the service name).</summary>
    public static string SourceUri(string service) => $"spiffe://{TrustDomainStub}/ns/default/dc/dc1/svc/{service}";

    /// <summary>Waits until dc2 has applied dc1's current index (replication is connected and caught up).</summary>
    public static async Task WaitCaughtUpAsync(InProcessSilo primary, InProcessSilo secondary, TimeSpan timeout)
    {
        var index = (await primary.Grains.GetGrain<IIntentionRegistryGrain>(primary.Datacenter).ListAsync()).Index;
        if (!await secondary.Grains.GetGrain<IIntentionRegistryGrain>(secondary.Datacenter).WaitForReplicatedAsync(index, timeout))
        {
            var status = await secondary.Grains.GetGrain<IIntentionReplicatorGrain>(secondary.Datacenter).GetStatusAsync();
            throw new TimeoutException($"{secondary.Datacenter} did not reach primary index {index} within {timeout.TotalSeconds} s: " +
                $"replicated {status.ReplicatedIndex}, last error \"{status.LastErrorMessage}\"");
        }
    }

    /// <summary>Retries <paramref name="call"/> until it succeeds (e.g. a secondary's CA before its first intermediate).</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try { return await call(); }
            catch (Exception e) when (sw.Elapsed < timeout)
            {
                _ = e;
                await Task.Delay(200);
            }
            catch (Exception e)
            {
                throw new TimeoutException($"{what} still failing after {timeout.TotalSeconds} s: {e.Message}", e);
            }
        }
    }

    public static double Percentile(IReadOnlyList<double> sorted, double q)
        => sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1))];
}
