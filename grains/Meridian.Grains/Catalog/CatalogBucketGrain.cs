using System.Collections.Immutable;

namespace Meridian.Grains.Catalog;

/// <summary>Persisted state of one catalog bucket. Type name is part of the stored format: never rename.</summary>
[GenerateSerializer, Alias("meridian.catalog.BucketState")]
public sealed class CatalogBucketState
{
    [Id(0)] public Dictionary<string, CatalogInstanceDto> Entries { get; set; } = [];
}

/// <summary>
/// One stored bucket of a service's instances or of the node directory (see <see cref="ICatalogBucketGrain"/>): a
/// write rewrites this bucket only (about 1/<see cref="Meridian.Core.Discovery.CatalogBuckets.Count"/> of its owner).
/// </summary>
public sealed class CatalogBucketGrain(
    [PersistentState("bucket", MeridianStorage.Name)] IPersistentState<CatalogBucketState> state) : Grain, ICatalogBucketGrain
{
    /// <inheritdoc />
    public Task<ImmutableDictionary<string, CatalogInstanceDto>> ListAsync() => Task.FromResult(state.State.Entries.ToImmutableDictionary());

    /// <inheritdoc />
    public async Task SetAsync(string key, CatalogInstanceDto? entry)
    {
        if (entry is null)
        {
            if (!state.State.Entries.Remove(key)) return;
        }
        else state.State.Entries[key] = entry;
        await state.WriteStateAsync();
    }
}
