using System.Diagnostics;
using Meridian.Grains;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>Synthetic intentions: intention i goes from <c>src-(i / destinations)</c> to <c>dst-(i % destinations)</c>.</summary>
internal static class IntentionLoad
{
    public static IntentionDto Intention(int i, int destinations) => new()
    {
        SourceName = $"src-{i / destinations}",
        DestinationName = $"dst-{i % destinations}",
        Action = i % 7 == 0 ? "deny" : "allow",
    };

    /// <summary>Upserts <paramref name="count"/> intentions with <paramref name="concurrency"/> outstanding calls.</summary>
    /// <returns>How many were upserted (fewer than asked when <paramref name="budget"/> ran out).</returns>
    public static async Task<int> UpsertAsync(IIntentionRegistryGrain registry, int count, int destinations, int concurrency,
        Action<int, TimeSpan>? progress = null, int progressEvery = int.MaxValue, TimeSpan? budget = null)
    {
        var next = -1;
        var doneCount = 0;
        var sw = Stopwatch.StartNew();
        var limit = budget ?? TimeSpan.MaxValue;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while (sw.Elapsed < limit && (i = Interlocked.Increment(ref next)) < count)
            {
                await registry.UpsertAsync(Intention(i, destinations));
                var d = Interlocked.Increment(ref doneCount);
                if (d % progressEvery == 0) progress?.Invoke(d, sw.Elapsed);
            }
        })));
        return doneCount;
    }

    /// <summary>Pre-built authorize requests over random destinations and sources (some with no intention: default allow).</summary>
    public static AuthorizeRequestDto[] Requests(int n, int count, int destinations, int seed = 42)
    {
        var rnd = new Random(seed);
        var sources = Math.Max(1, count / destinations);
        return [.. Enumerable.Range(0, n).Select(_ => new AuthorizeRequestDto
        {
            Target = $"dst-{rnd.Next(destinations)}",
            ClientCertURI = $"spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/src-{rnd.Next(sources + 1)}",
        })];
    }
}
