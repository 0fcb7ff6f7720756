using Meridian.Grains.Intentions;

namespace Meridian.Grains.Tests;

/// <summary>The per-silo read cache (ReplicaCache with intentions as its view): what it applies, ignores and waits for.</summary>
[Trait("Category", "Unit")]
public sealed class IntentionCacheTests
{
    private static IntentionEntryDto Entry(string destination, ulong index) => new()
    {
        Name = destination, Namespace = "default", Partition = "default", CreateIndex = index, ModifyIndex = index,
        Sources = [new SourceIntentionDto { Name = "web", Namespace = "default", Partition = "default", Action = "allow", Type = "consul" }],
    };

    private static string[] Destinations(IntentionCache cache) => [.. cache.Current.Entries.Select(e => e.Name).Order(StringComparer.Ordinal)];

    [Fact]
    public void Apply_DeltasInOrder_IgnoresOldOrOtherEpochDeltas_SnapshotReplacesAll()
    {
        var cache = new IntentionCache();
        Assert.False(cache.IsLoaded);
        cache.Apply(new IntentionChangesDto { Index = 2, Epoch = "e1", IsSnapshot = true, Upserts = [Entry("db", 1), Entry("cache", 2)] });
        Assert.True(cache.IsLoaded);
        Assert.Equal((2ul, "e1"), (cache.Position.Index, cache.Position.Epoch));

        cache.Apply(new IntentionChangesDto { Index = 3, Epoch = "e1", Upserts = [Entry("queue", 3)], DeletedDestinations = ["default/default/db"] });
        Assert.Equal(["cache", "queue"], Destinations(cache));
        cache.Apply(new IntentionChangesDto { Index = 3, Epoch = "e1", DeletedDestinations = ["default/default/cache"] }); // not newer
        cache.Apply(new IntentionChangesDto { Index = 9, Epoch = "e2", DeletedDestinations = ["default/default/cache"] }); // other epoch
        Assert.Equal(["cache", "queue"], Destinations(cache));
        Assert.Equal(3ul, cache.Current.Index);

        // A rebuilt registry's snapshot replaces everything, even at a lower index.
        cache.Apply(new IntentionChangesDto { Index = 1, Epoch = "e2", IsSnapshot = true, Upserts = [Entry("search", 1)] });
        Assert.Equal(["search"], Destinations(cache));
        Assert.Equal((1ul, "e2"), (cache.Position.Index, cache.Position.Epoch));
    }

    [Fact]
    public async Task WaitForIndex_CompletesWhenTheIndexIsApplied_FalseWhenTheTimeoutPassed()
    {
        var cache = new IntentionCache();
        cache.Apply(new IntentionChangesDto { Index = 1, Epoch = "e1", IsSnapshot = true });
        Assert.False(await cache.WaitForIndexAsync(2, TimeSpan.Zero, TimeProvider.System));
        var waiting = cache.WaitForIndexAsync(2, TimeSpan.FromMinutes(1), TimeProvider.System);
        Assert.False(waiting.IsCompleted);
        cache.Apply(new IntentionChangesDto { Index = 2, Epoch = "e1", Upserts = [Entry("db", 2)] });
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(await cache.WaitForIndexAsync(1, TimeSpan.Zero, TimeProvider.System));
    }
}
