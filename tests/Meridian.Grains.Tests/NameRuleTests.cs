using System.Collections.Immutable;
using Meridian.Core.Intentions;
using Meridian.Grains.Intentions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Meridian.Grains.Tests;

/// <summary>
/// One service-name rule for every API: what the certificate API refuses, intentions, match, check and authorize
/// refuse too; an intention stored before the rule existed stays readable and deletable.
/// </summary>
[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class NameRuleTests(ClusterFixture fx)
{
    private IIntentionRegistryGrain Registry => fx.Client.GetGrain<IIntentionRegistryGrain>(fx.PrimaryDatacenter);
    private IAuthorizerGrain Authorizer => fx.Client.GetGrain<IAuthorizerGrain>(fx.PrimaryDatacenter);

    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static TheoryData<string> NamesTheCertificateApiRefuses() => new()
    {
        "Web", "wéb", "web😀", new string('w', 300), "web\u0001", "d b", "web.api",
    };

    [Theory]
    [MemberData(nameof(NamesTheCertificateApiRefuses))]
    public async Task Upsert_NameTheCertificateApiRefuses_IsRefusedToo(string name)
    {
        var cert = await Assert.ThrowsAsync<MeridianValidationException>(
            () => fx.Client.GetGrain<IServiceCertificateGrain>($"{fx.PrimaryDatacenter}/{name}").GetAsync());
        Assert.NotEmpty(cert.Problems);

        var db = Fresh("db");
        var asSource = await Assert.ThrowsAsync<MeridianValidationException>(
            () => Registry.UpsertAsync(new IntentionDto { SourceName = name, DestinationName = db, Action = "allow" }));
        Assert.Equal(["SourceName"], asSource.Problems.Select(p => p.Field));
        var asDestination = await Assert.ThrowsAsync<MeridianValidationException>(
            () => Registry.UpsertAsync(new IntentionDto { SourceName = "web", DestinationName = name, SourceNS = name, Action = "allow" }));
        Assert.Equal(["SourceNS", "DestinationName"], asDestination.Problems.Select(p => p.Field));
        // Whatever the name, a message never carries a raw control character to the caller's terminal.
        Assert.DoesNotContain(asSource.Problems, p => p.Message.Any(char.IsControl));
    }

    [Fact]
    public async Task Upsert_ControlCharacterInDescriptionOrMeta_IsRefused()
    {
        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => Registry.UpsertAsync(new IntentionDto
        {
            SourceName = "web", DestinationName = Fresh("db"), Action = "allow", Description = "line\nbreak",
            Meta = new Dictionary<string, string> { ["owner\u202E"] = "ops" }.ToImmutableDictionary(),
        }));
        Assert.Equal([("Description", "control_character"), ("Meta", "control_character")], ex.Problems.Select(p => (p.Field, p.Code)));
    }

    [Fact]
    public async Task MatchCheckAuthorize_NamesOutsideTheRule_AreValidationErrors()
    {
        var match = await Assert.ThrowsAsync<MeridianValidationException>(() => Registry.MatchAsync("source", ["Web", "ok", "d\u0001b"]));
        Assert.Equal(["name", "name"], match.Problems.Select(p => p.Field));

        var check = await Assert.ThrowsAsync<MeridianValidationException>(() => Authorizer.CheckAsync("Web", "d b"));
        Assert.Equal(["source", "destination"], check.Problems.Select(p => p.Field));

        var td = (await fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter).GetRootsAsync()).TrustDomain;
        var authorize = await Assert.ThrowsAsync<MeridianValidationException>(() => Authorizer.AuthorizeAsync(
            new() { Target = "d b", ClientCertURI = $"spiffe://{td}/ns/default/dc/dc1/svc/web" }));
        Assert.Equal(("Target", "invalid_format"), (authorize.Problems.Single().Field, authorize.Problems.Single().Code));
    }

    [Fact]
    public async Task Delete_IntentionStoredBeforeTheNameRule_StillListedReadableAndDeletable()
    {
        // Its own silo, on a store that already holds the entry, as a version without the rule would have written it:
        // the datacenter's registry loads it when it first activates.
        var (spoof, db) = ("web\u0001", Fresh("db"));
        var key = DestinationMatchIndex.KeyOf("default", db, "default");
        var entry = IntentionRules.Normalize(new ServiceIntentionsEntry
        {
            Name = db, Sources = [new SourceIntention { Name = spoof, Action = IntentionAction.Allow }],
            CreateIndex = 1, ModifyIndex = 1,
        });
        var store = new SeededGrainStorage()
            .Seed("intention", $"{CustomCluster.Datacenter}/{key}", new IntentionGrainState { Entry = entry.ToDto() })
            .Seed("catalog", $"{CustomCluster.Datacenter}/{IntentionCatalogGrain.BucketOf(key):D2}", new IntentionCatalogState { Destinations = [key] });
        await using var cluster = await CustomCluster.StartAsync(s => s.AddKeyedSingleton<IGrainStorage>(MeridianStorage.Name, store));
        var registry = cluster.Client.GetGrain<IIntentionRegistryGrain>(CustomCluster.Datacenter);

        Assert.Contains((await registry.ListAsync()).Intentions, i => (i.SourceName, i.DestinationName) == (spoof, db));
        var reference = new IntentionRefDto { Source = spoof, Destination = db };
        Assert.Equal(spoof, (await registry.GetAsync(reference)).SourceName);
        // The destination stays writable: a valid source is added beside the stored one.
        await registry.UpsertAsync(new IntentionDto { SourceName = "api", DestinationName = db, Action = "deny" });
        Assert.Equal(["api", spoof], (await registry.MatchAsync("destination", [db])).Matches[0].Intentions
            .Select(i => i.SourceName).Order(StringComparer.Ordinal));
        var deleted = await registry.DeleteAsync(reference);
        Assert.True(deleted.Index > 1, $"delete index {deleted.Index}");
        Assert.Equal(["api"], (await registry.ListAsync()).Intentions.Where(i => i.DestinationName == db).Select(i => i.SourceName));
        Assert.Equal(["api"], (await cluster.Client.GetGrain<IIntentionGrain>($"{CustomCluster.Datacenter}/{key}").GetAsync())!
            .Sources.Select(x => x.Name));
        // Nothing new can be written under that name.
        await Assert.ThrowsAsync<MeridianValidationException>(
            () => registry.UpsertAsync(new IntentionDto { SourceName = spoof, DestinationName = db, Action = "allow" }));
    }
}
