namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// dc1 (primary, one silo), dc2 (secondary, two silos: caches and signers also run in a silo without the registry
/// and CA) and dc3 (secondary, one silo), each its own cluster; the secondaries' links use dc1's client. Shared by the
/// <see cref="FederationCollection"/>; tests restore the links they cut and use fresh service names.
/// </summary>
public sealed class TwoDatacenterFixture : IAsyncLifetime
{
    private DatacenterCluster? _dc1, _dc2, _dc3;

    public DatacenterCluster Dc1 => _dc1 ?? throw new InvalidOperationException("not started");
    public DatacenterCluster Dc2 => _dc2 ?? throw new InvalidOperationException("not started");
    public DatacenterCluster Dc3 => _dc3 ?? throw new InvalidOperationException("not started");
    public IEnumerable<DatacenterCluster> Secondaries => [Dc2, Dc3];

    public async Task InitializeAsync()
    {
        _dc1 = await DatacenterCluster.StartAsync("dc1", "dc1");
        await _dc1.Ca.InitializeAsync();
        var started = await Task.WhenAll(
            DatacenterCluster.StartSecondaryAsync("dc2", _dc1, silos: 2),
            DatacenterCluster.StartSecondaryAsync("dc3", _dc1));
        (_dc2, _dc3) = (started[0], started[1]);
    }

    public async Task DisposeAsync()
    {
        foreach (var dc in new[] { _dc3, _dc2, _dc1 })
            if (dc is not null) await dc.DisposeAsync();
    }

    /// <summary>dc1's roots, once every secondary's CA and signers follow its active root.</summary>
    public async Task<CaRootListDto> FollowedRootsAsync()
    {
        var roots = await Dc1.Ca.GetRootsAsync();
        foreach (var dc in Secondaries) await dc.WaitForSignersOnRootAsync(roots.ActiveRootID);
        await Dc1.WaitForSignersOnRootAsync(roots.ActiveRootID);
        return roots;
    }
}

[CollectionDefinition(Name)]
public sealed class FederationCollection : ICollectionFixture<TwoDatacenterFixture>
{
    public const string Name = "Federation";
}
