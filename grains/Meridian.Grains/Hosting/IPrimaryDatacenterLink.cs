namespace Meridian.Grains.Hosting;

/// <summary>
/// The only way a secondary reaches the primary's cluster: an Orleans client of the primary, connected in the
/// background (a secondary starts and serves from local state while the primary is down). Grain references obtained
/// here belong to the primary's cluster; never pass one to a local grain (the local cluster would activate its own
/// copy of that grain).
/// </summary>
public interface IPrimaryDatacenterLink
{
    /// <summary>The primary's grain factory; waits up to <paramref name="wait"/> for the connection, then throws <see cref="DatacenterUnreachableException"/>.</summary>
    Task<IGrainFactory> GetPrimaryAsync(TimeSpan wait, CancellationToken cancellationToken = default);

    /// <summary>True while connected.</summary>
    bool IsConnected { get; }

    /// <summary>Cancelled when the current connection to the primary is lost; pass it to long-polls on the primary.</summary>
    CancellationToken ConnectionLost { get; }

    /// <summary>Completes when the link is connected (at once when it is now), so a retry can start on reconnection.</summary>
    Task Connected { get; }
}

/// <summary>The link of a primary datacenter: there is nothing to reach.</summary>
public sealed class NoPrimaryLink(DatacenterContext datacenter) : IPrimaryDatacenterLink
{
    /// <inheritdoc />
    public bool IsConnected => false;

    /// <inheritdoc />
    public CancellationToken ConnectionLost => CancellationToken.None;

    /// <inheritdoc />
    public Task Connected { get; } = new TaskCompletionSource().Task; // never: there is no primary to connect to

    /// <inheritdoc />
    public Task<IGrainFactory> GetPrimaryAsync(TimeSpan wait, CancellationToken cancellationToken = default)
        => throw new DatacenterUnreachableException(datacenter.PrimaryDatacenter,
            $"no route to the primary datacenter {datacenter.PrimaryDatacenter}: set Meridian:Primary:Gateways in {datacenter.Datacenter}");
}
