using System.Collections.Immutable;
using Meridian.Core.Acl;

namespace Meridian.Core.Tests.Acl;

[Trait("Category", "Unit")]
public sealed class AclTokenResolverTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static readonly AclPolicy WebWrite = new() { ID = "p-web", Name = "web-write", Rules = "service \"web\" { policy = \"write\" }" };
    private static readonly AclPolicy OperatorRead = new() { ID = "p-op", Name = "op-read", Rules = "operator = \"read\"" };
    private static readonly AclPolicy DbInDc2 = new() { ID = "p-db", Name = "db-dc2", Rules = "service \"db\" { policy = \"write\" }", Datacenters = ["dc2"] };
    private static readonly AclPolicy WebDeny = new() { ID = "p-deny", Name = "web-deny", Rules = "service \"web\" { policy = \"deny\" }" };

    private static readonly AclRole OpsRole = new()
    {
        ID = "r-ops", Name = "ops",
        Policies = [new("p-op", "op-read")],
        ServiceIdentities = [new AclServiceIdentity("api")],
    };

    private static readonly Dictionary<string, AclPolicy> Policies = new[] { WebWrite, OperatorRead, DbInDc2, WebDeny, AclBuiltins.GlobalManagement }.ToDictionary(p => p.ID);
    private static readonly Dictionary<string, AclRole> Roles = new[] { OpsRole }.ToDictionary(r => r.ID);

    private static AclToken Token(Func<AclToken, AclToken>? edit = null)
    {
        var t = new AclToken { AccessorID = "6a1c2e8f-0b5f-4a57-9d0e-6f1b2d3c4e5f", SecretHash = "hmac-sha256:00", CreateTime = Now.AddHours(-1) };
        return edit is null ? t : edit(t);
    }

    private static AclAuthorizer? Resolve(AclToken token, string dc = "dc1", DateTimeOffset? now = null) =>
        AclTokenResolver.Resolve(token, id => Policies.GetValueOrDefault(id), id => Roles.GetValueOrDefault(id), dc, AclDefaultPolicy.Deny, now ?? Now);

    [Fact]
    public void Resolve_LinkedPolicy_Grants()
    {
        var authz = Resolve(Token(t => t with { Policies = [new("p-web", "web-write")] }))!;

        Assert.True(authz.ServiceWrite("web").Allowed);
        Assert.False(authz.ServiceWrite("db").Allowed);
    }

    [Fact]
    public void Resolve_PoliciesFromTokenAndRole_Merged()
    {
        var authz = Resolve(Token(t => t with { Policies = [new("p-web", "")], Roles = [new("r-ops", "ops")] }))!;

        Assert.True(authz.ServiceWrite("web").Allowed);     // token policy
        Assert.True(authz.OperatorRead().Allowed);          // role policy
        Assert.True(authz.ServiceWrite("api").Allowed);     // role service identity
        Assert.True(authz.ServiceRead("anything").Allowed); // identity's service_prefix "" read
    }

    [Fact]
    public void Resolve_DenyInRoleAndWriteOnToken_DenyWins()
    {
        var denyRole = OpsRole with { ID = "r-deny", Policies = [new("p-deny", "web-deny")], ServiceIdentities = [] };
        var authz = AclTokenResolver.Resolve(Token(t => t with { Policies = [new("p-web", "")], Roles = [new("r-deny", "")] }),
            id => Policies.GetValueOrDefault(id), id => id == "r-deny" ? denyRole : null, "dc1", AclDefaultPolicy.Allow, Now)!;

        Assert.False(authz.ServiceRead("web").Allowed);
    }

    [Theory]
    [InlineData("dc1", false)]
    [InlineData("dc2", true)]
    public void Resolve_PolicyWithDatacenters_OnlyThere(string dc, bool allowed)
    {
        var authz = Resolve(Token(t => t with { Policies = [new("p-db", "db-dc2")] }), dc)!;

        Assert.Equal(allowed, authz.ServiceWrite("db").Allowed);
    }

    public static TheoryData<string[], string, bool> ServiceIdentityDcCases() => new()
    {
        // identity datacenters, resolving datacenter, web writable
        { [], "dc1", true },
        { [], "dc3", true },
        { ["dc1", "dc2"], "dc1", true },
        { ["dc1", "dc2"], "dc2", true },
        { ["dc1", "dc2"], "dc3", false },
    };

    [Theory]
    [MemberData(nameof(ServiceIdentityDcCases))]
    public void Resolve_ServiceIdentity_LimitedToItsDatacenters(string[] datacenters, string dc, bool allowed)
    {
        var authz = Resolve(Token(t => t with { ServiceIdentities = [new AclServiceIdentity("web", [.. datacenters])] }), dc)!;

        Assert.Equal(allowed, authz.ServiceWrite("web").Allowed);
        Assert.Equal(allowed, authz.ServiceWrite("web-sidecar-proxy").Allowed);
        Assert.Equal(allowed, authz.NodeRead("n1").Allowed);
    }

    [Theory]
    [InlineData("dc1", true)]
    [InlineData("dc2", false)]
    public void Resolve_NodeIdentity_OnlyInItsDatacenter(string dc, bool allowed)
    {
        var authz = Resolve(Token(t => t with { NodeIdentities = [new AclNodeIdentity("node-1", "dc1")] }), dc)!;

        Assert.Equal(allowed, authz.NodeWrite("node-1").Allowed);
    }

    [Fact]
    public void Resolve_GlobalManagement_ManagesEverything()
    {
        var authz = Resolve(Token(t => t with { Policies = [new(AclBuiltins.GlobalManagementPolicyId, AclBuiltins.GlobalManagementPolicyName)] }))!;

        Assert.True(authz.AclWrite().Allowed);
        Assert.True(authz.IntentionWrite("*").Allowed);
        Assert.True(authz.OperatorWrite().Allowed);
    }

    [Fact]
    public void Resolve_DeletedPolicyOrRole_SkippedNotFatal()
    {
        var authz = Resolve(Token(t => t with { Policies = [new("gone", "gone"), new("p-web", "")], Roles = [new("also-gone", "")] }))!;

        Assert.True(authz.ServiceWrite("web").Allowed);
        Assert.False(authz.OperatorRead().Allowed);
    }

    [Fact]
    public void Resolve_NoLinks_DefaultPolicyOnly()
    {
        var authz = Resolve(Token())!;

        Assert.False(authz.ServiceRead("web").Allowed);
        Assert.False(authz.ServiceRead("web").ByRule);
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public void Resolve_ExpirationTime_ExpiredTokenResolvesToNothing(int secondsAfterExpiry, bool resolves)
    {
        var expires = Now.AddMinutes(10);
        var token = Token(t => t with { ExpirationTime = expires, Policies = [new("p-web", "")] });

        Assert.Equal(resolves, Resolve(token, now: expires.AddSeconds(secondsAfterExpiry)) is not null);
    }

    [Fact]
    public void Resolve_StoredPolicyRulesUnparseable_ThrowsInsteadOfDroppingItsDenies()
    {
        var broken = new AclPolicy { ID = "p-broken", Name = "broken", Rules = "service \"web\" { policy = \"dney\" }" };

        var ex = Assert.Throws<Meridian.Core.Validation.DomainValidationException>(() => AclTokenResolver.Resolve(
            Token(t => t with { Policies = [new("p-broken", "")] }), id => id == "p-broken" ? broken : null, _ => null,
            "dc1", AclDefaultPolicy.Allow, Now));

        Assert.Equal("Rules", Assert.Single(ex.Problems).Field);
    }

    [Fact]
    public void Resolve_ParsedRulesCacheGiven_UsedInsteadOfParsing()
    {
        var parsed = new List<string>();
        var authz = AclTokenResolver.Resolve(Token(t => t with { Policies = [new("p-web", "")] }),
            id => Policies.GetValueOrDefault(id), _ => null, "dc1", AclDefaultPolicy.Deny, Now,
            p => { parsed.Add(p.ID); return AclRulesParser.ParseOrThrow("operator = \"write\""); })!;

        Assert.Equal(["p-web"], parsed);
        Assert.True(authz.OperatorWrite().Allowed);
        Assert.False(authz.ServiceWrite("web").Allowed);
    }

    [Fact]
    public void Resolve_SamePolicyTwiceThroughRoles_CountedOnce()
    {
        var calls = 0;
        var role = OpsRole with { Policies = [new("p-web", "")], ServiceIdentities = [] };
        AclTokenResolver.Resolve(Token(t => t with { Policies = [new("p-web", "")], Roles = [new("r-ops", ""), new("r-ops", "")] }),
            id => { calls++; return Policies.GetValueOrDefault(id); }, _ => role, "dc1", AclDefaultPolicy.Deny, Now);

        Assert.Equal(1, calls);
    }

    [Theory]
    [InlineData("web", "web", new string[0])]
    [InlineData("web:dc1,dc2", "web", new[] { "dc1", "dc2" })]
    [InlineData(" web : dc1 , ,dc2 ", "web", new[] { "dc1", "dc2" })]
    public void ServiceIdentityParse_CliForm_NameAndDatacenters(string text, string name, string[] dcs)
    {
        var identity = AclServiceIdentity.Parse(text);

        Assert.Equal(name, identity.ServiceName);
        Assert.Equal(dcs, identity.Datacenters.ToArray());
    }

    [Fact]
    public void ServiceIdentityToString_RoundTripsDatacenters()
    {
        var identity = new AclServiceIdentity("web", ImmutableArray.Create("dc1", "dc2"));

        Assert.Equal("web:dc1,dc2", identity.ToString());
        Assert.Equal(["dc1", "dc2"], AclServiceIdentity.Parse(identity.ToString()).Datacenters.ToArray());
    }
}
