using Meridian.Core.Acl;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Acl;

[Trait("Category", "Unit")]
public sealed class AclValidationTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private const string Secret = "3f2c9a1e-7b4d-4e8f-a6c5-1d2e3f4a5b6c";

    private static readonly AclPolicy ValidPolicy = new() { ID = "", Name = "web-write", Rules = "service \"web\" { policy = \"write\" }" };
    private static readonly AclRole ValidRole = new() { ID = "", Name = "ops", Policies = [new("", "web-write")] };
    private static readonly AclTokenRequest ValidToken = new()
    {
        Description = "web token",
        Policies = [new("", "web-write")],
        ServiceIdentities = [new AclServiceIdentity("web", ["dc1"])],
    };

    [Fact]
    public void Validate_ValidInputs_NoProblems()
    {
        Assert.Empty(AclValidation.ValidatePolicy(ValidPolicy));
        Assert.Empty(AclValidation.ValidatePolicy(ValidPolicy with { Name = "team/web_read-1", Datacenters = ["dc1", "dc2"] }));
        Assert.Empty(AclValidation.ValidateRole(ValidRole));
        Assert.Empty(AclValidation.ValidateToken(ValidToken, Now));
        Assert.Empty(AclValidation.ValidateToken(ValidToken with { AccessorID = "6a1c2e8f-0b5f-4a57-9d0e-6f1b2d3c4e5f", SecretID = Secret, ExpirationTTL = TimeSpan.FromHours(1) }, Now));
    }

    public static TheoryData<AclPolicy, string, string, string> PolicyCases() => new()
    {
        { ValidPolicy with { Name = "" }, "Name", ValidationCodes.Required, "Invalid Policy: no Name is set" },
        { ValidPolicy with { Name = new string('p', 129) }, "Name", ValidationCodes.TooLong, "Invalid Policy: invalid Name. Length must be greater than 0 and less than 128" },
        { ValidPolicy with { Name = "/web" }, "Name", ValidationCodes.Reserved, "Invalid Policy: invalid Name. Names cannot be prefixed with '/' or 'builtin/'" },
        { ValidPolicy with { Name = "builtin/mine" }, "Name", ValidationCodes.Reserved, "Invalid Policy: invalid Name. Names cannot be prefixed with '/' or 'builtin/'" },
        { ValidPolicy with { Name = "a/b/c" }, "Name", ValidationCodes.InvalidFormat, "Invalid Policy: invalid Name. Only alphanumeric characters, a single '/', '-' and '_' are allowed" },
        { ValidPolicy with { Name = "web read" }, "Name", ValidationCodes.InvalidFormat, "Invalid Policy: invalid Name. Only alphanumeric characters, a single '/', '-' and '_' are allowed" },
        { ValidPolicy with { Name = "web.read" }, "Name", ValidationCodes.InvalidFormat, "Invalid Policy: invalid Name. Only alphanumeric characters, a single '/', '-' and '_' are allowed" },
        { ValidPolicy with { Rules = "operator = \"wirte\"" }, "Rules", ValidationCodes.InvalidRules, "Invalid operator policy: line 1, column 12: unknown access level \"wirte\"; expected read, write or deny" },
        { ValidPolicy with { Datacenters = ["DC1"] }, "Datacenters[0]", ValidationCodes.InvalidFormat, "Datacenters[0] \"DC1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)" },
        { ValidPolicy with { Description = "a\u202Eb" }, "Description", ValidationCodes.ControlCharacter, "Description \"a\\u202eb\" contains the control character \"\\u202e\" at position 1; control and bidirectional-override characters are not allowed" },
    };

    [Theory]
    [MemberData(nameof(PolicyCases))]
    public void ValidatePolicy_Invalid_NamesFieldCodeAndMessage(AclPolicy policy, string field, string code, string message)
    {
        var problem = Assert.Single(AclValidation.ValidatePolicy(policy));

        Assert.Equal((field, code, message), (problem.Field, problem.Code, problem.Message));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(128)]
    public void ValidatePolicy_NameLengthAtBounds_Accepted(int length)
    {
        Assert.Empty(AclValidation.ValidatePolicy(ValidPolicy with { Name = new string('p', length) }));
    }

    [Fact]
    public void ValidatePolicy_SeveralProblems_AllReported()
    {
        var problems = AclValidation.ValidatePolicy(ValidPolicy with { Name = "a b", Rules = "acl = \"x\"\nmesh = \"y\"", Datacenters = ["dc1", "Bad"] });

        Assert.Equal(["Name", "Rules", "Rules", "Datacenters[1]"], problems.Select(p => p.Field));
    }

    public static TheoryData<AclRole, string, string, string> RoleCases() => new()
    {
        { ValidRole with { Name = "" }, "Name", ValidationCodes.Required, "Invalid Role: no Name is set" },
        { ValidRole with { Name = new string('r', 257) }, "Name", ValidationCodes.TooLong, "Invalid Role: invalid Name. Length must be greater than 0 and less than 256" },
        { ValidRole with { Name = "team/ops" }, "Name", ValidationCodes.InvalidFormat, "Invalid Role: invalid Name. Only alphanumeric characters, '-' and '_' are allowed" },
        { ValidRole with { Policies = [new("", "")] }, "Policies[0]", ValidationCodes.Required, "Policies[0]: a policy link needs an ID or a Name" },
        { ValidRole with { ServiceIdentities = [new AclServiceIdentity("")] }, "ServiceIdentities[0].ServiceName", ValidationCodes.Required, "Service identity is missing the service name field on this role" },
        { ValidRole with { NodeIdentities = [new AclNodeIdentity("n1", "")] }, "NodeIdentities[0].Datacenter", ValidationCodes.Required, "Node identity is missing the datacenter field on this role" },
    };

    [Theory]
    [MemberData(nameof(RoleCases))]
    public void ValidateRole_Invalid_NamesFieldCodeAndMessage(AclRole role, string field, string code, string message)
    {
        var problem = Assert.Single(AclValidation.ValidateRole(role));

        Assert.Equal((field, code, message), (problem.Field, problem.Code, problem.Message));
    }

    public static TheoryData<AclTokenRequest, string, string, string> TokenCases() => new()
    {
        { ValidToken with { AccessorID = "not-a-uuid" }, "AccessorID", ValidationCodes.InvalidFormat, "Accessor ID is missing or an invalid UUID" },
        { ValidToken with { AccessorID = "00000000-0000-0000-0000-000000000042" }, "AccessorID", ValidationCodes.Reserved, "UUIDs with the prefix \"00000000-0000-0000-0000-0000000000\" are reserved" },
        { ValidToken with { SecretID = "hunter2-secret" }, "SecretID", ValidationCodes.InvalidFormat, "SecretID is not a valid UUID" },
        { ValidToken with { SecretID = "00000000-0000-0000-0000-000000000001" }, "SecretID", ValidationCodes.Reserved, "UUIDs with the prefix \"00000000-0000-0000-0000-0000000000\" are reserved" },
        { ValidToken with { Policies = [new("", "")] }, "Policies[0]", ValidationCodes.Required, "Policies[0]: a policy link needs an ID or a Name" },
        { ValidToken with { Roles = [new("r1", ""), new("", "")] }, "Roles[1]", ValidationCodes.Required, "Roles[1]: a role link needs an ID or a Name" },
        { ValidToken with { ServiceIdentities = [new AclServiceIdentity("")] }, "ServiceIdentities[0].ServiceName", ValidationCodes.Required, "Service identity is missing the service name field on this token" },
        { ValidToken with { ServiceIdentities = [new AclServiceIdentity("Web")] }, "ServiceIdentities[0].ServiceName", ValidationCodes.InvalidFormat, "Service identity \"Web\" has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed" },
        { ValidToken with { ServiceIdentities = [new AclServiceIdentity("-web")] }, "ServiceIdentities[0].ServiceName", ValidationCodes.InvalidFormat, "Service identity \"-web\" has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed" },
        { ValidToken with { ServiceIdentities = [new AclServiceIdentity("web", ["dc1", "dc 2"])] }, "ServiceIdentities[0].Datacenters[1]", ValidationCodes.InvalidFormat, "ServiceIdentities[0].Datacenters[1] \"dc 2\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)" },
        { ValidToken with { NodeIdentities = [new AclNodeIdentity("", "dc1")] }, "NodeIdentities[0].NodeName", ValidationCodes.Required, "Node identity is missing the node name field on this token" },
        { ValidToken with { NodeIdentities = [new AclNodeIdentity("node_", "dc1")] }, "NodeIdentities[0].NodeName", ValidationCodes.InvalidFormat, "Node identity has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed" },
        { ValidToken with { ExpirationTTL = TimeSpan.FromHours(1), ExpirationTime = Now.AddHours(1) }, "ExpirationTTL", ValidationCodes.MutuallyExclusive, "Token Expiration TTL and Expiration Time cannot both be set" },
        { ValidToken with { ExpirationTTL = TimeSpan.FromSeconds(30) }, "ExpirationTTL", ValidationCodes.OutOfRange, "Token Expiration TTL '30s' should be between 1m0s and 24h0m0s" },
        { ValidToken with { ExpirationTTL = TimeSpan.FromHours(25) }, "ExpirationTTL", ValidationCodes.OutOfRange, "Token Expiration TTL '25h0m0s' should be between 1m0s and 24h0m0s" },
        { ValidToken with { ExpirationTime = Now.AddSeconds(-1) }, "ExpirationTime", ValidationCodes.OutOfRange, "ExpirationTime cannot be before CreateTime" },
        { ValidToken with { Description = "x\u0007" }, "Description", ValidationCodes.ControlCharacter, "Description \"x\\x07\" contains the control character \"\\x07\" at position 1; control and bidirectional-override characters are not allowed" },
    };

    [Theory]
    [MemberData(nameof(TokenCases))]
    public void ValidateToken_Invalid_NamesFieldCodeAndMessage(AclTokenRequest token, string field, string code, string message)
    {
        var problem = Assert.Single(AclValidation.ValidateToken(token, Now));

        Assert.Equal((field, code, message), (problem.Field, problem.Code, problem.Message));
    }

    [Theory]
    [InlineData(60)]
    [InlineData(86400)]
    public void ValidateToken_TtlAtBounds_Accepted(int seconds)
    {
        Assert.Empty(AclValidation.ValidateToken(ValidToken with { ExpirationTTL = TimeSpan.FromSeconds(seconds) }, Now));
    }

    [Fact]
    public void ValidateToken_SeveralProblems_AllReportedNoneEchoingTheSecret()
    {
        const string badSecret = "my-very-secret-token-value";
        var problems = AclValidation.ValidateToken(ValidToken with
        {
            AccessorID = "x",
            SecretID = badSecret,
            Policies = [new("", "")],
            ServiceIdentities = [new AclServiceIdentity("Web")],
            ExpirationTime = Now.AddDays(-1),
        }, Now);

        Assert.Equal(["AccessorID", "SecretID", "Policies[0]", "ServiceIdentities[0].ServiceName", "ExpirationTime"], problems.Select(p => p.Field));
        Assert.All(problems, p => Assert.DoesNotContain(badSecret, p.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void BuiltinPolicies_RulesParseAndIdsReserved()
    {
        Assert.All(AclBuiltins.Policies, p =>
        {
            Assert.True(AclRulesParser.Parse(p.Rules).IsValid, p.Name);
            Assert.True(AclBuiltins.IsReservedId(p.ID), p.ID);
        });
        Assert.False(AclBuiltins.IsReservedId("6a1c2e8f-0b5f-4a57-9d0e-6f1b2d3c4e5f"));
    }
}
