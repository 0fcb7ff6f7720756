using System.Text.Json;
using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Meridian.Grains.Tests.Acl;

[Collection(AclClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class AclStoreGrainTests(AclClusterFixture fx)
{
    private IAclStoreGrain Store => fx.Store;

    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private Task<AclPolicyDto> PolicyAsync(string name, string rules = "service_prefix \"\" { policy = \"read\" }")
        => Store.SetPolicyAsync(new AclPolicyDto { Name = name, Rules = rules });

    [Fact]
    public async Task FirstActivation_CreatesBuiltinsAnonymousAndInitialManagement_SecretsHidden()
    {
        var policies = await Store.ListPoliciesAsync();
        Assert.Contains(policies, p => p.ID == AclBuiltins.GlobalManagementPolicyId && p.Name == "global-management");
        Assert.Contains(policies, p => p.ID == AclBuiltins.GlobalReadOnlyPolicyId && p.Name == "builtin/global-read-only");

        var tokens = await Store.ListTokensAsync();
        Assert.Contains(tokens, t => t.AccessorID == AclBuiltins.AnonymousTokenAccessorId && t.Description == "Anonymous Token");
        var initial = Assert.Single(tokens, t => t.Description == "Initial Management Token");
        Assert.Equal([AclBuiltins.GlobalManagementPolicyName], initial.Policies.Select(p => p.Name));
        Assert.All(tokens, t => Assert.Equal(AclTokenDto.HiddenSecret, t.SecretID));

        using (CallerToken.Use(fx.ManagementSecret))
            Assert.Equal(initial.AccessorID, (await Store.GetSelfAsync()).AccessorID);
    }

    [Fact]
    public async Task Bootstrap_AfterInitialManagement_RefusedWithConsulsTextAndResetIndex()
    {
        var ex = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => Store.BootstrapAsync());
        Assert.Matches(@"^Permission denied: ACL bootstrap no longer allowed \(reset index: [1-9][0-9]*\)$", ex.Message);
    }

    [Fact]
    public async Task Policy_CreateReadUpdateDelete_IndexesMove()
    {
        var name = Fresh("web-read");
        var created = await PolicyAsync(name);
        Assert.True(Guid.TryParse(created.ID, out _));
        Assert.Equal(created.CreateIndex, created.ModifyIndex);
        Assert.Equal(created, await Store.GetPolicyAsync(created.ID));
        Assert.Equal(created, await Store.GetPolicyAsync(null, name));

        var again = await Store.SetPolicyAsync(created with { CreateIndex = 0, ModifyIndex = 0 });
        Assert.Equal(created.ModifyIndex, again.ModifyIndex); // nothing changed: no new index

        var updated = await Store.SetPolicyAsync(created with { Description = "read all", Datacenters = ["dc1"] });
        Assert.Equal(created.CreateIndex, updated.CreateIndex);
        Assert.True(updated.ModifyIndex > created.ModifyIndex);
        Assert.Equal(["dc1"], updated.Datacenters.AsEnumerable());

        var deletedAt = await Store.DeletePolicyAsync(created.ID);
        Assert.True(deletedAt > updated.ModifyIndex);
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => Store.GetPolicyAsync(created.ID));
        Assert.Equal(deletedAt, await Store.DeletePolicyAsync(created.ID)); // deleting nothing is a no-op
    }

    [Fact]
    public async Task Policy_BadNameRulesAndDuplicate_EveryProblemNamedAndNothingWritten()
    {
        var name = Fresh("dup");
        await PolicyAsync(name);
        var before = (await Store.ListPoliciesAsync()).Length;

        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => Store.SetPolicyAsync(new AclPolicyDto
        {
            Name = name.ToUpperInvariant(), Rules = "service \"web\" { policy = \"wirte\" }", Datacenters = ["DC 1"],
        }));
        Assert.Contains(ex.Problems, p => p.Field == "Name" && p.Code == "duplicate" && p.Message.Contains("already exists", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Field == "Rules" && p.Message.StartsWith("Invalid service policy", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Field == "Datacenters[0]");
        Assert.Equal(before, (await Store.ListPoliciesAsync()).Length);
    }

    [Fact]
    public async Task BuiltinPolicy_RulesChangeAndDelete_Refused_NameChangeAllowed()
    {
        var builtin = await Store.GetPolicyAsync(AclBuiltins.GlobalReadOnlyPolicyId);
        var rules = await Assert.ThrowsAsync<MeridianValidationException>(() => Store.SetPolicyAsync(builtin with { Rules = "operator = \"write\"" }));
        Assert.Contains(rules.Problems, p => p.Message == "Changing the Rules for the builtin builtin/global-read-only policy is not permitted");
        var delete = await Assert.ThrowsAsync<MeridianValidationException>(() => Store.DeletePolicyAsync(AclBuiltins.GlobalManagementPolicyId));
        Assert.Contains(delete.Problems, p => p.Message == "Delete operation not permitted on the builtin global-management policy");
        var described = await Store.SetPolicyAsync(builtin with { Description = "read everything" });
        Assert.Equal("read everything", described.Description);
    }

    [Fact]
    public async Task Role_PolicyLinkByName_ResolvesToId_UnknownNamed()
    {
        var policy = await PolicyAsync(Fresh("p"));
        var role = await Store.SetRoleAsync(new AclRoleDto
        {
            Name = Fresh("role"), Policies = [AclLinkDto.ByName(policy.Name)], ServiceIdentities = [new("web", ["dc1"])],
        });
        Assert.Equal([new AclLinkDto(policy.ID, policy.Name)], role.Policies.AsEnumerable());
        Assert.Equal(role.ID, (await Store.GetRoleAsync(null, role.Name)).ID);

        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => Store.SetRoleAsync(new AclRoleDto
        {
            Name = Fresh("role"), Policies = [AclLinkDto.ByName("no-such-policy")],
        }));
        Assert.Contains(ex.Problems, p => p.Field == "Policies[0]" && p.Message == "No such ACL policy with name \"no-such-policy\"");
    }

    [Fact]
    public async Task Token_Create_SecretShownOnce_StoredOnlyAsHash()
    {
        var policy = await PolicyAsync(Fresh("p"));
        var created = await Store.CreateTokenAsync(new AclTokenDto
        {
            Description = "web token", Policies = [AclLinkDto.ByName(policy.Name)], ServiceIdentities = [new("web", [])],
        });
        Assert.True(Guid.TryParse(created.SecretID, out _), "the creation answer carries the SecretID");
        Assert.Equal([new AclLinkDto(policy.ID, policy.Name)], created.Policies.AsEnumerable());

        var read = await Store.GetTokenAsync(created.AccessorID);
        Assert.Equal(AclTokenDto.HiddenSecret, read.SecretID);
        Assert.Equal(("web token", created.CreateIndex), (read.Description, read.CreateIndex));
        Assert.DoesNotContain(await Store.ListTokensAsync(), t => t.SecretID == created.SecretID);

        // What storage holds: the keyed hash, never the secret.
        var stored = await ReadStoredStateAsync();
        var json = JsonSerializer.Serialize(stored);
        Assert.DoesNotContain(created.SecretID, json, StringComparison.Ordinal);
        Assert.DoesNotContain(fx.ManagementSecret, json, StringComparison.Ordinal);
        Assert.Equal(new AclSecretHasher(AclClusterFixture.HashKey).Hash(created.SecretID), stored.Tokens[created.AccessorID].SecretHash);
    }

    [Fact]
    public async Task Token_ChosenSecretInUse_AndUnknownLinks_Refused()
    {
        var secret = Guid.NewGuid().ToString("D");
        await Store.CreateTokenAsync(new AclTokenDto { SecretID = secret });
        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => Store.CreateTokenAsync(new AclTokenDto
        {
            SecretID = secret, Roles = [AclLinkDto.ByName("nope")], ExpirationTTL = TimeSpan.FromSeconds(5),
        }));
        Assert.Contains(ex.Problems, p => p.Field == "SecretID" && p.Message == "Invalid Token: SecretID is already in use");
        Assert.Contains(ex.Problems, p => p.Field == "Roles[0]" && p.Message == "No such ACL role with name \"nope\"");
        Assert.Contains(ex.Problems, p => p.Field == "ExpirationTTL");
        Assert.DoesNotContain(ex.Message, secret, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_Update_ReplacesLinks_KeepsSecretAndLocal()
    {
        var policy = await PolicyAsync(Fresh("p"));
        var created = await Store.CreateTokenAsync(new AclTokenDto { Description = "before", Local = true });
        var updated = await Store.UpdateTokenAsync(new AclTokenDto
        {
            AccessorID = created.AccessorID, Description = "after", Local = true, Policies = [AclLinkDto.ByName(policy.Name)],
        });
        Assert.Equal(("after", AclTokenDto.HiddenSecret, created.CreateTime), (updated.Description, updated.SecretID, updated.CreateTime));
        Assert.Equal([policy.ID], updated.Policies.Select(p => p.ID));
        Assert.True(updated.ModifyIndex > created.ModifyIndex);

        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => Store.UpdateTokenAsync(new AclTokenDto
        {
            AccessorID = created.AccessorID, SecretID = Guid.NewGuid().ToString("D"), Local = false,
        }));
        Assert.Contains(ex.Problems, p => p.Message == "Changing a token's SecretID is not permitted");
        Assert.Contains(ex.Problems, p => p.Message == $"Cannot toggle local mode of {created.AccessorID}");
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => Store.UpdateTokenAsync(new AclTokenDto { AccessorID = Guid.NewGuid().ToString("D") }));
    }

    [Fact]
    public async Task Token_DeleteOwnOrAnonymous_Refused_OtherDeleted()
    {
        var created = await Store.CreateTokenAsync(new AclTokenDto { Description = "short-lived" });
        using (CallerToken.Use(created.SecretID))
        {
            var own = await Assert.ThrowsAsync<MeridianValidationException>(() => Store.DeleteTokenAsync(created.AccessorID));
            Assert.Contains(own.Problems, p => p.Message == "Deletion of the request's authorization token is not permitted");
        }
        var anonymous = await Assert.ThrowsAsync<MeridianValidationException>(() => Store.DeleteTokenAsync(AclBuiltins.AnonymousTokenAccessorId));
        Assert.Contains(anonymous.Problems, p => p.Message == "Delete operation not permitted on the anonymous token");

        await Store.DeleteTokenAsync(created.AccessorID);
        await Assert.ThrowsAsync<MeridianNotFoundException>(() => Store.GetTokenAsync(created.AccessorID));
    }

    [Fact]
    public async Task Token_ExpirationTtl_SetsExpirationTime()
    {
        var created = await Store.CreateTokenAsync(new AclTokenDto { ExpirationTTL = TimeSpan.FromMinutes(10) });
        Assert.Equal(created.CreateTime + TimeSpan.FromMinutes(10), created.ExpirationTime);
        Assert.Null((await Store.GetTokenAsync(created.AccessorID)).ExpirationTTL);
    }

    [Fact]
    public async Task GetSelf_UnknownSecret_AclNotFound()
    {
        using (CallerToken.Use(Guid.NewGuid().ToString("D")))
        {
            var ex = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => Store.GetSelfAsync());
            Assert.Equal("ACL not found", ex.Message);
        }
    }

    [Fact]
    public async Task Store_AfterDeactivation_ReadsBackTheSameEntries()
    {
        var policy = await PolicyAsync(Fresh("p"));
        var token = await Store.CreateTokenAsync(new AclTokenDto { Policies = [new(policy.ID, "")] });
        var before = (await Store.ListTokensAsync(), await Store.ListPoliciesAsync());

        await fx.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var after = (await Store.ListTokensAsync(), await Store.ListPoliciesAsync());
        Assert.Equal(before.Item1.Select(t => (t.AccessorID, t.ModifyIndex)), after.Item1.Select(t => (t.AccessorID, t.ModifyIndex)));
        Assert.Equal(before.Item2.Select(p => (p.ID, p.ModifyIndex)), after.Item2.Select(p => (p.ID, p.ModifyIndex)));
        using (CallerToken.Use(token.SecretID))
            Assert.Equal(token.AccessorID, (await Store.GetSelfAsync()).AccessorID);
    }

    private async Task<AclStoreState> ReadStoredStateAsync()
    {
        var storage = fx.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(MeridianStorage.Name);
        var state = new GrainState<AclStoreState>();
        await storage.ReadStateAsync("acl", Store.GetGrainId(), state);
        Assert.True(state.RecordExists);
        return state.State!;
    }
}

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class AclDisabledTests(ClusterFixture fx)
{
    [Fact]
    public async Task Store_AclsOff_AnswersAclSupportDisabled()
    {
        var store = fx.GatewayClient.GetGrain<IAclStoreGrain>(ClusterFixture.Datacenter);
        var ex = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => store.ListTokensAsync());
        Assert.Equal("ACL support disabled", ex.Message);
        Assert.False(fx.SiloServices.First().GetRequiredService<IAclAuthorizerSource>().Enabled);
    }
}
