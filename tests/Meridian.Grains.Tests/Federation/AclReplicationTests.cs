using Xunit.Abstractions;
using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Meridian.Grains.Tests.Acl;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// ACL replication (issue 13 §4): policies, roles and non-local tokens follow the primary into every secondary through
/// the generic replicator, with the replication token on every call to the primary; a missing, wrong or narrow token
/// changes nothing locally and the status says why; fixing it converges within a round.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class AclReplicationTests(ITestOutputHelper output)
{
    private static AclSettings Settings(string? management = null, string? replication = null)
        => new()
        {
            Enabled = true, DefaultPolicy = AclDefaultPolicy.Deny, Hasher = new AclSecretHasher(AclClusterFixture.HashKey),
            InitialManagementToken = management, ReplicationToken = replication,
        };

    private static async Task<DatacenterCluster> StartSecondaryAsync(string name, DatacenterCluster primary, string? replicationToken, DatacenterStore? store = null)
    {
        var link = new TestPrimaryLink(primary.Name);
        link.PointTo(primary.GatewayClient);
        link.Connect();
        var settings = Settings(replication: replicationToken);
        return await DatacenterCluster.StartAsync(name, primary.Name, link, store, services: s => s.AddSingleton(settings));
    }

    // The documented replication policy, and a token holding it whose secret the test knows.
    private static async Task<string> CreateReplicationTokenAsync(IAclStoreGrain store, string rules = AclBuiltins.ReplicationPolicyRules, string name = "replication")
    {
        await store.SetPolicyAsync(new AclPolicyDto { Name = name, Rules = rules });
        var secret = Guid.NewGuid().ToString("D");
        await store.CreateTokenAsync(new AclTokenDto { SecretID = secret, Policies = [AclLinkDto.ByName(name)] });
        return secret;
    }

    private static IAclStoreGrain Store(DatacenterCluster dc) => dc.Client.GetGrain<IAclStoreGrain>(dc.Name);

    private static Task<ReplicationStatusDto> AclStatus(DatacenterCluster dc) => dc.Client.GetGrain<IAclReplicatorGrain>(dc.Name).GetStatusAsync();

    private static Task<ReplicationStatusDto> IntentionStatus(DatacenterCluster dc) => dc.Replicator.GetStatusAsync();

    private static string Describe(ReplicationStatusDto s)
        => $"{s.ReplicationType}: running {s.Running}, replicated {s.ReplicatedIndex}, primary {s.PrimaryIndex}, last success {s.LastSuccess:HH:mm:ss.fff}, " +
           $"last error {s.LastError:HH:mm:ss.fff} '{s.LastErrorMessage}' (now {DateTimeOffset.UtcNow:HH:mm:ss.fff})";

    private static async Task<bool> HasTokenAsync(DatacenterCluster dc, string accessor)
    {
        try
        {
            await Store(dc).GetTokenAsync(accessor);
            return true;
        }
        catch (MeridianNotFoundException)
        {
            return false;
        }
    }

    [Fact]
    public async Task GlobalAcls_ReplicateToEverySecondary_ResolveWithPrimaryDown_LocalTokensStayLocal()
    {
        var management = Guid.NewGuid().ToString("D");
        var dc1 = await DatacenterCluster.StartAsync("dc1", "dc1", services: s => s.AddSingleton(Settings(management)));
        var primary = Store(dc1);
        var replication = await CreateReplicationTokenAsync(primary);
        await using var dc2 = await StartSecondaryAsync("dc2", dc1, replication);
        await using var dc3 = await StartSecondaryAsync("dc3", dc1, replication);

        var policy = await primary.SetPolicyAsync(new AclPolicyDto { Name = "web-ops", Rules = "service \"web\" { policy = \"write\" }" });
        var role = await primary.SetRoleAsync(new AclRoleDto { Name = "db-reader", ServiceIdentities = [new("db", [])] });
        var global = await primary.CreateTokenAsync(new AclTokenDto { Policies = [AclLinkDto.ByName("web-ops")], Roles = [new(role.ID, role.Name)] });
        var local = await Store(dc2).CreateTokenAsync(new AclTokenDto { Local = true, ServiceIdentities = [new("api", [])] });
        var primaryLocal = await primary.CreateTokenAsync(new AclTokenDto { Local = true, ServiceIdentities = [new("cache", [])] });

        foreach (var dc in new[] { dc2, dc3 })
        {
            await Poll.UntilAsync(() => HasTokenAsync(dc, global.AccessorID), async () => Describe(await AclStatus(dc)));
            Assert.Equal(policy.ModifyIndex, (await Store(dc).GetPolicyAsync(policy.ID)).ModifyIndex);
            Assert.Equal(role.ID, (await Store(dc).GetRoleAsync(role.ID)).ID);
            // The secondary's silo resolves the secret from its own copy: the hash replicated as is.
            var caller = await dc.SiloServices.First().GetRequiredService<IAclAuthorizerSource>().ResolveAsync(global.SecretID);
            Assert.Equal(global.AccessorID, caller.AccessorId);
            Assert.True(caller.Authorizer.ServiceWrite("web").Allowed);
            Assert.True(caller.Authorizer.ServiceWrite("db").Allowed); // through the role's service identity
            Assert.False(caller.Authorizer.ServiceWrite("api").Allowed);
            Assert.False(await HasTokenAsync(dc, primaryLocal.AccessorID)); // the primary's local token stays there
            var status = await AclStatus(dc);
            Assert.Equal(("acl", true, "dc1"), (status.ReplicationType, status.Enabled, status.SourceDatacenter));
            Assert.True(status.ReplicatedIndex > 0, Describe(status));
        }
        Assert.False(await HasTokenAsync(dc3, local.AccessorID));
        Assert.False(await HasTokenAsync(dc1, local.AccessorID));

        // A delete in the primary flows as a delta; dc2's local token survives every round (and a snapshot's).
        await primary.DeleteRoleAsync(role.ID);
        await Poll.UntilAsync(async () => (await Store(dc2).ListRolesAsync()).All(r => r.ID != role.ID), async () => Describe(await AclStatus(dc2)));
        Assert.True(await HasTokenAsync(dc2, local.AccessorID));
        Assert.Contains(ReplicatedTypes(await dc2.Client.GetGrain<IDatacenterGrain>("dc2").GetStatusAsync()), n => n == "acl");

        // The primary is gone: the secondaries still resolve global tokens, including one never resolved before.
        var later = await primary.CreateTokenAsync(new AclTokenDto { Policies = [AclLinkDto.ByName("web-ops")] });
        await Poll.UntilAsync(() => HasTokenAsync(dc3, later.AccessorID), async () => Describe(await AclStatus(dc3)));
        await dc1.DisposeAsync();
        var afterDown = await dc3.SiloServices.First().GetRequiredService<IAclAuthorizerSource>().ResolveAsync(later.SecretID);
        Assert.Equal(later.AccessorID, afterDown.AccessorId);
        Assert.True(afterDown.Authorizer.ServiceWrite("web").Allowed);
        Assert.True(await HasTokenAsync(dc2, local.AccessorID));
    }

    [Fact]
    public async Task ReplicationToken_MissingWrongOrNarrow_DeletesNothing_StatusNamesPermission_FixedConvergesWithoutRestart()
    {
        var management = Guid.NewGuid().ToString("D");
        await using var dc1 = await DatacenterCluster.StartAsync("dc1", "dc1", services: s => s.AddSingleton(Settings(management)));
        var primary = Store(dc1);
        var good = await CreateReplicationTokenAsync(primary);
        // Everything the replication policy grants except intention:read on db (an exact rule beats the prefix one).
        var narrow = await CreateReplicationTokenAsync(primary,
            AclBuiltins.ReplicationPolicyRules + "\nservice \"db\" {\n  policy = \"read\"\n  intentions = \"deny\"\n}\n", "replication-narrow");
        await dc1.Registry.UpsertAsync(new() { SourceName = "web", DestinationName = "api", Action = "allow" });
        await dc1.Registry.UpsertAsync(new() { SourceName = "web", DestinationName = "db", Action = "allow" });
        var global = await primary.CreateTokenAsync(new AclTokenDto { ServiceIdentities = [new("web", [])] });

        // Started without a replication token (ACLs on): each loop waits quietly, asking nothing of the primary (whose
        // refusal of the anonymous token would otherwise be logged every round), and its status says what to set.
        await using var dc2 = await StartSecondaryAsync("dc2", dc1, replicationToken: null);
        var token = dc2.SiloServices.First().GetRequiredService<AclReplicationToken>();
        var local = await Store(dc2).CreateTokenAsync(new AclTokenDto { Local = true, ServiceIdentities = [new("api", [])] });
        const string waiting = "waiting for a replication token: ACLs are on in dc2 and Meridian:Acl:Tokens:Replication is not set";
        await Poll.UntilAsync(async () => (await AclStatus(dc2)).LastErrorMessage.StartsWith(waiting, StringComparison.Ordinal)
                && (await IntentionStatus(dc2)).LastErrorMessage.StartsWith(waiting, StringComparison.Ordinal),
            async () => $"{Describe(await AclStatus(dc2))}; {Describe(await IntentionStatus(dc2))}");
        var missing = await AclStatus(dc2);
        output.WriteLine($"no token: {Describe(missing)}; {Describe(await IntentionStatus(dc2))}");
        Assert.Contains("meridian acl token create --replication", missing.LastErrorMessage, StringComparison.Ordinal);
        Assert.Equal((0ul, DateTimeOffset.MinValue), (missing.PrimaryIndex, missing.LastSuccess)); // nothing was asked of dc1
        Assert.Contains("acl replication: waiting for a replication token", (await dc2.Client.GetGrain<IDatacenterGrain>("dc2").GetStatusAsync()).Degraded);
        // Still the one line, set once: a later write in the primary wakes nothing here.
        await dc1.Registry.UpsertAsync(new() { SourceName = "batch", DestinationName = "api", Action = "allow" });
        Assert.Equal((missing.LastError, missing.LastErrorMessage), ((await AclStatus(dc2)).LastError, (await AclStatus(dc2)).LastErrorMessage));
        Assert.False(await HasTokenAsync(dc2, global.AccessorID));
        Assert.True(await HasTokenAsync(dc2, local.AccessorID));
        Assert.Empty((await dc2.Registry.ListAsync()).Intentions);

        // The right token, set while the silo runs: the next round uses it and everything converges.
        token.Set(good);
        await Poll.UntilAsync(async () => await HasTokenAsync(dc2, global.AccessorID) && (await dc2.Registry.ListAsync()).Intentions.Length == 3,
            async () => $"{Describe(await AclStatus(dc2))}; {Describe(await IntentionStatus(dc2))}");
        var policiesBefore = (await Store(dc2).ListPoliciesAsync()).Length;

        // A wrong token: refused ("ACL not found"), and nothing held here is deleted.
        token.Set(Guid.NewGuid().ToString("D"));
        // Both loops refused (a round in flight when the token changed ends with the token it started with).
        await Poll.UntilAsync(async () => (await AclStatus(dc2)).LastErrorMessage.Contains("ACL not found")
                && (await IntentionStatus(dc2)).LastErrorMessage.Contains("ACL not found"),
            async () => $"{Describe(await AclStatus(dc2))}; {Describe(await IntentionStatus(dc2))}");
        Assert.DoesNotContain(token.Current!, (await AclStatus(dc2)).LastErrorMessage); // never the secret
        output.WriteLine($"wrong token: {Describe(await AclStatus(dc2))}");
        Assert.True(await HasTokenAsync(dc2, global.AccessorID));
        Assert.True(await HasTokenAsync(dc2, local.AccessorID));
        Assert.Equal(policiesBefore, (await Store(dc2).ListPoliciesAsync()).Length);
        Assert.Equal(3, (await dc2.Registry.ListAsync()).Intentions.Length);

        // A token lacking intention:read on db: ACLs replicate, the intention feed is filtered and deletes nothing,
        // and a change to db in the primary does not arrive; status names the permission.
        token.Set(narrow);
        await dc1.Registry.UpsertAsync(new() { SourceName = "admin", DestinationName = "db", Action = "allow" });
        await dc1.Registry.UpsertAsync(new() { SourceName = "admin", DestinationName = "api", Action = "allow" });
        await Poll.UntilAsync(async () => (await IntentionStatus(dc2)).LastErrorMessage.Contains("intention:read")
                && (await dc2.Registry.ListAsync()).Intentions.Any(i => i is { SourceName: "admin", DestinationName: "api" }),
            async () => Describe(await IntentionStatus(dc2)));
        var filtered = await dc2.Registry.ListAsync();
        output.WriteLine($"narrow token: {Describe(await AclStatus(dc2))}; {Describe(await IntentionStatus(dc2))}");
        var narrowed = await IntentionStatus(dc2);
        Assert.True(narrowed.LastError >= narrowed.LastSuccess, "a filtered round is not a success");
        Assert.Contains("replication token lacks intention:read", (await dc2.Client.GetGrain<IDatacenterGrain>("dc2").GetStatusAsync()).Degraded);
        Assert.Contains(filtered.Intentions, i => i is { SourceName: "web", DestinationName: "db" }); // not deleted
        Assert.DoesNotContain(filtered.Intentions, i => i is { SourceName: "admin", DestinationName: "db" }); // not readable
        Assert.True(await HasTokenAsync(dc2, local.AccessorID));

        // Fixed: the db change arrives within a round although it does not change again (a snapshot, not a delta).
        token.Set(good);
        await Poll.UntilAsync(async () => (await dc2.Registry.ListAsync()).Intentions.Any(i => i is { SourceName: "admin", DestinationName: "db" }),
            async () => Describe(await IntentionStatus(dc2)));
        await Poll.UntilAsync(async () => (await IntentionStatus(dc2)) is var f && f.LastSuccess > f.LastError, async () => Describe(await IntentionStatus(dc2)));
        output.WriteLine($"fixed: {Describe(await AclStatus(dc2))}; {Describe(await IntentionStatus(dc2))}");
        // Consul's status fields: the recovered error keeps its time and text; the later success is what says healthy.
        var recovered = await IntentionStatus(dc2);
        Assert.Contains("replication token lacks intention:read", recovered.LastErrorMessage, StringComparison.Ordinal);
        Assert.True(recovered.LastError > DateTimeOffset.MinValue && recovered.LastSuccess > recovered.LastError, Describe(recovered));
        Assert.DoesNotContain("intention replication", (await dc2.Client.GetGrain<IDatacenterGrain>("dc2").GetStatusAsync()).Degraded, StringComparison.Ordinal);
        Assert.True(await HasTokenAsync(dc2, local.AccessorID));
    }

    [Fact]
    public async Task RebuiltPrimary_AclRoundIsHeld_GlobalTokensKeepResolving_LocalTokensUntouched_UntilAdopted()
    {
        // The management secret doubles as the replication token: the rebuilt primary recreates it from the same setting.
        var management = Guid.NewGuid().ToString("D");
        var old = await DatacenterCluster.StartAsync("dc1", "dc1", services: s => s.AddSingleton(Settings(management)));
        await using var dc2 = await StartSecondaryAsync("dc2", old, management);
        await Store(old).SetPolicyAsync(new AclPolicyDto { Name = "web-ops", Rules = "service \"web\" { policy = \"write\" }" });
        var global = await Store(old).CreateTokenAsync(new AclTokenDto { Policies = [AclLinkDto.ByName("web-ops")] });
        var local = await Store(dc2).CreateTokenAsync(new AclTokenDto { Local = true, ServiceIdentities = [new("api", [])] });
        await Poll.UntilAsync(() => HasTokenAsync(dc2, global.AccessorID), async () => Describe(await AclStatus(dc2)));
        var applied = await Store(dc2).GetReplicationProgressAsync(); // written with the token (the status follows the round)

        // dc1's data is lost and it comes back with ACLs on: its built-ins and management token only, under a new epoch.
        await old.DisposeAsync();
        await using var rebuilt = await DatacenterCluster.StartAsync("dc1", "dc1", services: s => s.AddSingleton(Settings(management)));
        dc2.Link!.PointTo(rebuilt.GatewayClient);

        // Held: dc2 keeps its global ACLs (the token still resolves there), and status, degraded and adopt say why.
        ReplicationStatusDto status = new();
        await Poll.UntilAsync(async () => (status = await AclStatus(dc2)).Held is not null, () => Task.FromResult(Describe(status)));
        var held = status.Held!;
        output.WriteLine($"held: {held.Message}");
        Assert.Equal("primary-replaced", held.Reason);
        Assert.Equal((applied.Index, applied.Epoch), (held.AppliedIndex, held.AppliedEpoch));
        Assert.Contains("policy web-ops", held.DeleteNames);
        Assert.Contains($"token {global.AccessorID}", held.DeleteNames);
        Assert.DoesNotContain(held.DeleteNames.Concat(held.AddNames).Concat(held.ChangeNames), n => n.Contains(local.AccessorID, StringComparison.Ordinal));
        Assert.Contains("meridian replication adopt", status.LastErrorMessage, StringComparison.Ordinal);
        Assert.True(status.LastError > status.LastSuccess, Describe(status));
        Assert.True(await HasTokenAsync(dc2, global.AccessorID));
        var caller = await dc2.SiloServices.First().GetRequiredService<IAclAuthorizerSource>().ResolveAsync(global.SecretID);
        Assert.True(caller.Authorizer.ServiceWrite("web").Allowed);
        var overall = await dc2.Client.GetGrain<IDatacenterGrain>("dc2").GetStatusAsync();
        Assert.Contains("acl replication: held: primary replaced", overall.Degraded, StringComparison.Ordinal);
        Assert.Equal(held.Reason, overall.Replication.Single(r => r.ReplicationType == "acl").Held?.Reason);

        // The operator adopts (`meridian replication adopt`, through the gateway with an operator:write token): the
        // rebuilt primary's ACLs replace the global ones, once; dc2's local token stays.
        ReplicationAdoptResultDto adopted;
        using (CallerToken.Use(management))
            adopted = await dc2.GatewayClient.GetGrain<IDatacenterGrain>("dc2").AdoptPrimaryStateAsync();
        Assert.True(adopted.Adopted, adopted.Message);
        Assert.Equal(("acl", "primary-replaced"), (adopted.ReplicationType, adopted.Hold?.Reason));
        Assert.Equal(["intentions", "acl"], adopted.Types.Select(t => t.ReplicationType));
        Assert.False(await HasTokenAsync(dc2, global.AccessorID));
        Assert.True(await HasTokenAsync(dc2, local.AccessorID));
        Assert.DoesNotContain(await Store(dc2).ListPoliciesAsync(), p => p.Name == "web-ops");
        Assert.Null((await Store(dc2).GetReplicationProgressAsync()).Held);

        // Then the rebuilt primary's changes flow as usual.
        var later = await Store(rebuilt).CreateTokenAsync(new AclTokenDto { ServiceIdentities = [new("web", [])] });
        await Poll.UntilAsync(() => HasTokenAsync(dc2, later.AccessorID), async () => Describe(await AclStatus(dc2)));
        await Poll.UntilAsync(async () => (status = await AclStatus(dc2)).LastSuccess > status.LastError, () => Task.FromResult(Describe(status)));
        Assert.Null(status.Held);
        Assert.True(await HasTokenAsync(dc2, local.AccessorID));
    }

    [Fact]
    public async Task AclRounds_DeltaOfAnotherEpochRefused_IndexResetHeld_NothingChangedUntilAdopted()
    {
        // A secondary whose link never connects: the test plays the primary's answers, as the replicator would apply them.
        await using var dc2 = await DatacenterCluster.StartAsync("dc2", "dc1", new TestPrimaryLink("dc1"), services: s => s.AddSingleton(Settings()));
        var store = Store(dc2);
        const string X = "aaaaaaaa11111111", Y = "bbbbbbbb22222222";
        AclPolicyDto Policy(string id, string name, ulong index) => new() { ID = id, Name = name, Rules = "node_prefix \"\" { policy = \"read\" }", CreateIndex = index, ModifyIndex = index };
        var first = await store.ApplyReplicatedAsync(new AclChangesDto { Index = 9, Epoch = X, IsSnapshot = true, Policies = [Policy("p1", "ops", 3), Policy("p2", "dev", 4)] }, adoptPrimaryState: false);
        Assert.Null(first.Held);
        Assert.Equal(2, first.Changes);

        // A delta of another epoch (a poll raced with a primary replacement) is refused: it would merge two stores.
        var crossing = await Assert.ThrowsAsync<MeridianException>(() => store.ApplyReplicatedAsync(
            new AclChangesDto { Index = 10, Epoch = Y, DeletedKeys = ["policy/p1"] }, adoptPrimaryState: false));
        Assert.Contains("only a snapshot crosses epochs", crossing.Message, StringComparison.Ordinal);
        Assert.Equal((9ul, X), ((await store.GetReplicationProgressAsync()).Index, (await store.GetReplicationProgressAsync()).Epoch));

        // The same epoch at a lower index (a primary restored from an old backup) with changes: held, nothing applied.
        var reset = await store.ApplyReplicatedAsync(new AclChangesDto { Index = 4, Epoch = X, IsSnapshot = true, Policies = [Policy("p1", "ops", 3)] }, adoptPrimaryState: false);
        Assert.Equal("index-reset", reset.Held?.Reason);
        Assert.Contains("policy dev", reset.Held!.DeleteNames);
        Assert.Equal(["dev", "ops"], (await store.ListPoliciesAsync()).Select(p => p.Name).Where(n => n is "dev" or "ops").Order());

        // Adopted: applied once.
        var adopted = await store.ApplyReplicatedAsync(new AclChangesDto { Index = 4, Epoch = X, IsSnapshot = true, Policies = [Policy("p1", "ops", 3)] }, adoptPrimaryState: true);
        Assert.Null(adopted.Held);
        Assert.DoesNotContain(await store.ListPoliciesAsync(), p => p.Name == "dev");
        Assert.Equal(4ul, (await store.GetReplicationProgressAsync()).Index);
    }

    [Fact]
    public async Task FilteredIntentionRound_SecondaryRestarted_StatusStillNamesThePermission()
    {
        var management = Guid.NewGuid().ToString("D");
        await using var dc1 = await DatacenterCluster.StartAsync("dc1", "dc1", services: s => s.AddSingleton(Settings(management)));
        var narrow = await CreateReplicationTokenAsync(Store(dc1),
            AclBuiltins.ReplicationPolicyRules + "\nservice \"db\" {\n  policy = \"read\"\n  intentions = \"deny\"\n}\n", "replication-narrow");
        await dc1.Registry.UpsertAsync(new() { SourceName = "web", DestinationName = "db", Action = "allow" });
        var api = await dc1.Registry.UpsertAsync(new() { SourceName = "web", DestinationName = "api", Action = "allow" });
        var store = new DatacenterStore("dc2");
        await using (var dc2 = await StartSecondaryAsync("dc2", dc1, narrow, store))
        {
            await Poll.UntilAsync(async () => (await IntentionStatus(dc2)).LastErrorMessage.Contains("intention:read")
                    && (await dc2.Registry.ListAsync()).Intentions.Any(i => i.DestinationName == "api"),
                async () => Describe(await IntentionStatus(dc2)));
            Assert.True((await dc2.Registry.GetReplicationProgressAsync()).Filtered);
        }

        // Restarted on its store: before any round answers, the status names the permission the token lacks.
        await using var restarted = await StartSecondaryAsync("dc2", dc1, narrow, store);
        var resumed = await IntentionStatus(restarted);
        output.WriteLine($"restarted: {Describe(resumed)}");
        Assert.Contains("replication token lacks intention:read", resumed.LastErrorMessage, StringComparison.Ordinal);
        Assert.True(resumed.LastError > resumed.LastSuccess, Describe(resumed));

        // And after the restart's rounds (a change the token may read arrives), the answer is still filtered, and says so.
        var later = await dc1.Registry.UpsertAsync(new() { SourceName = "admin", DestinationName = "api", Action = "allow" });
        await Poll.UntilAsync(async () => (await IntentionStatus(restarted)).ReplicatedIndex >= later.Index, async () => Describe(await IntentionStatus(restarted)));
        var after = await IntentionStatus(restarted);
        Assert.Contains("replication token lacks intention:read", after.LastErrorMessage, StringComparison.Ordinal);
        Assert.True(after.LastError > after.LastSuccess, Describe(after));
        Assert.True(api.Index < later.Index);
    }

    private static IEnumerable<string> ReplicatedTypes(DatacenterStatusDto status) => status.Replication.Select(r => r.ReplicationType);
}
