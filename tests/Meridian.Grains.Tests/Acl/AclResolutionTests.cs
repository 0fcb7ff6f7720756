using Meridian.Core.Acl;
using Meridian.Grains.Acl;

namespace Meridian.Grains.Tests.Acl;

/// <summary>Tokens written to the store, resolved by every silo's resolver; changes reach every silo's cache.</summary>
[Collection(AclClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class AclResolutionTests(AclClusterFixture fx)
{
    private IAclStoreGrain Store => fx.Store;

    [Fact]
    public async Task ManagementToken_ResolvesOnEverySilo_ToManageAll()
    {
        foreach (var resolver in fx.Resolvers)
        {
            var caller = await resolver.ResolveAsync(fx.ManagementSecret);
            Assert.True(caller.Authorizer.OperatorWrite().Allowed);
            Assert.True(caller.Authorizer.AclWrite().Allowed);
            Assert.True(caller.Authorizer.IntentionWrite("*").Allowed);
        }
    }

    [Fact]
    public async Task PolicyChanged_EverySiloResolvesTheNewRules_TokenDeleted_AclNotFound()
    {
        var service = $"web{Guid.NewGuid():N}";
        var policy = await Store.SetPolicyAsync(new AclPolicyDto { Name = $"p-{service}", Rules = $"service \"{service}\" {{ policy = \"write\" }}" });
        var role = await Store.SetRoleAsync(new AclRoleDto { Name = $"r-{service}", Policies = [new(policy.ID, "")] });
        var token = await Store.CreateTokenAsync(new AclTokenDto { Roles = [new(role.ID, "")] });
        await fx.WaitForResolversAsync(token.ModifyIndex);
        foreach (var resolver in fx.Resolvers)
            Assert.True((await resolver.ResolveAsync(token.SecretID)).Authorizer.ServiceWrite(service).Allowed);

        var changed = await Store.SetPolicyAsync(policy with { Rules = $"service \"{service}\" {{ policy = \"read\" }}" });
        await fx.WaitForResolversAsync(changed.ModifyIndex);
        foreach (var resolver in fx.Resolvers)
        {
            var caller = await resolver.ResolveAsync(token.SecretID);
            Assert.False(caller.Authorizer.ServiceWrite(service).Allowed, "the cached write grant outlived the policy change");
            Assert.True(caller.Authorizer.ServiceRead(service).Allowed);
        }

        var deletedAt = await Store.DeleteTokenAsync(token.AccessorID);
        await fx.WaitForResolversAsync(deletedAt);
        foreach (var resolver in fx.Resolvers)
        {
            var ex = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(async () => await resolver.ResolveAsync(token.SecretID));
            Assert.Equal("ACL not found", ex.Message);
        }
    }

    [Fact]
    public async Task ServiceIdentity_LimitedToAnotherDatacenter_GrantsNothingHere()
    {
        var token = await Store.CreateTokenAsync(new AclTokenDto { ServiceIdentities = [new("api", ["dc2"]), new("web", [])] });
        var caller = await fx.Resolvers.First().ResolveAsync(token.SecretID);
        Assert.True(caller.Authorizer.ServiceWrite("web-sidecar-proxy").Allowed);
        Assert.False(caller.Authorizer.ServiceWrite("api").Allowed);
        Assert.Equal(token.AccessorID, caller.AccessorId);
    }

    [Fact]
    public async Task NoSecret_EverySiloWritesOnlyAccessorIds()
    {
        var secrets = new List<string> { fx.ManagementSecret };
        var token = await Store.CreateTokenAsync(new AclTokenDto { Description = "log probe" });
        secrets.Add(token.SecretID);
        foreach (var resolver in fx.Resolvers) await resolver.ResolveAsync(token.SecretID);
        using (CallerToken.Use(token.SecretID))
            await Assert.ThrowsAsync<MeridianValidationException>(() => Store.DeleteTokenAsync(token.AccessorID));
        await Assert.ThrowsAsync<MeridianValidationException>(() => Store.UpdateTokenAsync(token with { SecretID = Guid.NewGuid().ToString("D") }));
        await Assert.ThrowsAsync<MeridianValidationException>(() => Store.CreateTokenAsync(new AclTokenDto { SecretID = token.SecretID }));
        await Store.DeleteTokenAsync(token.AccessorID);

        Assert.Contains(fx.Logs.Lines, l => l.Contains(token.AccessorID, StringComparison.Ordinal));
        var leaks = fx.Logs.Lines.Where(l => secrets.Any(s => l.Contains(s, StringComparison.Ordinal))).ToList();
        Assert.True(leaks.Count == 0, $"secrets in the log:\n{string.Join('\n', leaks)}");
    }

    private long StoreLookups => fx.Resolvers.Sum(r => r.Lookups);

    /// <summary>Calls from a client of the gateway (checked) with <paramref name="secret"/>.</summary>
    private async Task<T> AsCallerAsync<T>(string? secret, Func<IAclStoreGrain, Task<T>> call)
    {
        using (CallerToken.Use(secret))
            return await call(fx.Cluster.Client.GetGrain<IAclStoreGrain>(AclClusterFixture.Datacenter));
    }

    [Fact]
    public async Task Filter_ResolvesOncePerCheckedCall_NeverOnTheStoreLookupItMakes()
    {
        // The resolver asks the store (IAclStoreGrain.Lookup, cluster-internal) from inside the silo: were that call
        // checked, resolving would resolve again, without end. One checked call with a new secret: one store lookup.
        Assert.DoesNotContain(AclMethodTable.Methods.Keys, m => GrainSurfaceAttribute.Of(m) == Surface.ClusterInternal);
        Assert.DoesNotContain(AclMethodTable.Methods.Keys, m => m.Name == nameof(IAclStoreGrain.LookupAsync));

        var before = StoreLookups;
        var unknown = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => AsCallerAsync(Guid.NewGuid().ToString(), s => s.ListPoliciesAsync()));
        Assert.Equal("ACL not found", unknown.Message);
        Assert.Equal(before + 1, StoreLookups);

        var token = await Store.CreateTokenAsync(new AclTokenDto { Description = "lookup probe", Policies = [AclLinkDto.ByName(AclBuiltins.GlobalManagementPolicyName)] });
        await fx.WaitForResolversAsync(token.ModifyIndex);
        before = StoreLookups;
        Assert.NotEmpty(await AsCallerAsync(token.SecretID, s => s.ListPoliciesAsync()));
        Assert.Equal(before + 1, StoreLookups);
        Assert.NotEmpty(await AsCallerAsync(token.SecretID, s => s.ListPoliciesAsync())); // cached: the same gateway silo
        Assert.Equal(before + 1, StoreLookups);
        await Store.DeleteTokenAsync(token.AccessorID);
    }

    [Fact]
    public async Task AclNoneMethods_AreNotResolvedByTheFilter_GetSelfAndBootstrapAnswerThemselves()
    {
        var before = StoreLookups;
        Assert.Equal(AclBuiltins.AnonymousTokenAccessorId, (await AsCallerAsync(null, s => s.GetSelfAsync())).AccessorID);
        var self = await AsCallerAsync(fx.ManagementSecret, s => s.GetSelfAsync());
        Assert.Equal(AclTokenDto.HiddenSecret, self.SecretID);
        var unknown = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => AsCallerAsync(Guid.NewGuid().ToString(), s => s.GetSelfAsync()));
        Assert.Equal("ACL not found", unknown.Message);
        // The initial management token used bootstrap up: Consul's refusal, from the store itself.
        var again = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => AsCallerAsync<AclTokenDto>(null, s => s.BootstrapAsync()));
        Assert.StartsWith("Permission denied: ACL bootstrap no longer allowed (reset index: ", again.Message);
        Assert.Equal(before, StoreLookups);
    }
}
