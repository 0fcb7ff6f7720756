using System.Collections.Immutable;

namespace Meridian.Core.Discovery;

/// <summary>One datacenter and its distance from the datacenter that ranked it; <see cref="Rtt"/> null = unknown (+∞).</summary>
/// <param name="Datacenter">The datacenter's name.</param>
/// <param name="Rtt">The median round-trip time (zero for the local datacenter), or null when nothing was measured.</param>
public readonly record struct DatacenterDistance(string Datacenter, TimeSpan? Rtt)
{
    /// <summary>Whether a distance is known (false sorts last, as Consul's +∞).</summary>
    public bool IsMeasured => Rtt is not null;
}

/// <summary>
/// Consul's datacenter ranking (agent/router/router.go <c>GetDatacentersByDistance</c>, used for
/// <c>/v1/catalog/datacenters</c> and prepared-query <c>NearestN</c>,
/// https://developer.hashicorp.com/consul/api-docs/query#nearestn): per datacenter the median of the distances
/// measured from this datacenter to its servers, the local datacenter counting as 0 and one with no measurement as
/// +∞; names sorted alphabetically first, then stable-sorted by that median, so ties (and every +∞) stay alphabetical.
/// Meridian measures round-trip times on its links directly instead of Vivaldi coordinates; the rule is the same.
/// </summary>
public static class DatacenterRanking
{
    /// <summary>
    /// Ranks every datacenter in <paramref name="measured"/> plus <paramref name="localDatacenter"/> (always first,
    /// distance zero). Each value lists the distances measured to that datacenter's servers (one per link here);
    /// an empty list is +∞.
    /// </summary>
    public static ImmutableArray<DatacenterDistance> Rank(string localDatacenter, IReadOnlyDictionary<string, IReadOnlyList<TimeSpan>> measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var names = new SortedSet<string>(measured.Keys, StringComparer.Ordinal) { localDatacenter };
        var ranked = new List<DatacenterDistance>(names.Count);
        foreach (var name in names)
            ranked.Add(new(name, name == localDatacenter ? TimeSpan.Zero
                : measured.TryGetValue(name, out var rtts) ? Median(rtts) : null));
        // List.Sort is not stable: order by (median, alphabetical position) to get Consul's stable sort.
        return [.. ranked.Select((d, i) => (d, i))
            .OrderBy(x => x.d.Rtt ?? TimeSpan.MaxValue).ThenBy(x => x.i).Select(x => x.d)];
    }

    /// <summary>
    /// The median as Consul takes it: sort, then the element at <c>len/2</c> (the upper middle for an even count);
    /// null for no measurement.
    /// </summary>
    public static TimeSpan? Median(IReadOnlyList<TimeSpan> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>
    /// The candidates of a prepared query's <c>NearestN</c> failover: the ranking without the local datacenter, nearest
    /// first, at most <paramref name="n"/> (none for <paramref name="n"/> ≤ 0). Datacenters without a measurement stay
    /// in, last, as in Consul (they are known, only not measured); the caller skips those it cannot reach.
    /// </summary>
    public static ImmutableArray<string> NearestN(IReadOnlyList<DatacenterDistance> ranked, string localDatacenter, int n)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        if (n <= 0) return [];
        return [.. ranked.Where(d => d.Datacenter != localDatacenter).Take(n).Select(d => d.Datacenter)];
    }
}

/// <summary>
/// Smoothing of one link's ping samples: the median of the last <see cref="Size"/> samples, as Consul's
/// <c>LatencyFilterSize</c> of 3 (hashicorp/serf coordinate/config.go) filters raw RTTs before they move a coordinate.
/// A median rather than an EWMA: one outlier (a GC pause, a retransmitted segment) never shows, while a real change
/// shows after two samples instead of decaying in over many. Immutable: <see cref="Add"/> returns the next window.
/// </summary>
public sealed record RttWindow
{
    /// <summary>Consul's LatencyFilterSize.</summary>
    public const int Size = 3;

    private readonly ImmutableArray<TimeSpan> _samples;

    private RttWindow(ImmutableArray<TimeSpan> samples) => _samples = samples;

    /// <summary>No samples yet: <see cref="Smoothed"/> is null.</summary>
    public static RttWindow Empty { get; } = new(ImmutableArray<TimeSpan>.Empty);

    /// <summary>The samples held, oldest first (at most <see cref="Size"/>).</summary>
    public ImmutableArray<TimeSpan> Samples => _samples;

    /// <summary>The window with <paramref name="sample"/> added (the oldest dropped when full). Negative samples count as zero.</summary>
    public RttWindow Add(TimeSpan sample)
    {
        if (sample < TimeSpan.Zero) sample = TimeSpan.Zero;
        var next = _samples.Length < Size ? _samples.Add(sample) : _samples.RemoveAt(0).Add(sample);
        return new(next);
    }

    /// <summary>The median of the samples held, or null when there are none.</summary>
    public TimeSpan? Smoothed => DatacenterRanking.Median(_samples);
}
