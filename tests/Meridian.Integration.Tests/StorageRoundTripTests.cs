using System.Collections.Immutable;
using Meridian.Grains;
using Meridian.Integration.Tests.Processes;
using Meridian.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Meridian.Integration.Tests;

/// <summary>
/// Every persisted state type, fully filled, through each storage provider the silo host configures (memory, as in
/// <c>meridian dev</c>, and PostgreSQL): written, read back after the grains were deactivated, and equal. Orleans
/// deactivates idle grains after 15 minutes; the tests force that instead of waiting.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class StorageRoundTripTests(PostgresFixture fx)
{
    public static TheoryData<string> Providers => ["Memory", "PostgreSql"];

    [Fact]
    public void PersistedStates_FoundByReflection_IncludeEveryKnownState()
    {
        // Guards the discovery itself: if it found nothing, the round trips below would prove nothing.
        var names = PersistedStates.All.Select(s => s.StateType.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "IntentionGrainState", "IntentionCatalogState", "IntentionRegistryState", "CertificateAuthorityState", "AclStoreState", "CatalogNodeState", "CatalogBucketState", "CatalogDirectoryState", "PreparedQueryState", "DatacenterRegistryState" }, names);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task EveryPersistedState_FullyFilled_ReadsBackEqual(string provider)
    {
        await using var silo = await StartAsync(provider);
        var storage = silo.Services.GetRequiredKeyedService<IGrainStorage>(MeridianStorage.Name);
        foreach (var (grain, stateName, stateType) in PersistedStates.All)
        {
            var written = PersistedStates.Filled(stateType);
            Assert.Null(PersistedStates.FirstUnfilled(written));
            var id = GrainId.Create(grain.Name.ToLowerInvariant(), Guid.NewGuid().ToString("N"));
            var read = await (Task<object?>)typeof(StorageRoundTripTests).GetMethod(nameof(RoundTripAsync), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(stateType).Invoke(null, [storage, stateName, id, written])!;
            var difference = PersistedStates.FirstDifference(written, read);
            Assert.True(difference is null, $"{stateType.Name} through {provider}: {difference}");
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Intention_AfterDeactivation_CanBeUpsertedAndDeletedAndReadsBackEqual(string provider)
    {
        await using var silo = await StartAsync(provider);
        await using var sdk = await SdkClient.ConnectAsync(silo.Gateway);
        var client = sdk.Client;
        await client.UpsertIntentionAsync(Intention("web", "db") with
        {
            Meta = ImmutableDictionary<string, string>.Empty.Add("team", "payments").Add("ticket", "T-1"),
        });
        await client.UpsertIntentionAsync(Intention("api", "db"));
        var entryBefore = await StoredEntryAsync(silo, "db");
        var listBefore = await client.ListIntentionsAsync();
        var rootsBefore = await client.GetCaRootsAsync();

        await silo.DeactivateIdleGrainsAsync();

        // Every grain reads its state back from storage: the entry, the list and the CA are what they were.
        Assert.Null(PersistedStates.FirstDifference(entryBefore, await StoredEntryAsync(silo, "db")));
        Assert.Null(PersistedStates.FirstDifference(listBefore, await client.ListIntentionsAsync()));
        Assert.Null(PersistedStates.FirstDifference(rootsBefore, await client.GetCaRootsAsync()));

        // The destination stays writable: change one source, delete the other.
        await client.UpsertIntentionAsync(Intention("web", "db", "deny"));
        await client.DeleteIntentionAsync(new IntentionRefDto { Source = "api", Destination = "db" });
        await silo.DeactivateIdleGrainsAsync();
        var after = Assert.Single((await client.ListIntentionsAsync()).Intentions);
        Assert.Equal(("web", "deny", "payments"), (after.SourceName, after.Action, after.Meta["team"]));
    }

    private static async Task<object?> RoundTripAsync<T>(IGrainStorage storage, string stateName, GrainId id, T value)
    {
        await storage.WriteStateAsync(stateName, id, new GrainState<T>(value));
        var read = new GrainState<T>();
        await storage.ReadStateAsync(stateName, id, read);
        Assert.True(read.RecordExists, $"{typeof(T).Name}: nothing read back");
        return read.State;
    }

    // The registry's own record of a destination: found through the catalog buckets, as the registry loads it.
    private static async Task<IntentionEntryDto> StoredEntryAsync(InProcessDatacenter silo, string destination)
    {
        for (var bucket = 0; bucket < 64; bucket++)
        {
            foreach (var key in await silo.Grains.GetGrain<IIntentionCatalogGrain>($"dc1/{bucket:D2}").ListAsync())
            {
                if (await silo.Grains.GetGrain<IIntentionGrain>($"dc1/{key}").GetAsync() is { Name: var name } entry && name == destination)
                    return entry;
            }
        }
        throw new InvalidOperationException($"no stored entry for {destination}");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task PreparedQuery_AfterDeactivation_ReadsBackEqual_AndStaysWritable(string provider)
    {
        await using var silo = await StartAsync(provider);
        await using var sdk = await SdkClient.ConnectAsync(silo.Gateway);
        var client = sdk.Client;
        var id = await client.CreatePreparedQueryAsync(new PreparedQueryDto
        {
            Name = "geo-db", Token = "exec-token", DNS = new QueryDnsDto { TTL = "10s" },
            Service = new ServiceQueryDto
            {
                Service = "db", Tags = ["primary"], NodeMeta = ImmutableDictionary<string, string>.Empty.Add("rack", "r1"),
                Failover = new QueryFailoverDto { NearestN = 2, Datacenters = ["dc2", "dc3"] },
            },
        });
        var before = await client.ListPreparedQueriesAsync();

        await silo.DeactivateIdleGrainsAsync();

        Assert.Null(PersistedStates.FirstDifference(before, await client.ListPreparedQueriesAsync()));
        var index = await client.UpdatePreparedQueryAsync(id, (await client.GetPreparedQueryAsync(id)) with { Service = new ServiceQueryDto { Service = "db2" } });
        Assert.True(index > before.Index);
        await silo.DeactivateIdleGrainsAsync();
        var after = await client.GetPreparedQueryAsync(id);
        Assert.Equal(("db2", index, "exec-token"), (after.Service.Service, after.ModifyIndex, after.Token));
    }

    private async Task<InProcessDatacenter> StartAsync(string provider) =>
        await InProcessDatacenter.StartAsync(provider == "PostgreSql" ? await fx.CreateDatabaseAsync() : null);

    private static IntentionDto Intention(string source, string destination, string action = "allow") => new()
    {
        SourceName = source,
        DestinationName = destination,
        Action = action,
        Description = $"{source} to {destination}",
    };
}
