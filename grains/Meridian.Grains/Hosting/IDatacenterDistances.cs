using System.Collections.Immutable;
using Meridian.Core.Discovery;

namespace Meridian.Grains.Hosting;

/// <summary>
/// The WAN distances of this silo's datacenter to every known datacenter, measured by pings over its links and
/// smoothed (<see cref="RttWindow"/>), ranked by Consul's rule (<see cref="DatacenterRanking"/>): what
/// <c>meridian datacenters</c> shows and prepared-query <c>NearestN</c> uses. A datacenter without a connected link
/// or a measurement is +∞ (null RTT), ranked last.
/// </summary>
public interface IDatacenterDistances
{
    /// <summary>Every known datacenter, this one first (distance zero), nearest first, unmeasured last (alphabetical).</summary>
    ImmutableArray<DatacenterDistance> Ranked();

    /// <summary>Whether a link to <paramref name="datacenter"/> is connected now (this datacenter: always).</summary>
    bool IsReachable(string datacenter);
}

/// <summary>Distances helpers for grains.</summary>
public static class DatacenterDistancesExtensions
{
    /// <summary>Prepared-query <c>NearestN</c> candidates: the ranking without this datacenter, at most <paramref name="n"/>.</summary>
    public static ImmutableArray<string> NearestN(this IDatacenterDistances distances, string localDatacenter, int n)
        => DatacenterRanking.NearestN(distances.Ranked(), localDatacenter, n);
}

/// <summary>The distances of a silo without links (tests, a lone datacenter): only itself, at zero.</summary>
public sealed class LocalOnlyDistances(DatacenterContext datacenter) : IDatacenterDistances
{
    /// <inheritdoc />
    public ImmutableArray<DatacenterDistance> Ranked() => [new(datacenter.Datacenter, TimeSpan.Zero)];

    /// <inheritdoc />
    public bool IsReachable(string name) => name == datacenter.Datacenter;
}

/// <summary>
/// What this datacenter registers about itself in the primary (<c>Meridian:Wan</c>): its gateways as other
/// datacenters reach them, its WAN address and its Orleans ClusterId.
/// </summary>
/// <param name="Gateways">Gateway endpoints, <c>HOST:PORT</c> (<c>Meridian:Wan:Gateways</c>; default the silo's own).</param>
/// <param name="WanAddress">The WAN address (<c>Meridian:Wan:Address</c>), "" when unset.</param>
/// <param name="ClusterId">The Orleans ClusterId of this datacenter.</param>
/// <param name="RegisterInterval">How often a silo registers again (the primary may have been rebuilt).</param>
public sealed record DatacenterAdvertisement(ImmutableArray<string> Gateways, string WanAddress, string ClusterId, TimeSpan RegisterInterval)
{
    /// <summary>No gateways (tests): the datacenter registers its name only.</summary>
    public static DatacenterAdvertisement None { get; } = new([], "", "", TimeSpan.FromSeconds(30));
}
