using System.Collections.Concurrent;
using Orleans.Concurrency;

namespace Meridian.Grains.Certificates;

/// <summary>
/// Which root each service certificate of the datacenter chains to (key: datacenter), for rotation progress. Kept in
/// memory: certificates are re-issued after a restart anyway, and report again when they are.
/// </summary>
public sealed class CertificateInventoryGrain : Grain, ICertificateInventoryGrain
{
    private readonly Dictionary<string, string> _rootByService = [];

    /// <inheritdoc />
    public Task RecordAsync(string service, string rootId)
    {
        _rootByService[service] = rootId;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<RotationProgressDto> GetProgressAsync(CancellationToken cancellationToken = default)
    {
        var ca = await GrainFactory.GetGrain<ICertificateAuthorityGrain>(this.GetPrimaryKeyString()).GetStatusAsync(cancellationToken);
        return new RotationProgressDto
        {
            Datacenter = this.GetPrimaryKeyString(),
            ActiveRootID = ca.ActiveRootID,
            OnActiveRoot = _rootByService.Values.Count(r => r == ca.ActiveRootID),
            Total = _rootByService.Count,
        };
    }
}

/// <summary>
/// The service-certificate activations living in this silo, so a root change can ask each of them to re-issue
/// (spread over the jitter window) without any cluster-wide scan.
/// </summary>
public sealed class CertificateActivations
{
    private readonly ConcurrentDictionary<string, byte> _keys = new();

    /// <summary>Registers an activation.</summary>
    public void Add(string key) => _keys.TryAdd(key, 0);

    /// <summary>Unregisters an activation.</summary>
    public void Remove(string key) => _keys.TryRemove(key, out _);

    /// <summary>The keys of the activations now in this silo.</summary>
    public IReadOnlyList<string> Snapshot() => [.. _keys.Keys];
}
