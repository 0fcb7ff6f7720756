using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Meridian.Grains.Tests.Federation;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests.Acl;

/// <summary>The ACL store of a secondary: global writes go to the primary, local tokens stay where they were created.</summary>
[Trait("Category", "Cluster")]
public sealed class AclSecondaryTests
{
    [Fact]
    public async Task Secondary_GlobalWritesForwarded_LocalTokenStaysLocal_AndResolvesThere()
    {
        var settings = AclClusterFixture.Settings(initialManagement: null);
        await using var dc1 = await DatacenterCluster.StartAsync("dc1", "dc1", services: s => s.AddSingleton(settings));
        var link = new TestPrimaryLink("dc1");
        link.PointTo(dc1.GatewayClient);
        link.Connect();
        await using var dc2 = await DatacenterCluster.StartAsync("dc2", "dc1", link, services: s => s.AddSingleton(settings));
        var primary = dc1.Client.GetGrain<IAclStoreGrain>("dc1");
        // The secondary's store as its own silo calls it (not checked there): dc2 holds no global token until ACL
        // replication brings them, so the check that matters is the primary's, on the forwarded call, which carries
        // the caller's token (RequestContext). The primary is read from inside its datacenter (not checked).
        var secondary = dc2.Client.GetGrain<IAclStoreGrain>("dc2");

        var bootstrap = await dc2.GatewayClient.GetGrain<IAclStoreGrain>("dc2").BootstrapAsync(); // needs no token
        Assert.Equal(bootstrap.AccessorID, (await primary.GetTokenAsync(bootstrap.AccessorID)).AccessorID);
        var ops = new AclPolicyDto { Name = "ops", Rules = "operator = \"read\"" };
        var atGateway = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => dc2.GatewayClient.GetGrain<IAclStoreGrain>("dc2").SetPolicyAsync(ops));
        Assert.Contains("anonymous token lacks permission 'acl:write'", atGateway.Message);
        var atPrimary = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => secondary.SetPolicyAsync(ops));
        Assert.Contains("anonymous token lacks permission 'acl:write'", atPrimary.Message);
        Assert.DoesNotContain((await primary.ListPoliciesAsync()), p => p.Name == "ops");

        using (CallerToken.Use(bootstrap.SecretID))
            await WritesAsManagementAsync(dc2, primary, secondary);
    }

    private static async Task WritesAsManagementAsync(DatacenterCluster dc2, IAclStoreGrain primary, IAclStoreGrain secondary)
    {
        var policy = await secondary.SetPolicyAsync(new AclPolicyDto { Name = "ops", Rules = "operator = \"read\"" });
        Assert.Equal(policy.ModifyIndex, (await primary.GetPolicyAsync(policy.ID)).ModifyIndex);
        var global = await secondary.CreateTokenAsync(new AclTokenDto { Policies = [AclLinkDto.ByName("ops")] });
        Assert.False(global.Local);
        Assert.Equal(global.AccessorID, (await primary.GetTokenAsync(global.AccessorID)).AccessorID);
        // Not here until ACL replication brings it: the write happened in the primary only.
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => secondary.GetTokenAsync(global.AccessorID));

        var local = await secondary.CreateTokenAsync(new AclTokenDto { Local = true, ServiceIdentities = [new("web", ["dc2"])] });
        Assert.Equal(local.AccessorID, (await secondary.GetTokenAsync(local.AccessorID)).AccessorID);
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => primary.GetTokenAsync(local.AccessorID));

        var resolver = dc2.SiloServices.First().GetRequiredService<IAclAuthorizerSource>();
        var caller = await resolver.ResolveAsync(local.SecretID);
        Assert.Equal(local.AccessorID, caller.AccessorId);
        Assert.True(caller.Authorizer.ServiceWrite("web").Allowed);
        Assert.False(caller.Authorizer.ServiceWrite("db").Allowed);
        // No anonymous token replicated yet: anonymous callers get the default policy (deny).
        var anonymous = await resolver.ResolveAsync(null);
        Assert.Equal(AclBuiltins.AnonymousTokenAccessorId, anonymous.AccessorId);
        Assert.False(anonymous.Authorizer.ServiceRead("web").Allowed);

        await secondary.DeleteTokenAsync(local.AccessorID);
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => secondary.GetTokenAsync(local.AccessorID));
        await secondary.DeleteTokenAsync(global.AccessorID); // forwarded: not held here
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => primary.GetTokenAsync(global.AccessorID));
    }
}
