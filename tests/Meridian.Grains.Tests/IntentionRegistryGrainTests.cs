using Meridian.Grains.Intentions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using System.Collections.Immutable;

namespace Meridian.Grains.Tests;

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class IntentionRegistryGrainTests(ClusterFixture fx)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(15);

    private IIntentionRegistryGrain Registry => fx.Client.GetGrain<IIntentionRegistryGrain>(fx.PrimaryDatacenter);

    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private static IntentionDto Ixn(string source, string destination, string action = "allow", string sourceDc = "")
        => new() { SourceName = source, DestinationName = destination, Action = action, SourceDatacenter = sourceDc };

    private static IntentionRefDto Ref(string source, string destination) => new() { Source = source, Destination = destination };

    [Fact]
    public async Task Upsert_ThenGetListAndMatch_OrderedByPrecedence()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        var first = await Registry.UpsertAsync(Ixn("*", db, "deny"));
        var second = await Registry.UpsertAsync(Ixn(web, db) with { Description = "web may call db" });
        Assert.Equal(fx.PrimaryDatacenter, second.CommittedIn);
        Assert.True(second.Index > first.Index, $"index {second.Index} should be past {first.Index}");

        var got = await Registry.GetAsync(Ref(web, db));
        Assert.Equal((web, "default", db, "default", "allow", 9, "consul", "web may call db"),
            (got.SourceName, got.SourceNS, got.DestinationName, got.DestinationNS, got.Action, got.Precedence, got.SourceType, got.Description));
        Assert.Equal(second.Index, got.ModifyIndex);
        Assert.Equal(first.Index, got.CreateIndex);

        var list = await Registry.ListAsync();
        Assert.True(list.Index >= second.Index);
        var ours = list.Intentions.Where(i => i.DestinationName == db).Select(i => (i.SourceName, i.Precedence)).ToList();
        Assert.Equal([(web, 9), ("*", 8)], ours);
        Assert.Equal(list.Intentions.Select(i => i.Precedence).OrderDescending(), list.Intentions.Select(i => i.Precedence));

        var byDestination = await Registry.MatchAsync("destination", [db]);
        var entry = Assert.Single(byDestination.Matches);
        Assert.Equal(db, entry.Name);
        Assert.Equal([web, "*"], entry.Intentions.Select(i => i.SourceName));

        var bySource = await Registry.MatchAsync("source", [web, Fresh("nobody")]);
        Assert.Equal(2, bySource.Matches.Length);
        Assert.Contains(bySource.Matches[0].Intentions, i => i.SourceName == web && i.DestinationName == db && i.Action == "allow");
        // A source with no intention of its own still matches the wildcard source, as in Consul.
        Assert.Equal([("*", db)], bySource.Matches[1].Intentions.Where(i => i.DestinationName == db).Select(i => (i.SourceName, i.DestinationName)));
    }

    [Fact]
    public async Task Upsert_SameIntentionAgain_DoesNotBumpIndex()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        var first = await Registry.UpsertAsync(Ixn(web, db));
        var again = await Registry.UpsertAsync(Ixn(web, db));
        Assert.Equal(first.Index, again.Index);
        Assert.Equal(first.Index, (await Registry.GetAsync(Ref(web, db))).ModifyIndex);
        Assert.Equal(first.Index, (await Registry.ListAsync()).Index);

        var changed = await Registry.UpsertAsync(Ixn(web, db, "deny"));
        Assert.Equal(first.Index + 1, changed.Index);
        Assert.Equal("deny", (await Registry.GetAsync(Ref(web, db))).Action);
    }

    [Fact]
    public async Task Delete_LastSourceRemovesEntry_AbsentIsNoOp()
    {
        var (web, api, db) = (Fresh("web"), Fresh("api"), Fresh("db"));
        await Registry.UpsertAsync(Ixn(web, db));
        var beforeDeletes = await Registry.UpsertAsync(Ixn(api, db));
        var entryGrain = fx.Client.GetGrain<IIntentionGrain>($"{fx.PrimaryDatacenter}/default/default/{db}");

        var deletedWeb = await Registry.DeleteAsync(Ref(web, db));
        Assert.Equal(beforeDeletes.Index + 1, deletedWeb.Index);
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => Registry.GetAsync(Ref(web, db)));
        Assert.Equal(api, (await Registry.GetAsync(Ref(api, db))).SourceName);
        Assert.Equal([api], (await entryGrain.GetAsync())!.Sources.Select(s => s.Name));

        var deletedApi = await Registry.DeleteAsync(Ref(api, db));
        Assert.Equal(deletedWeb.Index + 1, deletedApi.Index);
        Assert.Null(await entryGrain.GetAsync());
        Assert.Empty((await Registry.MatchAsync("destination", [db])).Matches[0].Intentions);
        Assert.DoesNotContain((await Registry.ListAsync()).Intentions, i => i.DestinationName == db);

        var changes = await Registry.WaitForChangesAsync(deletedWeb.Index, TimeSpan.Zero).WaitAsync(CallTimeout);
        Assert.Contains($"default/default/{db}", changes.DeletedDestinations);

        var noop = await Registry.DeleteAsync(Ref(api, db));
        Assert.Equal(deletedApi.Index, noop.Index);
        var neverExisted = await Registry.DeleteAsync(Ref(Fresh("ghost"), Fresh("ghost-db")));
        Assert.Equal(deletedApi.Index, neverExisted.Index);
        Assert.Equal(deletedApi.Index, (await Registry.ListAsync()).Index);
    }

    [Fact]
    public async Task Upsert_Invalid_ReportsEveryProblemAndWritesNothing()
    {
        var db = Fresh("db");
        var before = (await Registry.ListAsync()).Index;

        var ex = await Assert.ThrowsAsync<MeridianValidationException>(
            () => Registry.UpsertAsync(Ixn("web*", db, "maybe")));
        Assert.Contains(ex.Problems, p => p is { Field: "SourceName", Code: "partial_wildcard",
            Message: "SourceName: wildcard character '*' cannot be used with partial values" });
        Assert.Contains(ex.Problems, p => p is { Field: "Action", Code: "invalid_value", Message: "Action must be set to 'allow' or 'deny'" });
        Assert.Equal(2, ex.Problems.Length);

        var exact = await Assert.ThrowsAsync<MeridianValidationException>(
            () => Registry.UpsertAsync(Ixn("web", db) with { SourceNS = "*", DestinationNS = "fin*" }));
        Assert.Contains(exact.Problems, p => p is { Field: "SourceName", Code: "exact_after_wildcard",
            Message: "SourceName: exact value cannot follow wildcard namespace" });
        Assert.Contains(exact.Problems, p => p is { Field: "DestinationNS", Code: "partial_wildcard",
            Message: "DestinationNS: wildcard character '*' cannot be used with partial values" });

        var missing = await Assert.ThrowsAsync<MeridianValidationException>(() => Registry.UpsertAsync(Ixn("", "", "allow")));
        Assert.Contains(missing.Problems, p => p is { Field: "SourceName", Message: "SourceName must be set" });
        Assert.Contains(missing.Problems, p => p is { Field: "DestinationName", Message: "DestinationName must be set" });

        Assert.Equal(before, (await Registry.ListAsync()).Index);
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => Registry.GetAsync(Ref("web", db)));
        Assert.Null(await fx.Client.GetGrain<IIntentionGrain>($"{fx.PrimaryDatacenter}/default/default/{db}").GetAsync());
    }

    [Fact]
    public async Task Get_And_Delete_WithBadReference_AreValidationErrors()
    {
        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => Registry.GetAsync(Ref("", "")));
        Assert.Equal(["source", "destination"], ex.Problems.Select(p => p.Field));
        await Assert.ThrowsAsync<MeridianValidationException>(() => Registry.DeleteAsync(Ref("a/b/c/d", "db")));
    }

    [Fact]
    public async Task WaitForChanges_Behind_AnswersAtOnceWithTheChange()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        var write = await Registry.UpsertAsync(Ixn(web, db));

        // A ten-minute wait that must not wait: the caller is behind.
        var changes = await Registry.WaitForChangesAsync(write.Index - 1, TimeSpan.FromMinutes(10)).WaitAsync(CallTimeout);
        Assert.False(changes.IsSnapshot);
        Assert.True(changes.Index >= write.Index);
        var entry = Assert.Single(changes.Upserts, e => e.Name == db);
        Assert.Equal([web], entry.Sources.Select(s => s.Name));
        Assert.Equal(write.Index, entry.ModifyIndex);
    }

    [Fact]
    public async Task WaitForChanges_UpToDate_AnswersAfterTheNextChange()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        var current = (await Registry.ListAsync()).Index;

        var waiting = Registry.WaitForChangesAsync(current, TimeSpan.FromMinutes(10));
        var write = await Registry.UpsertAsync(Ixn(web, db));
        var changes = await waiting.WaitAsync(CallTimeout);

        Assert.Equal(write.Index, changes.Index);
        Assert.False(changes.IsSnapshot);
        Assert.Equal([db], changes.Upserts.Select(e => e.Name));
    }

    [Fact]
    public async Task WaitForChanges_FromAFutureIndex_AnswersWithASnapshot()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        var write = await Registry.UpsertAsync(Ixn(web, db));

        var changes = await Registry.WaitForChangesAsync(write.Index + 1_000, TimeSpan.FromMinutes(10)).WaitAsync(CallTimeout);
        Assert.True(changes.IsSnapshot);
        Assert.Equal(write.Index, changes.Index);
        Assert.Contains(changes.Upserts, e => e.Name == db);
        var list = await Registry.ListAsync();
        Assert.Equal(list.Intentions.Select(i => i.DestinationName).Distinct().Count(), changes.Upserts.Length);
    }

    [Fact]
    public async Task WaitForChanges_FromAnotherEpoch_AnswersASnapshotAtOnce()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        var write = await Registry.UpsertAsync(Ixn(web, db));
        var own = await Registry.GetReplicatedPositionAsync(); // the primary answers its own index and epoch
        Assert.Matches("^[0-9a-f]{32}$", own.Epoch);
        Assert.True(own.Index >= write.Index, $"own index {own.Index} behind the write at {write.Index}");

        // Up to date by index, but the index counts in a store this registry is not: a ten-minute wait that must not wait.
        var foreign = new IntentionPositionDto(own.Index, Guid.NewGuid().ToString("N"));
        var changes = await Registry.WaitForChangesAsync(foreign, TimeSpan.FromMinutes(10)).WaitAsync(CallTimeout);
        Assert.True(changes.IsSnapshot, $"answer to {foreign} at index {changes.Index} is a delta of {changes.Upserts.Length} entries");
        Assert.Equal(own.Epoch, changes.Epoch);
        Assert.True(changes.Index >= own.Index);
        Assert.Contains(changes.Upserts, e => e.Name == db);
        var list = await Registry.ListAsync();
        Assert.Equal(list.Intentions.Select(i => i.DestinationName).Distinct().Count(), changes.Upserts.Length);

        // The epoch is in the registry's stored state (created, and written, when it first activated).
        var storage = fx.SiloServices.First().GetRequiredKeyedService<IGrainStorage>(MeridianStorage.Name);
        var stored = new GrainState<IntentionRegistryState>();
        await storage.ReadStateAsync("registry", Registry.GetGrainId(), stored);
        Assert.Equal(own.Epoch, stored.State?.Epoch);
    }

    [Fact]
    public async Task WaitForChanges_SameEpochBehind_AnswersADeltaWithTheEpoch()
    {
        var (web, api, db, cache) = (Fresh("web"), Fresh("api"), Fresh("db"), Fresh("cache"));
        await Registry.UpsertAsync(Ixn(web, db));
        var before = await Registry.GetReplicatedPositionAsync();
        var write = await Registry.UpsertAsync(Ixn(api, cache));

        var changes = await Registry.WaitForChangesAsync(before, TimeSpan.FromMinutes(10)).WaitAsync(CallTimeout);
        Assert.False(changes.IsSnapshot, $"answer to {before} should be a delta");
        Assert.Equal((write.Index, before.Epoch), (changes.Index, changes.Epoch));
        Assert.Equal([cache], changes.Upserts.Select(e => e.Name));

        // Up to date in the same epoch: waits for the next change, then answers just that.
        var waiting = Registry.WaitForChangesAsync(new IntentionPositionDto(write.Index, before.Epoch), TimeSpan.FromMinutes(10));
        var next = await Registry.UpsertAsync(Ixn(web, cache));
        var woken = await waiting.WaitAsync(CallTimeout);
        Assert.Equal((next.Index, false, before.Epoch), (woken.Index, woken.IsSnapshot, woken.Epoch));
        Assert.Equal([cache], woken.Upserts.Select(e => e.Name));
    }

    [Fact]
    public async Task Registry_Writes_AreDurableInCatalogBucketsAndEntryGrains()
    {
        // NOTE: the registry cannot be deactivated here: every silo's cache sync holds a 5-minute long-poll on it
        // and Orleans waits for running requests before deactivating (see the report). This checks what a new
        // activation loads from instead: the stored registry state and the per-destination grains.
        var (web, api, db, cache) = (Fresh("web"), Fresh("api"), Fresh("db"), Fresh("cache"));
        await Registry.UpsertAsync(Ixn(web, db));
        await Registry.UpsertAsync(Ixn(api, db, "deny"));
        var last = await Registry.UpsertAsync(Ixn(web, cache) with { Meta = ImmutableDictionary<string, string>.Empty.Add("team", "a") });
        Assert.Equal(last.Index, (await Registry.ListAsync()).Index);

        // The destination list lives in the catalog buckets; each key sits in the bucket its stable hash names.
        foreach (var key in new[] { $"default/default/{db}", $"default/default/{cache}" })
        {
            var bucket = fx.Client.GetGrain<IIntentionCatalogGrain>($"{fx.PrimaryDatacenter}/{IntentionCatalogGrain.BucketOf(key):D2}");
            Assert.Contains(key, await bucket.ListAsync());
        }
        var storage = fx.SiloServices.First().GetRequiredKeyedService<IGrainStorage>(MeridianStorage.Name);
        var stored = new GrainState<IntentionRegistryState>();
        await storage.ReadStateAsync("registry", Registry.GetGrainId(), stored);
        // An upsert writes only its entry (which carries the index); a new activation takes max(stored, entries).
        Assert.True((stored.State?.Index ?? 0) <= last.Index);

        var dbEntry = await fx.Client.GetGrain<IIntentionGrain>($"{fx.PrimaryDatacenter}/default/default/{db}").GetAsync();
        Assert.Equal(new[] { web, api }.Order(StringComparer.Ordinal), dbEntry!.Sources.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.Equal("deny", dbEntry.Sources.Single(s => s.Name == api).Action);
        var cacheEntry = await fx.Client.GetGrain<IIntentionGrain>($"{fx.PrimaryDatacenter}/default/default/{cache}").GetAsync();
        Assert.Equal(("a", last.Index), (cacheEntry!.Meta["team"], cacheEntry.ModifyIndex));
    }

    private static List<string> Describe(IntentionListDto list)
        => [.. list.Intentions.Select(i => $"{i.SourceName}->{i.DestinationName}:{i.Action}:{i.Precedence}:{i.CreateIndex}:{i.ModifyIndex}")];
}
