using Meridian.Core.Acl;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Acl;

[Trait("Category", "Unit")]
public sealed class AclRulesParserTests
{
    private static AclPolicyRules Valid(string text)
    {
        var result = AclRulesParser.Parse(text);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Rules!;
    }

    // Rules without their source line, to compare what two syntaxes mean.
    private static AclResourceRule[] Meaning(AclPolicyRules rules) => [.. rules.Rules.Select(r => r with { Line = 0 })];

    public static TheoryData<string, AclResource, bool> LabelledBlocks() => new()
    {
        { "service", AclResource.Service, false }, { "service_prefix", AclResource.Service, true },
        { "node", AclResource.Node, false }, { "node_prefix", AclResource.Node, true },
        { "agent", AclResource.Agent, false }, { "agent_prefix", AclResource.Agent, true },
        { "key", AclResource.Key, false }, { "key_prefix", AclResource.Key, true },
        { "session", AclResource.Session, false }, { "session_prefix", AclResource.Session, true },
        { "event", AclResource.Event, false }, { "event_prefix", AclResource.Event, true },
        { "query", AclResource.Query, false }, { "query_prefix", AclResource.Query, true },
    };

    [Theory]
    [MemberData(nameof(LabelledBlocks))]
    public void Parse_LabelledBlockInHclAndJson_SameRule(string block, AclResource resource, bool prefix)
    {
        var hcl = Valid($"{block} \"app-1\" {{\n  policy = \"write\"\n}}\n");
        var json = Valid($"{{\"{block}\": {{\"app-1\": {{\"policy\": \"write\"}}}}}}");

        var expected = new AclResourceRule(resource, "app-1", prefix, AclAccess.Write, AclAccess.None, Line: 1);
        Assert.Equal([expected], hcl.Rules.ToArray());
        Assert.Equal(Meaning(hcl), Meaning(json));
    }

    [Theory]
    [InlineData("acl", AclResource.Acl)]
    [InlineData("operator", AclResource.Operator)]
    [InlineData("mesh", AclResource.Mesh)]
    [InlineData("peering", AclResource.Peering)]
    [InlineData("keyring", AclResource.Keyring)]
    public void Parse_UnlabelledInHclAndJson_SameLevel(string key, AclResource resource)
    {
        Assert.Equal(AclAccess.Read, Valid($"{key} = \"read\"").Unlabelled(resource));
        Assert.Equal(AclAccess.Deny, Valid($"{{\"{key}\": \"deny\"}}").Unlabelled(resource));
    }

    [Fact]
    public void Parse_ConsulDocExample_HclAndJsonMeanTheSame()
    {
        // The two forms of one policy from https://developer.hashicorp.com/consul/docs/security/acl/acl-rules.
        const string hcl = """
            service_prefix "" { policy = "read" }
            service "web" {
              policy     = "write"
              intentions = "write"
            }
            node_prefix "" { policy = "read" }
            operator = "read"
            """;
        const string json = """
            {"service_prefix": {"": {"policy": "read"}},
             "service": {"web": {"policy": "write", "intentions": "write"}},
             "node_prefix": {"": {"policy": "read"}},
             "operator": "read"}
            """;
        var a = Valid(hcl);
        var b = Valid(json);

        Assert.Equal(Meaning(a), Meaning(b));
        Assert.Equal(AclAccess.Read, b.Operator);
        Assert.Contains(new AclResourceRule(AclResource.Service, "web", false, AclAccess.Write, AclAccess.Write, Line: 2), a.Rules);
    }

    [Fact]
    public void Parse_JsonListUnderLabel_ReadAsOneRule()
    {
        // The replication-token doc writes the rule as a list of objects.
        var rules = Valid("""{"service_prefix": {"": [{"intentions": "read", "policy": "read"}]}, "acl": "read"}""");

        Assert.Equal([new AclResourceRule(AclResource.Service, "", true, AclAccess.Read, AclAccess.Read)], Meaning(rules));
        Assert.Equal(AclAccess.Read, rules.Acl);
    }

    [Theory]
    [InlineData("service \"web\" { policy = \"write\" }")]
    [InlineData("service = { \"web\" = { policy = \"write\" } }")]
    [InlineData("service { web { policy = \"write\" } }")]
    [InlineData("service \"web\" {\n policy: \"write\"\n}")]
    [InlineData("\"service\" \"web\" { \"policy\" = \"write\", }")]
    [InlineData("service \"web\" { policy = \"WRITE\" }")]
    public void Parse_EquivalentHclSpellings_SameRule(string text)
    {
        Assert.Equal([new AclResourceRule(AclResource.Service, "web", false, AclAccess.Write)], Meaning(Valid(text)));
    }

    [Fact]
    public void Parse_CommentsOfEveryKind_Ignored()
    {
        var rules = Valid("""
            # hash comment
            // slash comment
            /* block
               comment "service" { */
            service "web" { # trailing
              policy = "read" // trailing
              /* inline */ intentions = "deny"
            }
            operator = "write" /* after */
            """);

        Assert.Equal([new AclResourceRule(AclResource.Service, "web", false, AclAccess.Read, AclAccess.Deny, Line: 5)], rules.Rules.ToArray());
        Assert.Equal(AclAccess.Write, rules.Operator);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n# only a comment\n")]
    public void Parse_EmptyText_EmptyPolicy(string text)
    {
        var rules = Valid(text);

        Assert.Empty(rules.Rules);
        Assert.Equal(AclAccess.None, rules.Operator);
    }

    [Fact]
    public void Parse_SeveralBlocksForOneKind_AllKeptInOrder()
    {
        var rules = Valid("service \"a\" { policy = \"read\" }\nservice \"b\" { policy = \"deny\" }\nkey_prefix \"app/\" { policy = \"list\" }");

        Assert.Equal(
            [
                new AclResourceRule(AclResource.Service, "a", false, AclAccess.Read, Line: 1),
                new AclResourceRule(AclResource.Service, "b", false, AclAccess.Deny, Line: 2),
                new AclResourceRule(AclResource.Key, "app/", true, AclAccess.List, Line: 3),
            ], rules.Rules.ToArray());
    }

    [Fact]
    public void Parse_DeprecatedIdentityRules_AcceptedAndDropped()
    {
        var rules = Valid("identity \"x\" { policy = \"write\" }\nidentity_prefix \"\" { policy = \"read\" }\nnode \"n\" { policy = \"read\" }");

        Assert.Equal([new AclResourceRule(AclResource.Node, "n", false, AclAccess.Read)], Meaning(rules));
    }

    [Fact]
    public void Parse_StringEscapes_Decoded()
    {
        var rules = Valid("key \"a\\\"b\\\\c\\u0041\" { policy = \"read\" }");

        Assert.Equal("a\"b\\cA", Assert.Single(rules.Rules).Name);
    }

    // ------------------------------------------------------------------ errors: line, column, reason

    public static TheoryData<string, int, int, string> ErrorCases() => new()
    {
        // Access levels
        { "service \"web\" {\n  policy = \"read\"\n  intentions = \"wirte\"\n}", 3, 16,
            "Invalid service intentions policy: line 3, column 16: service \"web\": unknown intentions level \"wirte\"; expected read, write or deny" },
        { "\n\nservice \"web\" {\n  policy = \"wirte\"\n}", 4, 12,
            "Invalid service policy: line 4, column 12: service \"web\": unknown access level \"wirte\"; expected read, write or deny" },
        { "service_prefix \"\" { policy = \"list\" }", 1, 30,
            "Invalid service_prefix policy: line 1, column 30: service_prefix \"\": unknown access level \"list\"; expected read, write or deny" },
        { "node \"n1\" { policy = \"list\" }", 1, 22,
            "Invalid node policy: line 1, column 22: node \"n1\": unknown access level \"list\"; expected read, write or deny" },
        { "key \"k\" { policy = \"all\" }", 1, 20,
            "Invalid key policy: line 1, column 20: key \"k\": unknown access level \"all\"; expected read, write, list or deny" },
        { "service \"web\" { policy = \"read\" intentions = \"list\" }", 1, 46,
            "Invalid service intentions policy: line 1, column 46: service \"web\": unknown intentions level \"list\"; expected read, write or deny" },
        { "operator = \"wirte\"", 1, 12, "Invalid operator policy: line 1, column 12: unknown access level \"wirte\"; expected read, write or deny" },
        { "acl = \"list\"", 1, 7, "Invalid acl policy: line 1, column 7: unknown access level \"list\"; expected read, write or deny" },
        { "mesh = \"\"", 1, 8, "Invalid mesh policy: line 1, column 8: unknown access level \"\"; expected read, write or deny" },
        { "keyring = 1", 1, 11, "Invalid keyring policy: line 1, column 11: keyring must be a string (read, write or deny)" },
        { "{\"peering\": \"full\"}", 1, 13, "Invalid peering policy: line 1, column 13: unknown access level \"full\"; expected read, write or deny" },
        // Required policy and fields per resource
        { "service \"web\" {\n  intentions = \"write\"\n}", 1, 15, "Invalid service policy: line 1, column 15: service \"web\": policy is required (read, write or deny)" },
        { "agent \"a\" { }", 1, 11, "Invalid agent policy: line 1, column 11: agent \"a\": policy is required (read, write or deny)" },
        { "node \"n1\" {\n  policy = \"read\"\n  intentions = \"read\"\n}", 3, 3,
            "Invalid node policy: line 3, column 3: node \"n1\": unknown field \"intentions\"; intentions is only accepted on service and service_prefix" },
        { "query_prefix \"\" { polcy = \"read\" }", 1, 19, "Invalid query_prefix policy: line 1, column 19: query_prefix \"\": unknown field \"polcy\"" },
        { "session \"s\" { policy = [\"read\"] }", 1, 24, "Invalid session policy: line 1, column 24: session \"s\": policy must be a string" },
        { "event = \"read\"", 1, 9, "Failed to parse ACL rules: line 1, column 9: event must be a block with a name: event \"<name>\" { policy = \"read\" }" },
        { "{\"service\": {\"web\": \"write\"}}", 1, 21, "Invalid service policy: line 1, column 21: service \"web\": expected a block { policy = \"...\" }" },
        // Duplicates, unknown and Enterprise keys
        { "operator = \"read\"\n\noperator = \"write\"", 3, 1,
            "Failed to parse ACL rules: line 3, column 1: The argument \"operator\" (first set at line 1) was already set. Each argument can only be defined once" },
        { "service \"web\" {\n  policy = \"read\"\n  policy = \"write\"\n}", 3, 3,
            "Failed to parse ACL rules: line 3, column 3: The argument \"policy\" (first set at line 2) was already set. Each argument can only be defined once" },
        { "servce \"web\" { policy = \"read\" }", 1, 1, "Failed to parse ACL rules: line 1, column 1: unknown rule \"servce\"" },
        { "namespace \"team\" { policy = \"read\" }", 1, 1, "Failed to parse ACL rules: line 1, column 1: \"namespace\" rules are Consul Enterprise only and not supported" },
        // Syntax
        { "service \"web\" {\n  policy = \"read\"\n", 3, 1, "Failed to parse ACL rules: line 3, column 1: unclosed '{' opened at line 1: expected '}'" },
        { "service \"web\" {\n  policy \"read\"\n}", 3, 1, "Failed to parse ACL rules: line 3, column 1: expected '{' after policy \"read\", found '}'" },
        { "operator read", 1, 14, "Failed to parse ACL rules: line 1, column 14: expected '{' after operator \"read\", found end of input" },
        { "operator = read", 1, 12, "Failed to parse ACL rules: line 1, column 12: expected a quoted string, found 'read' (write \"read\")" },
        { "service \"web\" = { policy = \"read\" }", 1, 15, "Failed to parse ACL rules: line 1, column 15: expected '{' after service \"web\", found '='" },
        { "service \"web {\n policy = \"read\" }", 1, 9, "Failed to parse ACL rules: line 1, column 9: string not terminated: missing closing '\"'" },
        { "/* never closed\nservice \"web\" { policy = \"read\" }", 1, 1, "Failed to parse ACL rules: line 1, column 1: comment not terminated: '/*' without '*/'" },
        { "key \"a\\qb\" { policy = \"read\" }", 1, 7, "Failed to parse ACL rules: line 1, column 7: invalid escape sequence in string" },
        { "operator = <<EOF\nread\nEOF", 1, 12, "Failed to parse ACL rules: line 1, column 12: heredoc strings are not supported in ACL rules; use a quoted string" },
        { "operator = \"read\" ;", 1, 19, "Failed to parse ACL rules: line 1, column 19: unexpected character ';'" },
        { "}", 1, 1, "Failed to parse ACL rules: line 1, column 1: expected a rule name, found '}'" },
        { "{\"service\": {\"web\": {\"policy\": \"read\"}}", 1, 40, "Failed to parse ACL rules: line 1, column 40: expected ',' or '}', found end of input" },
        { "{\"operator\" \"read\"}", 1, 13, "Failed to parse ACL rules: line 1, column 13: expected ':', found \"read\"" },
        { "{operator: \"read\"}", 1, 2, "Failed to parse ACL rules: line 1, column 2: expected a quoted key, found 'operator'" },
        { "{\"operator\": \"read\"} x", 1, 22, "Failed to parse ACL rules: line 1, column 22: expected end of input after the JSON object, found 'x'" },
    };

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void Parse_InvalidRules_NamesLineColumnAndReason(string text, int line, int column, string message)
    {
        var result = AclRulesParser.Parse(text);

        Assert.Null(result.Rules);
        var error = Assert.Single(result.Errors);
        Assert.Equal((line, column, message), (error.Line, error.Column, error.Message));
    }

    [Fact]
    public void Parse_SeveralBadRules_ReportsEveryOneWithItsLine()
    {
        var result = AclRulesParser.Parse("""
            service "web" { policy = "wirte" }
            node "n" { policy = "read" }
            operator = "rw"
            key_prefix "" { policy = "list" }
            agent "a" { intentions = "read" }
            """);

        Assert.Equal([1, 3, 5], result.Errors.Select(e => e.Line));
        Assert.Null(result.Rules);
    }

    [Fact]
    public void ParseOrThrow_InvalidRules_ThrowsProblemsOnRulesField()
    {
        var ex = Assert.Throws<DomainValidationException>(() => AclRulesParser.ParseOrThrow("operator = \"x\"\nacl = \"y\""));

        Assert.Equal(2, ex.Problems.Count);
        Assert.All(ex.Problems, p => Assert.Equal(("Rules", ValidationCodes.InvalidRules), (p.Field, p.Code)));
        Assert.StartsWith("Invalid acl policy: line 2", ex.Problems[1].Message, StringComparison.Ordinal);
    }
}
