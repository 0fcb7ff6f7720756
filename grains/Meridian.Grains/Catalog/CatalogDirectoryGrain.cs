using System.Collections.Immutable;
using Meridian.Core.Discovery;

namespace Meridian.Grains.Catalog;

/// <summary>Persisted service list of a datacenter's catalog directory. Type name is part of the stored format: never rename.</summary>
[GenerateSerializer, Alias("meridian.catalog.DirectoryState")]
public sealed class CatalogDirectoryState
{
    /// <summary>Service name to the union of its instances' tags.</summary>
    [Id(0)] public Dictionary<string, ImmutableArray<string>> Services { get; set; } = [];
}

/// <summary>
/// The directory of a datacenter's catalog (key: datacenter name): service names with tags (one small stored state,
/// written only when a service appears, disappears or its tag union changes) and the nodes (in memory, stored in
/// <see cref="CatalogBuckets.Count"/> node buckets, so a node write persists one bucket).
/// </summary>
public sealed class CatalogDirectoryGrain(
    [PersistentState("directory", MeridianStorage.Name)] IPersistentState<CatalogDirectoryState> state,
    DatacenterContext datacenter, TimeProvider clock) : Grain, ICatalogDirectoryGrain
{
    private readonly Dictionary<string, CatalogInstanceDto> _nodes = [];
    private ulong _index;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var buckets = await Task.WhenAll(Enumerable.Range(0, CatalogBuckets.Count)
            .Select(b => GrainFactory.GetGrain<ICatalogBucketGrain>(CatalogKeys.NodeBucket(datacenter.Datacenter, b)).ListAsync()));
        foreach (var (key, entry) in buckets.SelectMany(b => b)) _nodes[key] = entry;
        _index = CatalogIndex.Next(0, clock.GetUtcNow());
    }

    /// <inheritdoc />
    public async Task SetServiceAsync(string service, ImmutableArray<string> tags, bool present)
    {
        if (present) state.State.Services[service] = tags.IsDefault ? [] : tags;
        else if (!state.State.Services.Remove(service)) return;
        await state.WriteStateAsync();
        _index = CatalogIndex.Next(_index, clock.GetUtcNow());
    }

    /// <inheritdoc />
    public async Task SetNodeAsync(string node, CatalogInstanceDto? entry)
    {
        if (entry is null && !_nodes.ContainsKey(node)) return;
        await GrainFactory.GetGrain<ICatalogBucketGrain>(CatalogKeys.NodeBucket(datacenter.Datacenter, CatalogBuckets.Of(node)))
            .SetAsync(node, entry);
        if (entry is null) _nodes.Remove(node);
        else _nodes[node] = entry;
        _index = CatalogIndex.Next(_index, clock.GetUtcNow());
    }

    /// <inheritdoc />
    public Task<CatalogServicesDto> GetServicesAsync() => Task.FromResult(new CatalogServicesDto
    {
        Index = _index, Datacenter = datacenter.Datacenter,
        Services = state.State.Services.ToImmutableSortedDictionary(StringComparer.Ordinal),
    });

    /// <inheritdoc />
    public Task<CatalogNodesDto> GetNodesAsync() => Task.FromResult(new CatalogNodesDto
    {
        Index = _index, Datacenter = datacenter.Datacenter,
        Nodes = [.. _nodes.Values.Select(n => n.Node).OrderBy(n => n.Node, StringComparer.Ordinal)],
    });

    /// <inheritdoc />
    public Task<ImmutableArray<HealthCheckDto>> FindChecksAsync(string checkId)
    {
        var now = clock.GetUtcNow();
        return Task.FromResult(_nodes.Values.SelectMany(n => n.NodeChecks.Concat(n.Checks))
            .Where(c => c.Check.CheckID == checkId).Select(c => CatalogMapping.AsOf(c, now))
            .OrderBy(c => c.Node, StringComparer.Ordinal).ToImmutableArray());
    }
}
