using Meridian.Core.Acl;

namespace Meridian.Core.Tests.Acl;

[Trait("Category", "Unit")]
public sealed class AclAuthorizerTests
{
    private static AclAuthorizer Authz(AclDefaultPolicy defaultPolicy, params string[] policies) =>
        AclAuthorizer.Create(policies.Select(p => AclRulesParser.ParseOrThrow(p)), defaultPolicy);

    private static AclAuthorizer Deny(params string[] policies) => Authz(AclDefaultPolicy.Deny, policies);

    // ------------------------------------------------------------------ precedence within one name and across names

    public static TheoryData<string[], string, bool, bool> ServiceCases() => new()
    {
        // policies, service, read?, write?
        // Exact beats every prefix, even a prefix deny.
        { ["service_prefix \"\" { policy = \"deny\" }\nservice \"web\" { policy = \"read\" }"], "web", true, false },
        { ["service_prefix \"web\" { policy = \"write\" }\nservice \"web\" { policy = \"deny\" }"], "web", false, false },
        // Longest prefix wins, whichever way it points.
        { ["service_prefix \"\" { policy = \"write\" }\nservice_prefix \"web\" { policy = \"deny\" }"], "web-1", false, false },
        { ["service_prefix \"\" { policy = \"deny\" }\nservice_prefix \"we\" { policy = \"read\" }\nservice_prefix \"web\" { policy = \"write\" }"], "web-1", true, true },
        { ["service_prefix \"\" { policy = \"deny\" }\nservice_prefix \"we\" { policy = \"read\" }\nservice_prefix \"web\" { policy = \"write\" }"], "wex", true, false },
        { ["service_prefix \"\" { policy = \"deny\" }\nservice_prefix \"web\" { policy = \"write\" }"], "db", false, false },
        // A prefix is a plain string prefix, not a path segment; an exact rule does not cover longer names.
        { ["service_prefix \"web\" { policy = \"write\" }"], "webhook", true, true },
        { ["service \"web\" { policy = \"write\" }"], "web-1", false, false },
        // Merging policies: deny > write > read for the same name...
        { ["service \"web\" { policy = \"write\" }", "service \"web\" { policy = \"deny\" }"], "web", false, false },
        { ["service \"web\" { policy = \"read\" }", "service \"web\" { policy = \"write\" }"], "web", true, true },
        { ["service_prefix \"\" { policy = \"read\" }", "service_prefix \"\" { policy = \"write\" }"], "any", true, true },
        // ...but only for the same name and form: a deny elsewhere does not override.
        { ["service_prefix \"\" { policy = \"deny\" }", "service \"web\" { policy = \"write\" }"], "web", true, true },
        { ["service \"web\" { policy = \"deny\" }", "service_prefix \"web\" { policy = \"write\" }"], "web", false, false },
        { ["service \"web\" { policy = \"deny\" }", "service_prefix \"web\" { policy = \"write\" }"], "web-2", true, true },
        // Two blocks for one name inside a single policy merge the same way.
        { ["service \"web\" { policy = \"write\" }\nservice \"web\" { policy = \"deny\" }"], "web", false, false },
        { ["service \"web\" { policy = \"read\" }\nservice \"web\" { policy = \"write\" }"], "web", true, true },
        // No rule: the default policy (deny here).
        { ["node_prefix \"\" { policy = \"write\" }"], "web", false, false },
        { [], "web", false, false },
    };

    [Theory]
    [MemberData(nameof(ServiceCases))]
    public void Service_Rules_PrecedenceAsConsul(string[] policies, string service, bool read, bool write)
    {
        // Policies are a set: the answer must not depend on the order they are linked in.
        foreach (var authz in new[] { Deny(policies), Deny([.. policies.Reverse()]) })
            Assert.Equal((read, write), (authz.ServiceRead(service).Allowed, authz.ServiceWrite(service).Allowed));
    }

    [Fact]
    public void Create_PolicyOrder_DoesNotMatter()
    {
        string[] policies = ["service \"web\" { policy = \"deny\" }", "service \"web\" { policy = \"write\" }", "service_prefix \"\" { policy = \"read\" }"];

        var forward = Deny(policies);
        var backward = Deny([.. policies.Reverse()]);

        Assert.False(forward.ServiceRead("web").Allowed);
        Assert.Equal(forward.ServiceRead("web"), backward.ServiceRead("web"));
        Assert.Equal(forward.ServiceRead("db"), backward.ServiceRead("db"));
    }

    // ------------------------------------------------------------------ enforcement of each level

    public static TheoryData<string, bool, bool, bool> KeyLevels() => new()
    {
        // level, read, list, write (Consul's enforce(): write ⊇ list ⊇ read)
        { "write", true, true, true },
        { "list", true, true, false },
        { "read", true, false, false },
        { "deny", false, false, false },
    };

    [Theory]
    [MemberData(nameof(KeyLevels))]
    public void Key_Level_GrantsWhatConsulGrants(string level, bool read, bool list, bool write)
    {
        var authz = Authz(AclDefaultPolicy.Allow, $"key_prefix \"app/\" {{ policy = \"{level}\" }}");

        Assert.Equal((read, list, write), (authz.KeyRead("app/x").Allowed, authz.KeyList("app/x").Allowed, authz.KeyWrite("app/x").Allowed));
        Assert.True(authz.KeyWrite("other").Allowed); // outside the rule, default allow
    }

    [Fact]
    public void Merge_KeyListAndRead_ListWins()
    {
        var authz = Deny("key \"k\" { policy = \"read\" }", "key \"k\" { policy = \"list\" }");

        Assert.True(authz.KeyList("k").Allowed);
        Assert.False(authz.KeyWrite("k").Allowed);
    }

    // ------------------------------------------------------------------ default policy

    [Theory]
    [InlineData(AclDefaultPolicy.Allow, true)]
    [InlineData(AclDefaultPolicy.Deny, false)]
    public void NoMatchingRule_DefaultPolicyDecides(AclDefaultPolicy defaultPolicy, bool allowed)
    {
        var authz = Authz(defaultPolicy, "service \"web\" { policy = \"read\" }");

        foreach (var decision in new[] { authz.ServiceWrite("db"), authz.NodeRead("n1"), authz.OperatorWrite(), authz.AclRead(), authz.KeyWrite("k"), authz.QueryRead("q"), authz.AgentRead("a"), authz.SessionWrite("s"), authz.EventRead("e"), authz.KeyringRead(), authz.PeeringWrite(), authz.MeshRead() })
        {
            Assert.Equal(allowed, decision.Allowed);
            Assert.False(decision.ByRule);
        }
    }

    [Fact]
    public void MatchingRule_OverridesDefaultAllow()
    {
        var authz = Authz(AclDefaultPolicy.Allow, "service \"web\" { policy = \"read\" }\noperator = \"deny\"");

        Assert.False(authz.ServiceWrite("web").Allowed);
        Assert.True(authz.ServiceWrite("web").ByRule);
        Assert.False(authz.OperatorRead().Allowed);
    }

    [Fact]
    public void DefaultOnly_NoRules_AnswersDefault()
    {
        Assert.True(AclAuthorizer.DefaultOnly(AclDefaultPolicy.Allow).OperatorWrite().Allowed);
        Assert.False(AclAuthorizer.DefaultOnly(AclDefaultPolicy.Deny).ServiceRead("web").Allowed);
    }

    // ------------------------------------------------------------------ unlabelled resources

    public static TheoryData<string[], bool, bool> OperatorCases() => new()
    {
        { ["operator = \"read\""], true, false },
        { ["operator = \"write\""], true, true },
        { ["operator = \"write\"", "operator = \"deny\""], false, false },
        { ["operator = \"read\"", "operator = \"write\""], true, true },
        { ["acl = \"write\""], false, false },
    };

    [Theory]
    [MemberData(nameof(OperatorCases))]
    public void Operator_MergedLevels_Decide(string[] policies, bool read, bool write)
    {
        foreach (var authz in new[] { Deny(policies), Deny([.. policies.Reverse()]) })
            Assert.Equal((read, write), (authz.OperatorRead().Allowed, authz.OperatorWrite().Allowed));
    }

    [Theory]
    [InlineData("operator = \"write\"", true)]
    [InlineData("operator = \"write\"\nmesh = \"read\"", false)]
    [InlineData("operator = \"read\"\nmesh = \"write\"", true)]
    public void MeshWrite_NoMeshRule_FallsBackToOperator(string rules, bool allowed)
    {
        Assert.Equal(allowed, Deny(rules).MeshWrite().Allowed);
    }

    // ------------------------------------------------------------------ intentions

    public static TheoryData<string[], bool, bool> IntentionCases() => new()
    {
        // policies on "web", intention read?, intention write?
        // Derived from policy when intentions is absent: read/write -> read, deny -> deny.
        { ["service \"web\" { policy = \"write\" }"], true, false },
        { ["service \"web\" { policy = \"read\" }"], true, false },
        { ["service \"web\" { policy = \"deny\" }"], false, false },
        // Written explicitly: used as is, independent of policy.
        { ["service \"web\" { policy = \"read\" intentions = \"write\" }"], true, true },
        { ["service \"web\" { policy = \"write\" intentions = \"deny\" }"], false, false },
        { ["service \"web\" { policy = \"deny\" intentions = \"read\" }"], true, false },
        { ["service_prefix \"\" { policy = \"read\" intentions = \"write\" }"], true, true },
        // Merged before derived: the explicit "write" of one policy is not overridden by the other's derived "read".
        { ["service \"web\" { policy = \"write\" }", "service \"web\" { policy = \"read\" intentions = \"write\" }"], true, true },
        // A merged deny policy with no explicit intentions anywhere derives deny.
        { ["service \"web\" { policy = \"write\" }", "service \"web\" { policy = \"deny\" }"], false, false },
        // Intentions merge on their own: deny beats write.
        { ["service \"web\" { policy = \"write\" intentions = \"write\" }", "service \"web\" { policy = \"write\" intentions = \"deny\" }"], false, false },
        // Exact service rule beats the prefix one for intentions as well.
        { ["service_prefix \"\" { policy = \"write\" intentions = \"write\" }\nservice \"web\" { policy = \"read\" }"], true, false },
        // No service rule: default (deny).
        { ["operator = \"write\""], false, false },
    };

    [Theory]
    [MemberData(nameof(IntentionCases))]
    public void Intention_RulesAndDerivation_AsConsul(string[] policies, bool read, bool write)
    {
        foreach (var authz in new[] { Deny(policies), Deny([.. policies.Reverse()]) })
            Assert.Equal((read, write), (authz.IntentionRead("web").Allowed, authz.IntentionWrite("web").Allowed));
    }

    public static TheoryData<string, AclDefaultPolicy, bool, bool> WildcardIntentionCases() => new()
    {
        // rules, default, intention read "*", intention write "*"
        { "service \"web\" { policy = \"read\" }", AclDefaultPolicy.Deny, true, false },
        { "service_prefix \"\" { policy = \"deny\" }\nservice \"web\" { policy = \"read\" }", AclDefaultPolicy.Allow, true, false },
        { "service_prefix \"\" { policy = \"deny\" }", AclDefaultPolicy.Allow, false, false },
        { "service_prefix \"\" { policy = \"write\" intentions = \"write\" }", AclDefaultPolicy.Deny, true, true },
        { "service_prefix \"\" { policy = \"write\" intentions = \"write\" }\nservice \"db\" { policy = \"write\" }", AclDefaultPolicy.Deny, true, false },
        // Every rule allows write but nothing covers the other names: the default policy decides.
        { "service \"web\" { policy = \"write\" intentions = \"write\" }", AclDefaultPolicy.Deny, true, false },
        { "service \"web\" { policy = \"write\" intentions = \"write\" }", AclDefaultPolicy.Allow, true, true },
        { "operator = \"read\"", AclDefaultPolicy.Allow, true, true },
        { "operator = \"read\"", AclDefaultPolicy.Deny, false, false },
    };

    [Theory]
    [MemberData(nameof(WildcardIntentionCases))]
    public void IntentionWildcard_AnyForReadEveryForWrite(string rules, AclDefaultPolicy defaultPolicy, bool read, bool write)
    {
        var authz = Authz(defaultPolicy, rules);

        Assert.Equal((read, write), (authz.IntentionRead("*").Allowed, authz.IntentionWrite("*").Allowed));
    }

    [Theory]
    [InlineData("service_prefix \"\" { policy = \"read\" }", true)]
    [InlineData("service_prefix \"\" { policy = \"read\" }\nservice \"secret\" { policy = \"deny\" }", false)]
    [InlineData("service \"web\" { policy = \"read\" }", false)]
    public void ServiceReadAll_EveryRuleMustAllow(string rules, bool allowed)
    {
        Assert.Equal(allowed, Deny(rules).ServiceReadAll().Allowed);
    }

    // ------------------------------------------------------------------ built-ins and identities

    [Fact]
    public void GlobalManagement_DefaultDeny_AllowsEverything()
    {
        var authz = AclAuthorizer.Create([AclRulesParser.ParseOrThrow(AclBuiltins.GlobalManagement.Rules)], AclDefaultPolicy.Deny);

        Assert.All(
            new[]
            {
                authz.AclWrite(), authz.OperatorWrite(), authz.MeshWrite(), authz.KeyringWrite(), authz.PeeringWrite(),
                authz.ServiceWrite("any"), authz.IntentionWrite("any"), authz.IntentionWrite("*"), authz.NodeWrite("n"),
                authz.AgentWrite("a"), authz.KeyWrite("k"), authz.KeyList("k"), authz.SessionWrite("s"),
                authz.EventWrite("e"), authz.QueryWrite("q"), authz.ServiceReadAll(), authz.NodeReadAll(),
            },
            d => Assert.True(d.Allowed, d.Permission));
    }

    [Fact]
    public void ReplicationPolicy_DefaultDeny_GrantsExactlyWhatReplicationNeeds()
    {
        var authz = AclAuthorizer.Create([AclRulesParser.ParseOrThrow(AclBuiltins.ReplicationPolicyRules)], AclDefaultPolicy.Deny);

        Assert.All(new[] { authz.AclWrite(), authz.OperatorWrite(), authz.ServiceRead("web"), authz.IntentionRead("web"), authz.IntentionRead("*") },
            d => Assert.True(d.Allowed, d.Permission));
        Assert.All(new[] { authz.ServiceWrite("web"), authz.IntentionWrite("web"), authz.NodeRead("n"), authz.KeyRead("k") },
            d => Assert.False(d.Allowed, d.Permission));
    }

    [Fact]
    public void GlobalReadOnly_DefaultAllow_ReadsButNeverWrites()
    {
        var authz = AclAuthorizer.Create([AclRulesParser.ParseOrThrow(AclBuiltins.GlobalReadOnly.Rules)], AclDefaultPolicy.Allow);

        Assert.All(new[] { authz.AclRead(), authz.OperatorRead(), authz.ServiceRead("x"), authz.IntentionRead("x"), authz.KeyRead("k") },
            d => Assert.True(d.Allowed, d.Permission));
        Assert.All(new[] { authz.AclWrite(), authz.OperatorWrite(), authz.ServiceWrite("x"), authz.IntentionWrite("x"), authz.KeyWrite("k") },
            d => Assert.False(d.Allowed, d.Permission));
    }

    public static TheoryData<string, bool, bool> ServiceIdentityCases() => new()
    {
        // service, read, write — for identity "web" under default deny
        { "web", true, true },
        { "web-sidecar-proxy", true, true },
        { "db", true, false },
        { "web-2", true, false },
    };

    [Theory]
    [MemberData(nameof(ServiceIdentityCases))]
    public void ServiceIdentity_SyntheticPolicy_WritesOwnServiceAndSidecarReadsAll(string service, bool read, bool write)
    {
        var authz = AclAuthorizer.Create([new AclServiceIdentity("web").ToRules()], AclDefaultPolicy.Deny);

        Assert.Equal((read, write), (authz.ServiceRead(service).Allowed, authz.ServiceWrite(service).Allowed));
        Assert.True(authz.NodeRead("any-node").Allowed);
        Assert.False(authz.NodeWrite("any-node").Allowed);
        Assert.False(authz.OperatorRead().Allowed);
    }

    [Fact]
    public void NodeIdentity_SyntheticPolicy_WritesOwnNodeReadsServices()
    {
        var authz = AclAuthorizer.Create([new AclNodeIdentity("node-1", "dc1").ToRules()], AclDefaultPolicy.Deny);

        Assert.True(authz.NodeWrite("node-1").Allowed);
        Assert.False(authz.NodeRead("node-2").Allowed);
        Assert.True(authz.ServiceRead("web").Allowed);
        Assert.False(authz.ServiceWrite("web").Allowed);
    }

    // ------------------------------------------------------------------ decisions and their text

    [Fact]
    public void Decision_Denied_NamesPermissionAndAccessor()
    {
        var d = Deny("service \"web\" { policy = \"read\" }").ServiceWrite("web");

        Assert.Equal("service:write", d.Permission);
        Assert.Equal("Permission denied: token with AccessorID 'a1b2' lacks permission 'service:write' on \"web\"", d.DeniedMessage("a1b2"));
    }

    [Theory]
    [InlineData(AclResource.Intention, AclAccess.Read, "web", "Permission denied: token with AccessorID 'id' lacks permission 'intention:read' on \"web\"")]
    [InlineData(AclResource.Operator, AclAccess.Write, null, "Permission denied: token with AccessorID 'id' lacks permission 'operator:write'")]
    [InlineData(AclResource.Acl, AclAccess.Read, null, "Permission denied: token with AccessorID 'id' lacks permission 'acl:read'")]
    [InlineData(AclResource.Key, AclAccess.List, "app/", "Permission denied: token with AccessorID 'id' lacks permission 'key:list' on \"app/\"")]
    public void Check_Denied_ConsulText(AclResource resource, AclAccess access, string? name, string message)
    {
        var d = AclAuthorizer.DefaultOnly(AclDefaultPolicy.Deny).Check(resource, access, name);

        Assert.False(d.Allowed);
        Assert.Equal(message, d.DeniedMessage("id"));
    }

    [Fact]
    public void Decision_AnonymousToken_ConsulAnonymousText()
    {
        var d = AclAuthorizer.DefaultOnly(AclDefaultPolicy.Deny).ServiceWrite("web");

        Assert.Equal(
            "Permission denied: anonymous token lacks permission 'service:write' on \"web\". The anonymous token is used implicitly when a request does not specify a token.",
            d.DeniedMessage(AclBuiltins.AnonymousTokenAccessorId));
    }

    [Theory]
    [InlineData(AclResource.Service, AclAccess.Write, "web")]
    [InlineData(AclResource.Intention, AclAccess.Read, "web")]
    [InlineData(AclResource.Intention, AclAccess.Write, "*")]
    [InlineData(AclResource.Operator, AclAccess.Read, null)]
    [InlineData(AclResource.Mesh, AclAccess.Write, null)]
    [InlineData(AclResource.Key, AclAccess.List, "k")]
    public void Check_ByResource_SameAnswerAsNamedMethod(AclResource resource, AclAccess access, string? name)
    {
        var authz = Authz(AclDefaultPolicy.Deny, "service \"web\" { policy = \"read\" intentions = \"write\" }\noperator = \"write\"\nkey \"k\" { policy = \"list\" }");
        var named = (resource, access) switch
        {
            (AclResource.Service, _) => authz.ServiceWrite(name!),
            (AclResource.Intention, AclAccess.Read) => authz.IntentionRead(name!),
            (AclResource.Intention, _) => authz.IntentionWrite(name!),
            (AclResource.Operator, _) => authz.OperatorRead(),
            (AclResource.Mesh, _) => authz.MeshWrite(),
            _ => authz.KeyList(name!),
        };

        Assert.Equal(named, authz.Check(resource, access, name));
    }
}
