using Meridian.Grains.Certificates;
using Meridian.Grains.Intentions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Meridian.Grains.Tests;

/// <summary>A grain key a caller chose that is not a valid name of this datacenter: refused before the grain activates.</summary>
[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class GrainKeyGuardTests(ClusterFixture fx)
{
    private async Task<bool> StoredAsync<TState>(IAddressable grain, string stateName) where TState : new()
    {
        var storage = fx.SiloServices.First().GetRequiredKeyedService<IGrainStorage>(MeridianStorage.Name);
        var state = new GrainState<TState>(new TState());
        await storage.ReadStateAsync(stateName, grain.GetGrainId(), state);
        return state.RecordExists;
    }

    [Theory]
    [InlineData("dc2")]            // another datacenter's name: a second registry beside dc1's
    [InlineData("Not A Name")]
    [InlineData("dc1/../x")]
    public async Task Registry_KeyNotThisDatacenter_RefusedAndNothingStored(string key)
    {
        var registry = fx.GatewayClient.GetGrain<IIntentionRegistryGrain>(key);
        var refused = await Assert.ThrowsAsync<MeridianValidationException>(() => registry.ListAsync());
        Assert.Equal("key", refused.Problems[0].Field.Split('.')[0]);
        Assert.False(await StoredAsync<IntentionRegistryState>(registry, "registry"), $"a registry row was stored under {key}");
    }

    [Fact]
    public async Task Registry_OwnDatacenter_Answers()
        => Assert.NotNull(await fx.GatewayClient.GetGrain<IIntentionRegistryGrain>(fx.PrimaryDatacenter).ListAsync());

    [Theory]
    [InlineData("dc2")]            // another datacenter's name: a second root of trust beside dc1's
    [InlineData("ca-test")]
    public async Task CertificateAuthority_KeyNotThisDatacenter_RefusedAndNothingStored(string key)
    {
        // Public reads and, from inside the cluster, Initialize: neither activates a CA under another key.
        var refused = await Assert.ThrowsAsync<MeridianValidationException>(
            () => fx.GatewayClient.GetGrain<ICertificateAuthorityGrain>(key).GetRootsAsync());
        Assert.Contains("not in this datacenter: this cluster serves dc1", refused.Message);
        var ca = fx.Client.GetGrain<ICertificateAuthorityGrain>(key);
        await Assert.ThrowsAsync<MeridianValidationException>(() => ca.InitializeAsync());
        Assert.False(await StoredAsync<CertificateAuthorityState>(ca, CertificateAuthorityGrain.StateName), $"a CA was stored under {key}");
        Assert.False(await StoredAsync<CaKeyState>(ca, CertificateAuthorityGrain.KeysStateName), $"a CA key was stored under {key}");
    }

    [Theory]
    [InlineData("dc2/web", "not in this datacenter")]    // would have signed dc2's identity with dc1's CA
    [InlineData("no-slash", "must have the form")]
    [InlineData("dc1/Web", "may contain only")]
    public async Task ServiceCertificate_BadKey_RefusedWithoutActivation(string key, string reason)
    {
        var refused = await Assert.ThrowsAsync<MeridianValidationException>(
            () => fx.GatewayClient.GetGrain<IServiceCertificateGrain>(key).GetAsync());
        Assert.Contains(reason, refused.Message);
        // The grain registers every activation with its silo (for re-issue after a root change) when it activates.
        Assert.All(fx.SiloServices, sp => Assert.DoesNotContain(key, sp.GetRequiredService<CertificateActivations>().Snapshot()));
    }

    [Theory]
    [InlineData("dc2")]
    [InlineData("DC1")]
    public async Task StatelessWorkers_KeyNotThisDatacenter_Refused(string key)
    {
        await Assert.ThrowsAsync<MeridianValidationException>(
            () => fx.GatewayClient.GetGrain<IAuthorizerGrain>(key).CheckAsync("web", "db"));
        await Assert.ThrowsAsync<MeridianValidationException>(
            () => fx.GatewayClient.GetGrain<ILeafSignerGrain>(key).SignCsrAsync("web", "csr"));
    }

    [Fact]
    public async Task IntentionEntry_KeyOfAnotherDatacenter_RefusedAndNothingStored()
    {
        // From inside the cluster (the seal lets it through): the key rule still holds.
        var entry = fx.Client.GetGrain<IIntentionGrain>("dc2/default/default/db");
        await Assert.ThrowsAsync<MeridianValidationException>(() => entry.SetAsync(new IntentionEntryDto { Name = "db" }));
        Assert.False(await StoredAsync<IntentionGrainState>(entry, "intention"));
    }
}
