namespace Meridian.Grains.Tests;

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class AuthorizerGrainTests(ClusterFixture fx)
{
    private IIntentionRegistryGrain Registry => fx.Client.GetGrain<IIntentionRegistryGrain>(fx.PrimaryDatacenter);
    private IAuthorizerGrain Authorizer => fx.Client.GetGrain<IAuthorizerGrain>(fx.PrimaryDatacenter);

    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private async Task<string> TrustDomainAsync()
        => (await fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter).InitializeAsync()).TrustDomain;

    private async Task UpsertAllAsync(params IntentionDto[] intentions)
    {
        ulong index = 0;
        foreach (var i in intentions) index = (await Registry.UpsertAsync(i)).Index;
        await fx.WaitForCachesAsync(index); // every silo's authorizer decides from its own cache
    }

    [Fact]
    public async Task Authorize_MatchesByPrecedence_WithConsulReasons()
    {
        var (web, bad, db) = (Fresh("web"), Fresh("bad"), Fresh("db"));
        await UpsertAllAsync(
            new IntentionDto { SourceName = "*", DestinationName = db, Action = "deny" },
            new IntentionDto { SourceName = web, DestinationName = db, Action = "allow" });
        var td = await TrustDomainAsync();

        var allowed = await Authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = $"spiffe://{td}/ns/default/dc/dc1/svc/{web}" });
        Assert.Equal(new AuthorizeResultDto(true, $"Matched L4 intention: default/{web} => default/{db} (Precedence: 9, Action: ALLOW)"), allowed);

        var denied = await Authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = $"spiffe://{td}/ns/default/dc/dc1/svc/{bad}" });
        Assert.Equal(new AuthorizeResultDto(false, $"Matched L4 intention: default/* => default/{db} (Precedence: 8, Action: DENY)"), denied);

        var unknown = await Authorizer.AuthorizeAsync(new() { Target = Fresh("lonely"), ClientCertURI = $"spiffe://{td}/ns/default/dc/dc1/svc/{web}" });
        Assert.Equal(new AuthorizeResultDto(true, "Default behavior configured by ACLs"), unknown);

        Assert.True(await Authorizer.CheckAsync(web, db));
        Assert.False(await Authorizer.CheckAsync(bad, db));
        Assert.True(await Authorizer.CheckAsync(web, Fresh("lonely")));
    }

    [Fact]
    public async Task Authorize_SourceDatacenterScoped_AppliesOnlyToThatDatacenter()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        await UpsertAllAsync(
            new IntentionDto { SourceName = web, DestinationName = db, Action = "allow" },
            new IntentionDto { SourceName = web, DestinationName = db, Action = "deny", SourceDatacenter = "dc2" });
        var td = await TrustDomainAsync();

        var fromDc2 = await Authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = $"spiffe://{td}/ns/default/dc/dc2/svc/{web}" });
        Assert.Equal(new AuthorizeResultDto(false, $"Matched L4 intention: default/{web}@dc2 => default/{db} (Precedence: 9, Action: DENY)"), fromDc2);

        var fromDc1 = await Authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = $"spiffe://{td}/ns/default/dc/dc1/svc/{web}" });
        Assert.Equal(new AuthorizeResultDto(true, $"Matched L4 intention: default/{web} => default/{db} (Precedence: 9, Action: ALLOW)"), fromDc1);

        // Both intentions are separate (their scope is part of their identity).
        Assert.Equal(2, (await Registry.MatchAsync("destination", [db])).Matches[0].Intentions.Length);
    }

    [Fact]
    public async Task Authorize_AfterDelete_FallsBackToDefault()
    {
        var (web, db) = (Fresh("web"), Fresh("db"));
        await UpsertAllAsync(new IntentionDto { SourceName = web, DestinationName = db, Action = "deny" });
        var td = await TrustDomainAsync();
        var request = new AuthorizeRequestDto { Target = db, ClientCertURI = $"spiffe://{td}/ns/default/dc/dc1/svc/{web}" };
        Assert.False((await Authorizer.AuthorizeAsync(request)).Authorized);

        var deleted = await Registry.DeleteAsync(new() { Source = web, Destination = db });
        await fx.WaitForCachesAsync(deleted.Index);
        Assert.Equal(new AuthorizeResultDto(true, "Default behavior configured by ACLs"), await Authorizer.AuthorizeAsync(request));
    }

    [Fact]
    public async Task Authorize_BadInput_IsValidationError()
    {
        var noTarget = await Assert.ThrowsAsync<MeridianValidationException>(
            () => Authorizer.AuthorizeAsync(new() { ClientCertURI = "spiffe://x.consul/ns/default/dc/dc1/svc/web" }));
        Assert.Contains(noTarget.Problems, p => p is { Field: "Target", Message: "Target service must be specified" });

        var badUri = await Assert.ThrowsAsync<MeridianValidationException>(
            () => Authorizer.AuthorizeAsync(new() { Target = "db", ClientCertURI = "https://example.com/web" }));
        Assert.Contains(badUri.Problems, p => p is { Field: "ClientCertURI", Message: "ClientCertURI not a valid Connect identifier" });
    }
}

[Collection(DenyClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class AuthorizerDefaultDenyTests(DenyClusterFixture fx)
{
    [Fact]
    public async Task Authorize_NoMatch_WithDefaultPolicyDeny_IsDenied()
    {
        var authorizer = fx.Client.GetGrain<IAuthorizerGrain>(fx.PrimaryDatacenter);
        var registry = fx.Client.GetGrain<IIntentionRegistryGrain>(fx.PrimaryDatacenter);
        var (web, db) = ($"web-{Guid.NewGuid():N}", $"db-{Guid.NewGuid():N}");
        var uri = $"spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/{web}";

        Assert.Equal(new AuthorizeResultDto(false, "Default intention policy"),
            await authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = uri }));
        Assert.False(await authorizer.CheckAsync(web, db));

        var write = await registry.UpsertAsync(new IntentionDto { SourceName = web, DestinationName = db, Action = "allow" });
        await fx.WaitForCachesAsync(write.Index);
        Assert.Equal(new AuthorizeResultDto(true, $"Matched L4 intention: default/{web} => default/{db} (Precedence: 9, Action: ALLOW)"),
            await authorizer.AuthorizeAsync(new() { Target = db, ClientCertURI = uri }));
        Assert.True(await authorizer.CheckAsync(web, db));
    }
}
