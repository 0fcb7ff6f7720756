using System.Collections.Immutable;
using Meridian.Core.Acl;
using Meridian.Core.Intentions;
using Meridian.Core.Validation;
using static Meridian.Core.Tests.Intentions.IntentionTestData;

namespace Meridian.Core.Tests.Intentions;

[Trait("Category", "Unit")]
public sealed class IntentionEvaluatorTests
{
    private const string Td = "11111111-2222-3333-4444-555555555555.consul";
    private static readonly IntentionDefault DenyByPolicy = new(false, true);
    private static readonly IntentionDefault AllowByPolicy = new(true, true);
    private static readonly IntentionDefault AllowByAcl = new(true, false);

    private static ImmutableArray<Intention> DbMatches(params ServiceIntentionsEntry[] entries)
        => IntentionMatcher.MatchByDestination(entries.Select(Valid), new ServiceSelector("default", "db"));

    // ------------------------------------------------------------------ defaults

    [Theory]
    [InlineData("allow", false, false, true, true)]
    [InlineData("allow", true, false, true, true)]
    [InlineData("deny", false, true, false, true)]
    [InlineData("deny", true, true, false, true)]
    [InlineData("", false, false, true, false)]
    [InlineData(null, false, false, true, false)]
    [InlineData("", true, true, true, false)]
    [InlineData("", true, false, false, false)]
    [InlineData(null, true, false, false, false)]
    public void ResolveDefault_PolicyAndAcls_PicksSource(string? policy, bool aclsEnabled, bool aclDefaultAllow, bool expectedAllow, bool fromPolicy)
        => Assert.Equal(new IntentionDefault(expectedAllow, fromPolicy), IntentionDefault.Resolve(policy, aclsEnabled, aclDefaultAllow));

    public static TheoryData<string?, AclDefaultPolicy?, bool, string> DefaultsWithAcls() => new()
    {
        // default_intention_policy, ACL default policy (null = ACLs off), allowed, reason with no intention matching
        { null, null, true, "Default behavior configured by ACLs" },
        { "", null, true, "Default behavior configured by ACLs" },
        { null, AclDefaultPolicy.Allow, true, "Default behavior configured by ACLs" },
        { null, AclDefaultPolicy.Deny, false, "Default behavior configured by ACLs" },
        { "", AclDefaultPolicy.Deny, false, "Default behavior configured by ACLs" },
        // default_intention_policy still overrides the ACL default, as in Consul
        { "allow", AclDefaultPolicy.Deny, true, "Default intention policy" },
        { "deny", AclDefaultPolicy.Allow, false, "Default intention policy" },
        { "deny", null, false, "Default intention policy" },
        { "allow", null, true, "Default intention policy" },
    };

    [Theory]
    [MemberData(nameof(DefaultsWithAcls))]
    public void ResolveDefault_AclDefaultPolicy_DecidesAuthorizeWithConsulsReason(string? policy, AclDefaultPolicy? acl, bool allowed, string reason)
    {
        var decision = IntentionEvaluator.Authorize(new AuthorizeRequest("db", $"spiffe://{Td}/ns/default/dc/dc1/svc/web"), [], "dc1",
            IntentionDefault.Resolve(policy, acl));
        Assert.Equal((allowed, reason), (decision.Allowed, decision.Reason));
    }

    [Theory]
    [InlineData("Allow")]
    [InlineData("block")]
    [InlineData(" deny")]
    public void ResolveDefault_UnsupportedPolicy_Throws(string policy)
    {
        var ex = Assert.Throws<DomainValidationException>(() => IntentionDefault.Resolve(policy, false, true));
        var p = Assert.Single(ex.Problems);
        Assert.Equal(("default_intention_policy", ValidationCodes.InvalidValue, $"Unsupported default intention policy: {policy}"), (p.Field, p.Code, p.Message));
    }

    // ------------------------------------------------------------------ decisions

    public static TheoryData<string, string, string, IntentionDefault, bool, IntentionDecisionKind, string?> DecisionCases() => new()
    {
        // exact deny beats wildcard allow
        { "web", "default", "", AllowByAcl, false, IntentionDecisionKind.MatchedL4, "web" },
        // wildcard name in namespace
        { "api", "default", "", DenyByPolicy, true, IntentionDecisionKind.MatchedL4, "*" },
        // L7 match is not allowed for L4 decisions
        { "admin", "default", "", AllowByAcl, false, IntentionDecisionKind.MatchedL7, "admin" },
        // other namespace: only */* matches (deny)
        { "api", "ops", "", AllowByAcl, false, IntentionDecisionKind.MatchedL4, "*" },
        // other partition: nothing matches -> every default combination
        { "web", "default", "p1", AllowByAcl, true, IntentionDecisionKind.DefaultAcl, null },
        { "web", "default", "p1", new IntentionDefault(false, false), false, IntentionDecisionKind.DefaultAcl, null },
        { "web", "default", "p1", AllowByPolicy, true, IntentionDecisionKind.DefaultIntentionPolicy, null },
        { "web", "default", "p1", DenyByPolicy, false, IntentionDecisionKind.DefaultIntentionPolicy, null },
    };

    [Theory]
    [MemberData(nameof(DecisionCases))]
    public void Decide_Source_FirstMatchWins(string name, string ns, string partition, IntentionDefault defaults,
        bool allowed, IntentionDecisionKind kind, string? matchedSource)
    {
        var sorted = DbMatches(
            Entry("db", Src("*"), Src("web", IntentionAction.Deny), L7("admin"), Src("*", IntentionAction.Deny, ns: "*")));
        var decision = IntentionEvaluator.Decide(sorted.AsSpan(), new IntentionSource(ns, name, partition), "dc1", defaults);
        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(kind, decision.Kind);
        Assert.Equal(matchedSource, decision.Matched?.SourceName);
    }

    [Fact]
    public void Decide_EmptyList_UsesDefault()
    {
        var decision = IntentionEvaluator.Decide([], new IntentionSource("default", "web"), null, DenyByPolicy);
        Assert.Equal((false, IntentionDecisionKind.DefaultIntentionPolicy, false, false, (string?)null), (decision.Allowed, decision.Kind, decision.HasExact, decision.HasPermissions, decision.ExternalSource));
        Assert.Null(decision.Matched);
    }

    [Theory]
    [InlineData("web", "db", true)]
    [InlineData("*", "db", false)]
    [InlineData("web", "*", false)]
    public void Decide_Match_ReportsHasExact(string src, string dst, bool hasExact)
    {
        var decision = IntentionEvaluator.Decide(DbMatches(Entry(dst, Src(src))).AsSpan(), new IntentionSource("default", "web"), null, DenyByPolicy);
        Assert.True(decision.Allowed);
        Assert.Equal(hasExact, decision.HasExact);
    }

    [Fact]
    public void Decide_L7Match_HasPermissionsAndExternalSource()
    {
        var entry = Entry("db", L7("web")) with { Meta = new Dictionary<string, string> { ["external-source"] = "kubernetes" } };
        var decision = IntentionEvaluator.Decide(DbMatches(entry).AsSpan(), new IntentionSource("default", "web"), null, AllowByPolicy);
        Assert.Equal((false, true, "kubernetes"), (decision.Allowed, decision.HasPermissions, decision.ExternalSource));
    }

    // ------------------------------------------------------------------ datacenter scope

    public static TheoryData<string?, string?, bool, string> DatacenterCases() => new()
    {
        // source dc, deciding dc, allowed, which rule
        { "dc1", "dc9", false, "web@dc1 deny" },
        { "dc2", "dc9", true, "web allow" },
        { null, "dc9", true, "web allow" },
        { "dc2", "dc3", false, "web dst dc3 deny" },
        { "dc1", "dc3", false, "web@dc1 deny" },
    };

    [Theory]
    [MemberData(nameof(DatacenterCases))]
    public void Decide_DatacenterScoped_AppliesOnlyInItsDatacenters(string? sourceDc, string? decidingDc, bool allowed, string rule)
    {
        var sorted = DbMatches(Entry("db",
            Src("web"),
            Src("web", IntentionAction.Deny, srcDc: "dc1"),
            Src("web", IntentionAction.Deny, dstDc: "dc3")));
        var decision = IntentionEvaluator.Decide(sorted.AsSpan(), new IntentionSource("default", "web", Datacenter: sourceDc), decidingDc, AllowByAcl);
        Assert.Equal(allowed, decision.Allowed);
        var m = decision.Matched!;
        Assert.Equal(rule, $"{m.SourceName}{(m.SourceDatacenter.Length > 0 ? "@" + m.SourceDatacenter : "")}{(m.DestinationDatacenter.Length > 0 ? " dst " + m.DestinationDatacenter : "")} {m.Action.ToString().ToLowerInvariant()}");
    }

    [Fact]
    public void Decide_ScopedWildcardAndUnscopedExact_PrecedenceStillWins()
    {
        var sorted = DbMatches(Entry("db", Src("web"), Src("*", IntentionAction.Deny, srcDc: "dc1")));
        var decision = IntentionEvaluator.Decide(sorted.AsSpan(), new IntentionSource("default", "web", Datacenter: "dc1"), "dc1", DenyByPolicy);
        Assert.True(decision.Allowed);
    }

    // ------------------------------------------------------------------ authorize

    public static TheoryData<string, bool, string> AuthorizeCases() => new()
    {
        { $"spiffe://{Td}/ns/default/dc/dc1/svc/web", true, "Matched L4 intention: default/web => default/db (Precedence: 9, Action: ALLOW)" },
        { $"spiffe://{Td}/ns/default/dc/dc1/svc/bad", false, "Matched L4 intention: default/* => default/db (Precedence: 8, Action: DENY)" },
        { $"spiffe://{Td}/ns/default/dc/dc1/svc/admin", false, "Matched L7 intention: default/admin => default/db (Precedence: 9, Permissions: 1)" },
        { $"spiffe://{Td}/ns/ops/dc/dc1/svc/web", true, "Default intention policy" },
        // the trust domain is deliberately not checked
        { "spiffe://other.consul/ns/default/dc/dc1/svc/web", true, "Matched L4 intention: default/web => default/db (Precedence: 9, Action: ALLOW)" },
    };

    [Theory]
    [MemberData(nameof(AuthorizeCases))]
    public void Authorize_ClientUri_AuthorizedWithReason(string uri, bool authorized, string reason)
    {
        var sorted = DbMatches(Entry("db", Src("web"), Src("*", IntentionAction.Deny), L7("admin")));
        var decision = IntentionEvaluator.Authorize(new AuthorizeRequest("db", uri), sorted.AsSpan(), "dc1", AllowByPolicy);
        Assert.Equal((authorized, reason), (decision.Allowed, decision.Reason));
    }

    [Theory]
    [InlineData(true, "Default behavior configured by ACLs")]
    [InlineData(false, "Default behavior configured by ACLs")]
    public void Authorize_NoMatchNoPolicy_ReasonIsAcls(bool aclAllow, string reason)
    {
        var decision = IntentionEvaluator.Authorize(new AuthorizeRequest("db", $"spiffe://{Td}/ns/default/dc/dc1/svc/web"), [], "dc1", new IntentionDefault(aclAllow, false));
        Assert.Equal((aclAllow, reason), (decision.Allowed, decision.Reason));
    }

    public static TheoryData<AuthorizeRequest, string, string, string> AuthorizeErrors() => new()
    {
        { new AuthorizeRequest("", $"spiffe://{Td}/ns/default/dc/dc1/svc/web"), "Target", ValidationCodes.Required, "Target service must be specified" },
        { new AuthorizeRequest("db", "not a uri"), "ClientCertURI", ValidationCodes.InvalidFormat, "ClientCertURI not a valid Connect identifier" },
        { new AuthorizeRequest("db", "https://example.com/ns/default/dc/dc1/svc/web"), "ClientCertURI", ValidationCodes.InvalidFormat, "ClientCertURI not a valid Connect identifier" },
        { new AuthorizeRequest("db", $"spiffe://{Td}/agent/client/dc/dc1/id/node1"), "ClientCertURI", ValidationCodes.InvalidValue, "ClientCertURI not a valid Service identifier" },
        { new AuthorizeRequest("db", $"spiffe://{Td}/gateway/mesh/dc/dc1"), "ClientCertURI", ValidationCodes.InvalidValue, "ClientCertURI not a valid Service identifier" },
        { new AuthorizeRequest("db", $"spiffe://{Td}/ap/p1/ns/default/dc/dc1/svc/web"), "Partition", ValidationCodes.InvalidValue, "Mismatched partitions: \"p1\" != \"default\"" },
        { new AuthorizeRequest("db", $"spiffe://{Td}/ns/default/dc/dc1/svc/web", Partition: "p2"), "Partition", ValidationCodes.InvalidValue, "Mismatched partitions: \"default\" != \"p2\"" },
        // The target and its namespace/partition follow the one name rule (the certificate API's).
        { new AuthorizeRequest("d b", $"spiffe://{Td}/ns/default/dc/dc1/svc/web"), "Target", ValidationCodes.InvalidFormat, "Target \"d b\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { new AuthorizeRequest("DB", $"spiffe://{Td}/ns/default/dc/dc1/svc/web"), "Target", ValidationCodes.InvalidFormat, "Target \"DB\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { new AuthorizeRequest("*", $"spiffe://{Td}/ns/default/dc/dc1/svc/web"), "Target", ValidationCodes.InvalidFormat, "Target \"*\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { new AuthorizeRequest("db", $"spiffe://{Td}/ns/default/dc/dc1/svc/web", Namespace: "Ops"), "Namespace", ValidationCodes.InvalidFormat, "Namespace \"Ops\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
    };

    [Fact]
    public void Authorize_BadTargetAndUri_ReportsBoth()
    {
        var ex = Assert.Throws<DomainValidationException>(() => IntentionEvaluator.Authorize(new AuthorizeRequest("db\x01", "nope"), [], "dc1", AllowByAcl));
        Assert.Equal(["Target", "ClientCertURI"], ex.Problems.Select(p => p.Field));
    }

    [Theory]
    [MemberData(nameof(AuthorizeErrors))]
    public void Authorize_BadRequest_ThrowsConsulError(AuthorizeRequest request, string field, string code, string message)
    {
        var ex = Assert.Throws<DomainValidationException>(() => IntentionEvaluator.Authorize(request, [], "dc1", AllowByAcl));
        var p = Assert.Single(ex.Problems);
        Assert.Equal((field, code, message), (p.Field, p.Code, p.Message));
    }

    [Theory]
    [InlineData("dc1", false, "Matched L4 intention: default/web@dc1 => default/db (Precedence: 9, Action: DENY)")]
    [InlineData("dc2", true, "Matched L4 intention: default/web => default/db (Precedence: 9, Action: ALLOW)")]
    public void Authorize_DatacenterScoped_UsesSpiffeDatacenter(string uriDc, bool authorized, string reason)
    {
        var sorted = DbMatches(Entry("db", Src("web"), Src("web", IntentionAction.Deny, srcDc: "dc1")));
        var decision = IntentionEvaluator.Authorize(new AuthorizeRequest("db", $"spiffe://{Td}/ns/default/dc/{uriDc}/svc/web"), sorted.AsSpan(), "dc1", AllowByAcl);
        Assert.Equal((authorized, reason), (decision.Allowed, decision.Reason));
    }

    // ------------------------------------------------------------------ check

    public static TheoryData<IntentionCheckRequest, bool> CheckCases() => new()
    {
        { new IntentionCheckRequest("default", "web", "default", "db"), true },
        { new IntentionCheckRequest("default", "web", "default", "db", "consul"), true },
        { new IntentionCheckRequest("default", "admin", "default", "db"), false },
        { new IntentionCheckRequest("default", "other", "default", "db"), false },
        { new IntentionCheckRequest("default", "other", "default", "cache"), true },
        { new IntentionCheckRequest("default", "web", "default", "db", SourceDatacenter: "dc1"), false },
    };

    [Theory]
    [MemberData(nameof(CheckCases))]
    public void Check_Request_ReturnsAllowed(IntentionCheckRequest request, bool allowed)
    {
        ServiceIntentionsEntry[] entries =
        [
            Valid(Entry("db", Src("web"), L7("admin"), Src("web", IntentionAction.Deny, srcDc: "dc1"))),
            Valid(Entry("*", Src("*", IntentionAction.Deny))),
            Valid(Entry("cache", Src("*"))),
        ];
        Assert.Equal(allowed, IntentionEvaluator.Check(entries, request, "dc1", AllowByAcl));
    }

    [Theory]
    [InlineData("external")]
    [InlineData("Consul")]
    public void Check_UnsupportedSourceType_Throws(string sourceType)
    {
        var ex = Assert.Throws<DomainValidationException>(() =>
            IntentionEvaluator.Check(Array.Empty<ServiceIntentionsEntry>(), new IntentionCheckRequest("default", "web", "default", "db", sourceType), null, AllowByAcl));
        Assert.Equal($"unsupported SourceType: \"{sourceType}\"", Assert.Single(ex.Problems).Message);
    }

    // ------------------------------------------------------------------ string form

    public static TheoryData<Intention, string> StringForms() => new()
    {
        { Flat("default", "web", "default", "db"), "default/web => default/db (Precedence: 9, Action: ALLOW)" },
        { Flat("default", "*", "default", "db", IntentionAction.Deny), "default/* => default/db (Precedence: 8, Action: DENY)" },
        { Flat("*", "*", "*", "*", IntentionAction.Deny), "*/* => */* (Precedence: 1, Action: DENY)" },
        { Flat("default", "web", "default", "db") with { ID = "8f2a-1" }, "default/web => default/db (ID: 8f2a-1, Precedence: 9, Action: ALLOW)" },
        { Valid(Entry("db", L7("web"))).ToIntentions()[0], "default/web => default/db (Precedence: 9, Permissions: 1)" },
        { Flat("default", "web", "default", "db") with { ID = "x", Action = IntentionAction.Unset, Permissions = [new(), new()] }, "default/web => default/db (ID: x, Precedence: 9, Permissions: 2)" },
        { Flat("default", "web", "default", "db") with { SourcePartition = "p1", DestinationPartition = "p2" }, "p1/default/web => p2/default/db (Precedence: 9, Action: ALLOW)" },
        { Flat("default", "web", "default", "db") with { SourcePartition = "default", DestinationPartition = "" }, "default/web => default/db (Precedence: 9, Action: ALLOW)" },
        { Flat("ops", "web", "default", "db", srcDc: "dc1", dstDc: "dc2"), "ops/web@dc1 => default/db@dc2 (Precedence: 9, Action: ALLOW)" },
    };

    [Theory]
    [MemberData(nameof(StringForms))]
    public void ToString_Intention_IsConsulHumanForm(Intention intention, string expected) => Assert.Equal(expected, intention.ToString());
}
