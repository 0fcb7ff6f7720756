namespace Meridian.Grains.Intentions;

/// <summary>Persisted state of one catalog bucket. Type name is part of the stored format: never rename.</summary>
[GenerateSerializer, Alias("meridian.intentions.IntentionCatalogState")]
public sealed class IntentionCatalogState
{
    [Id(0)] public HashSet<string> Destinations { get; set; } = [];
}

/// <summary>
/// One bucket of a datacenter's list of destinations that have intentions (key: <c>dc/NN</c>). The registry needs the
/// list to load the entries after a restart; splitting it into <see cref="BucketCount"/> buckets keeps each write small
/// (a new destination rewrites one bucket of ~1/64 of the list, not the whole list).
/// </summary>
public sealed class IntentionCatalogGrain(
    [PersistentState("catalog", MeridianStorage.Name)] IPersistentState<IntentionCatalogState> state) : Grain, IIntentionCatalogGrain
{
    /// <summary>Number of buckets per datacenter. Part of the stored layout: never change it.</summary>
    public const int BucketCount = 64;

    /// <summary>The bucket of a destination key (stable across processes and versions: FNV-1a, not string.GetHashCode).</summary>
    public static int BucketOf(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key) hash = (hash ^ c) * 16777619u;
        return (int)(hash % BucketCount);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Destinations]);

    /// <inheritdoc />
    public async Task UpdateAsync(IReadOnlyList<string> added, IReadOnlyList<string> removed)
    {
        var changed = false;
        foreach (var k in added) changed |= state.State.Destinations.Add(k);
        foreach (var k in removed) changed |= state.State.Destinations.Remove(k);
        if (changed) await state.WriteStateAsync();
    }
}
