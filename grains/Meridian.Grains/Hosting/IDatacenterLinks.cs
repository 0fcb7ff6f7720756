namespace Meridian.Grains.Hosting;

/// <summary>
/// How a silo reaches any datacenter by name: its own cluster for its own datacenter, a link (an Orleans client of
/// that datacenter's gateways, connected in the background) for another. Catalog <c>--dc</c> forwarding, prepared
/// query failover and the RTT ranking go through it. Grain references obtained for another datacenter belong to that
/// cluster; never pass one to a local grain.
/// </summary>
public interface IDatacenterLinks
{
    /// <summary>
    /// The grain factory of <paramref name="datacenter"/>. Throws <see cref="UnknownDatacenterException"/> for a
    /// datacenter this silo does not know ("No path to datacenter", as Consul), and
    /// <see cref="DatacenterUnreachableException"/> when it is known but not connected within <paramref name="wait"/>.
    /// </summary>
    Task<IGrainFactory> GetAsync(string datacenter, TimeSpan wait, CancellationToken cancellationToken = default);
}

/// <summary>
/// The links of a silo that knows only its own datacenter and its primary (before the datacenter registry):
/// the local cluster for itself, the primary link for the primary, nothing else.
/// </summary>
public sealed class PrimaryOnlyLinks(DatacenterContext datacenter, IPrimaryDatacenterLink primary, IGrainFactory local) : IDatacenterLinks
{
    /// <inheritdoc />
    public Task<IGrainFactory> GetAsync(string name, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        if (name == datacenter.Datacenter) return Task.FromResult(local);
        if (name == datacenter.PrimaryDatacenter) return primary.GetPrimaryAsync(wait, cancellationToken);
        throw new UnknownDatacenterException(name);
    }
}
