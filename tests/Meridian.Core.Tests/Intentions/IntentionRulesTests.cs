using System.Collections.Immutable;
using Meridian.Core.Intentions;
using Meridian.Core.Validation;
using static Meridian.Core.Tests.Intentions.IntentionTestData;

namespace Meridian.Core.Tests.Intentions;

[Trait("Category", "Unit")]
public sealed class IntentionRulesTests
{
    private static readonly Intention ValidFlat = new()
    {
        SourceNS = "default", SourceName = "web", DestinationNS = "default", DestinationName = "db",
        Action = IntentionAction.Allow, SourceType = "consul",
    };

    private static IntentionHttpPermission Http(string? exact = null, string? prefix = null, string? regex = null) =>
        new() { PathExact = exact, PathPrefix = prefix, PathRegex = regex };

    private static IntentionPermission Perm(IntentionHttpPermission? http, IntentionAction action = IntentionAction.Allow)
        => new() { Action = action, HTTP = http };

    private static SourceIntention WithPerms(params IntentionPermission[] perms)
        => new() { Name = "web", Permissions = [.. perms] };

    // ------------------------------------------------------------------ flat (legacy) intentions

    public static TheoryData<Intention, string, string, string> FlatCases() => new()
    {
        { ValidFlat with { SourceNS = "" }, "SourceNS", ValidationCodes.Required, "SourceNS must be set" },
        { ValidFlat with { SourceName = "" }, "SourceName", ValidationCodes.Required, "SourceName must be set" },
        { ValidFlat with { DestinationNS = "" }, "DestinationNS", ValidationCodes.Required, "DestinationNS must be set" },
        { ValidFlat with { DestinationName = "" }, "DestinationName", ValidationCodes.Required, "DestinationName must be set" },
        { ValidFlat with { SourceNS = "fo*" }, "SourceNS", ValidationCodes.PartialWildcard, "SourceNS: wildcard character '*' cannot be used with partial values" },
        { ValidFlat with { SourceName = "we*" }, "SourceName", ValidationCodes.PartialWildcard, "SourceName: wildcard character '*' cannot be used with partial values" },
        { ValidFlat with { DestinationNS = "*x" }, "DestinationNS", ValidationCodes.PartialWildcard, "DestinationNS: wildcard character '*' cannot be used with partial values" },
        { ValidFlat with { DestinationName = "d*b" }, "DestinationName", ValidationCodes.PartialWildcard, "DestinationName: wildcard character '*' cannot be used with partial values" },
        { ValidFlat with { SourceNS = "*" }, "SourceName", ValidationCodes.ExactAfterWildcard, "SourceName: exact value cannot follow wildcard namespace" },
        { ValidFlat with { DestinationNS = "*" }, "DestinationName", ValidationCodes.ExactAfterWildcard, "DestinationName: exact value cannot follow wildcard namespace" },
        { ValidFlat with { Description = new string('d', 513) }, "Description", ValidationCodes.TooLong, "Description exceeds maximum length 512" },
        { ValidFlat with { Description = new string('é', 257) }, "Description", ValidationCodes.TooLong, "Description exceeds maximum length 512" },
        { ValidFlat with { Meta = Meta(65) }, "Meta", ValidationCodes.TooMany, "Meta exceeds maximum element count 64" },
        { ValidFlat with { Meta = new Dictionary<string, string> { [new string('k', 129)] = "v" } }, "Meta", ValidationCodes.TooLong, $"Meta key \"{new string('k', 129)}\" exceeds maximum length 128" },
        { ValidFlat with { Meta = new Dictionary<string, string> { ["key"] = new string('v', 513) } }, "Meta", ValidationCodes.TooLong, "Meta value for key \"key\" exceeds maximum length 512" },
        { ValidFlat with { Meta = new Dictionary<string, string> { ["consul-owner"] = "v" } }, "Meta", ValidationCodes.Forbidden, "Meta key \"consul-owner\": key prefix 'consul-' is reserved for internal use" },
        { ValidFlat with { Meta = new Dictionary<string, string> { ["Consul-Owner"] = "v" } }, "Meta", ValidationCodes.Forbidden, "Meta key \"Consul-Owner\": key prefix 'consul-' is reserved for internal use" },
        { ValidFlat with { Action = IntentionAction.Unset }, "Action", ValidationCodes.InvalidValue, "Action must be set to 'allow' or 'deny'" },
        { ValidFlat with { Action = (IntentionAction)7 }, "Action", ValidationCodes.InvalidValue, "Action must be set to 'allow' or 'deny'" },
        { ValidFlat with { Permissions = [Perm(Http(prefix: "/"))] }, "Permissions", ValidationCodes.Forbidden, "Permissions must not be set when using the legacy APIs" },
        { ValidFlat with { SourceType = "" }, "SourceType", ValidationCodes.InvalidValue, "SourceType must be set to 'consul'" },
        { ValidFlat with { SourceType = "external" }, "SourceType", ValidationCodes.InvalidValue, "SourceType must be set to 'consul'" },
        { ValidFlat with { SourcePartition = "*" }, "SourcePartition", ValidationCodes.WildcardNotAllowed, "SourcePartition: cannot use wildcard '*' in partition" },
        { ValidFlat with { DestinationPartition = "p*" }, "DestinationPartition", ValidationCodes.WildcardNotAllowed, "DestinationPartition: cannot use wildcard '*' in partition" },
        { ValidFlat with { SourceDatacenter = "DC1" }, "SourceDatacenter", ValidationCodes.InvalidFormat, "SourceDatacenter \"DC1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)" },
        { ValidFlat with { DestinationDatacenter = "dc.1" }, "DestinationDatacenter", ValidationCodes.InvalidFormat, "DestinationDatacenter \"dc.1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)" },
        { ValidFlat with { SourceDatacenter = new string('a', 65) }, "SourceDatacenter", ValidationCodes.TooLong, "SourceDatacenter exceeds maximum length 64" },
        { ValidFlat with { DestinationDatacenter = "*" }, "DestinationDatacenter", ValidationCodes.InvalidFormat, "DestinationDatacenter \"*\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)" },
        // One name rule (ServiceName, the certificate API's): names, namespaces and partitions.
        { ValidFlat with { SourceName = "Web" }, "SourceName", ValidationCodes.InvalidFormat, "SourceName \"Web\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { ValidFlat with { DestinationName = "dé" }, "DestinationName", ValidationCodes.InvalidFormat, "DestinationName \"dé\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { ValidFlat with { SourceName = "web😀" }, "SourceName", ValidationCodes.InvalidFormat, "SourceName \"web😀\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { ValidFlat with { DestinationName = "d b" }, "DestinationName", ValidationCodes.InvalidFormat, "DestinationName \"d b\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { ValidFlat with { SourceName = new string('w', 300) }, "SourceName", ValidationCodes.TooLong, "SourceName exceeds maximum length 128" },
        { ValidFlat with { SourceName = "web\x01" }, "SourceName", ValidationCodes.InvalidFormat, "SourceName \"web\\x01\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { ValidFlat with { SourceNS = "Ops" }, "SourceNS", ValidationCodes.InvalidFormat, "SourceNS \"Ops\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { ValidFlat with { DestinationNS = "ops\n" }, "DestinationNS", ValidationCodes.InvalidFormat, "DestinationNS \"ops\\n\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { ValidFlat with { SourcePartition = "P1" }, "SourcePartition", ValidationCodes.InvalidFormat, "SourcePartition \"P1\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { ValidFlat with { DestinationPartition = "p.1" }, "DestinationPartition", ValidationCodes.InvalidFormat, "DestinationPartition \"p.1\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        // Control and bidirectional-override characters in free text.
        { ValidFlat with { Description = "ok\x1b[31m" }, "Description", ValidationCodes.ControlCharacter, "Description \"ok\\x1b[31m\" contains the control character \"\\x1b\" at position 2; control and bidirectional-override characters are not allowed" },
        { ValidFlat with { Description = "abc\u202Efed" }, "Description", ValidationCodes.ControlCharacter, "Description \"abc\\u202efed\" contains the control character \"\\u202e\" at position 3; control and bidirectional-override characters are not allowed" },
        { ValidFlat with { Meta = new Dictionary<string, string> { ["k\x01"] = "v" } }, "Meta", ValidationCodes.ControlCharacter, "Meta key \"k\\x01\" contains the control character \"\\x01\" at position 1; control and bidirectional-override characters are not allowed" },
        { ValidFlat with { Meta = new Dictionary<string, string> { ["k"] = "v\u0085" } }, "Meta", ValidationCodes.ControlCharacter, "Meta value for key \"k\": \"v\\u0085\" contains the control character \"\\u0085\" at position 1; control and bidirectional-override characters are not allowed" },
    };

    [Theory]
    [MemberData(nameof(FlatCases))]
    public void ValidateFlat_InvalidField_ReportsExactProblem(Intention intention, string field, string code, string message)
    {
        var problem = Assert.Single(IntentionRules.Validate(intention));
        Assert.Equal(new ValidationProblem(field, code, message), problem);
    }

    public static TheoryData<Intention> ValidFlats() => new()
    {
        ValidFlat,
        ValidFlat with { SourceName = "*" },
        ValidFlat with { SourceNS = "*", SourceName = "*" },
        ValidFlat with { DestinationNS = "*", DestinationName = "*" },
        ValidFlat with { Description = new string('d', 512), Meta = Meta(64, keyLength: 128, valueLength: 512) },
        ValidFlat with { SourceDatacenter = "dc-1_a", DestinationDatacenter = new string('z', 64), Action = IntentionAction.Deny },
        ValidFlat with { SourceName = "web-1_a", DestinationName = new string('d', 128), SourceNS = "ops-2", SourcePartition = "p_1" },
        ValidFlat with { Description = "Zugriff für Web 😀 (tab-free)", Meta = new Dictionary<string, string> { ["Owner"] = "Team Ünicode" } },
    };

    [Theory]
    [MemberData(nameof(ValidFlats))]
    public void ValidateFlat_Valid_ReportsNothing(Intention intention) => Assert.Empty(IntentionRules.Validate(intention));

    [Fact]
    public void ValidateFlat_ManyProblems_ReportsEveryOneInConsulOrder()
    {
        var problems = IntentionRules.Validate(new Intention { SourceName = "w*", DestinationNS = "*", DestinationName = "db", Description = new string('x', 600), SourceType = "consul" });
        Assert.Equal(
            [
                "SourceNS must be set",
                "SourceName: wildcard character '*' cannot be used with partial values",
                "DestinationName: exact value cannot follow wildcard namespace",
                "Description exceeds maximum length 512",
                "Action must be set to 'allow' or 'deny'",
            ],
            problems.Select(p => p.Message));
    }

    [Fact]
    public void CreateIntention_EmptySourceType_DefaultsToConsul()
    {
        var created = IntentionRules.CreateIntention(ValidFlat with { SourceType = "" });
        Assert.Equal("consul", created.SourceType);
        Assert.Equal(9, created.Precedence);
    }

    [Fact]
    public void CreateIntention_Invalid_ThrowsWithEveryProblem()
    {
        var ex = Assert.Throws<DomainValidationException>(() => IntentionRules.CreateIntention(new Intention()));
        Assert.Equal(["SourceNS", "SourceName", "DestinationNS", "DestinationName", "Action"], ex.Problems.Select(p => p.Field));
    }

    // ------------------------------------------------------------------ config entries

    public static TheoryData<ServiceIntentionsEntry, string, string, string> EntryCases() => new()
    {
        { Entry("", Src("web")), "Name", ValidationCodes.Required, "Name is required" },
        { Entry("d*", Src("web")), "Name", ValidationCodes.PartialWildcard, "Name: wildcard character '*' cannot be used with partial values" },
        { EntryIn("n*", "*", Src("web", ns: "default")), "Namespace", ValidationCodes.PartialWildcard, "Namespace: wildcard character '*' cannot be used with partial values" },
        { EntryIn("*", "db", Src("web")), "Name", ValidationCodes.ExactAfterWildcard, "Name: exact value cannot follow wildcard namespace" },
        { Entry("db", Src("web")) with { Partition = "*" }, "Partition", ValidationCodes.WildcardNotAllowed, "Partition: cannot use wildcard '*' in partition" },
        { Entry("db", Src("web")) with { Meta = Meta(65) }, "Meta", ValidationCodes.TooMany, "Meta exceeds maximum element count 64" },
        { Entry("db", Src("web")) with { Meta = new Dictionary<string, string> { [new string('k', 129)] = "v" } }, "Meta", ValidationCodes.TooLong, $"Meta key \"{new string('k', 129)}\" exceeds maximum length 128" },
        { Entry("db", Src("web")) with { Meta = new Dictionary<string, string> { ["a\"b"] = new string('v', 513) } }, "Meta", ValidationCodes.TooLong, "Meta value for key \"a\\\"b\" exceeds maximum length 512" },
        { Entry("db"), "Sources", ValidationCodes.Required, "At least one source is required" },
        { Entry("db", Src("web")) with { Meta = new Dictionary<string, string> { ["consul-x"] = "v" } }, "Meta", ValidationCodes.Forbidden, "Meta key \"consul-x\": key prefix 'consul-' is reserved for internal use" },
        { Entry("db", [.. Enumerable.Range(0, 10_001).Select(i => Src($"s{i}"))]), "Sources", ValidationCodes.TooMany, "Sources has 10001 elements; at most 10000 are accepted" },
        { Entry("db", WithPerms([.. Enumerable.Repeat(Perm(Http(prefix: "/")), 257)])), "Sources[0].Permissions", ValidationCodes.TooMany, "Sources[0].Permissions has 257 elements; at most 256 are accepted" },
        { Entry("db", WithPerms(Perm(Http(prefix: "/") with { Header = [.. Enumerable.Repeat(new IntentionHttpHeaderPermission { Name = "x", Present = true }, 65)] }))),
            "Sources[0].Permissions[0].HTTP.Header", ValidationCodes.TooMany, "Sources[0].Permissions[0].HTTP.Header has 65 elements; at most 64 are accepted" },
        { Entry("db", Src("")), "Sources[0].Name", ValidationCodes.Required, "Sources[0].Name is required" },
        { Entry("db", Src("web"), Src("a*")), "Sources[1].Name", ValidationCodes.PartialWildcard, "Sources[1].Name: wildcard character '*' cannot be used with partial values" },
        { Entry("db", Src("*", ns: "x*")), "Sources[0].Namespace", ValidationCodes.PartialWildcard, "Sources[0].Namespace: wildcard character '*' cannot be used with partial values" },
        { Entry("db", Src("web", ns: "*")), "Sources[0].Name", ValidationCodes.ExactAfterWildcard, "Sources[0].Name: exact value cannot follow wildcard namespace" },
        { Entry("db", Src("web", partition: "*")), "Sources[0].Partition", ValidationCodes.WildcardNotAllowed, "Sources[0].Partition: cannot use wildcard '*' in partition" },
        { Entry("db", Src("web") with { Description = new string('d', 513) }), "Sources[0].Description", ValidationCodes.TooLong, "Sources[0].Description exceeds maximum length 512" },
        { Entry("db", Src("web", IntentionAction.Unset)), "Sources[0].Action", ValidationCodes.InvalidValue, "Sources[0].Action must be set to 'allow' or 'deny'" },
        { Entry("db", WithPerms(Perm(Http(prefix: "/"))) with { Action = IntentionAction.Allow }), "Sources[0].Action", ValidationCodes.Forbidden, "Sources[0].Action must be omitted if Permissions are specified" },
        { Entry("*", WithPerms(Perm(Http(prefix: "/")))), "Sources[0].Permissions", ValidationCodes.Forbidden, "Sources[0].Permissions cannot be specified on intentions with wildcarded destinations" },
        { EntryIn("*", "*", WithPerms(Perm(Http(prefix: "/")))), "Sources[0].Permissions", ValidationCodes.Forbidden, "Sources[0].Permissions cannot be specified on intentions with wildcarded destinations" },
        { Entry("db", Src("web") with { Type = "external" }), "Sources[0].Type", ValidationCodes.InvalidValue, "Sources[0].Type must be set to 'consul'" },
        { Entry("db", Src("web"), Src("web", IntentionAction.Deny)), "Sources[1]", ValidationCodes.DuplicatePair, "Sources[1] defines \"web\" more than once" },
        { Entry("db", Src("web", ns: "default"), Src("web")), "Sources[1]", ValidationCodes.DuplicatePair, "Sources[1] defines \"web\" more than once" },
        { Entry("db", Src("*", ns: "ops"), Src("*", ns: "ops")), "Sources[1]", ValidationCodes.DuplicatePair, "Sources[1] defines \"ops/*\" more than once" },
        { Entry("db", Src("web", partition: "p1"), Src("web", partition: "p1")), "Sources[1]", ValidationCodes.DuplicatePair, "Sources[1] defines \"p1/default/web\" more than once" },
        { Entry("db", Src("web", srcDc: "dc1"), Src("web", srcDc: "dc1")), "Sources[1]", ValidationCodes.DuplicatePair, "Sources[1] defines \"web\" from datacenter \"dc1\" more than once" },
        { Entry("db", Src("web", dstDc: "dc2"), Src("web", dstDc: "dc2")), "Sources[1]", ValidationCodes.DuplicatePair, "Sources[1] defines \"web\" in datacenter \"dc2\" more than once" },
        { Entry("db", Src("web", srcDc: "Dc1")), "Sources[0].SourceDatacenter", ValidationCodes.InvalidFormat, "Sources[0].SourceDatacenter \"Dc1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)" },
        { Entry("db", Src("web", dstDc: new string('a', 65))), "Sources[0].DestinationDatacenter", ValidationCodes.TooLong, "Sources[0].DestinationDatacenter exceeds maximum length 64" },
        // L7 permissions
        { Entry("db", WithPerms(Perm(Http(prefix: "/"), IntentionAction.Unset))), "Sources[0].Permissions[0].Action", ValidationCodes.InvalidValue, "Sources[0].Permissions[0].Action must be set to 'allow' or 'deny'" },
        { Entry("db", WithPerms(Perm(Http(prefix: "/")), Perm(null))), "Sources[0].Permissions[1].HTTP", ValidationCodes.Required, "Sources[0].Permissions[1].HTTP is required" },
        { Entry("db", WithPerms(Perm(Http(exact: "x")))), "Sources[0].Permissions[0].HTTP.PathExact", ValidationCodes.InvalidFormat, "Sources[0].Permissions[0].HTTP.PathExact doesn't start with '/': \"x\"" },
        { Entry("db", WithPerms(Perm(Http(prefix: "v2")))), "Sources[0].Permissions[0].HTTP.PathPrefix", ValidationCodes.InvalidFormat, "Sources[0].Permissions[0].HTTP.PathPrefix doesn't start with '/': \"v2\"" },
        { Entry("db", WithPerms(Perm(Http(exact: "/a", regex: "/b.*")))), "Sources[0].Permissions[0].HTTP", ValidationCodes.MutuallyExclusive, "Sources[0].Permissions[0].HTTP should only contain at most one of PathExact, PathPrefix, or PathRegex" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission { Header = [new() { Present = true }] }))), "Sources[0].Permissions[0].HTTP.Header[0].Name", ValidationCodes.Required, "Sources[0].Permissions[0].HTTP.Header[0] missing required Name field" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission { Header = [new() { Name = "x" }] }))), "Sources[0].Permissions[0].HTTP.Header[0]", ValidationCodes.MutuallyExclusive, "Sources[0].Permissions[0].HTTP.Header[0] should only contain one of Present, Exact, Prefix, Suffix, Contains, or Regex" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission { Header = [new() { Name = "x", Exact = "a", Contains = "b" }] }))), "Sources[0].Permissions[0].HTTP.Header[0]", ValidationCodes.MutuallyExclusive, "Sources[0].Permissions[0].HTTP.Header[0] should only contain one of Present, Exact, Prefix, Suffix, Contains, or Regex" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission { Header = [new() { Name = "x", Regex = "a.*", IgnoreCase = true }] }))), "Sources[0].Permissions[0].HTTP.Header[0].IgnoreCase", ValidationCodes.Forbidden, "Sources[0].Permissions[0].HTTP.Header[0] should set one of Exact, Prefix, Suffix, or Contains when using IgnoreCase" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission { Header = [new() { Name = "x", Present = true, IgnoreCase = true }] }))), "Sources[0].Permissions[0].HTTP.Header[0].IgnoreCase", ValidationCodes.Forbidden, "Sources[0].Permissions[0].HTTP.Header[0] should set one of Exact, Prefix, Suffix, or Contains when using IgnoreCase" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission { Methods = ["GET", "FETCH"] }))), "Sources[0].Permissions[0].HTTP.Methods", ValidationCodes.InvalidValue, "Sources[0].Permissions[0].HTTP.Methods contains an invalid method \"FETCH\"" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission { Methods = ["get", "GET"] }))), "Sources[0].Permissions[0].HTTP.Methods", ValidationCodes.Duplicate, "Sources[0].Permissions[0].HTTP.Methods contains \"GET\" more than once" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission()))), "Sources[0].Permissions[0].HTTP", ValidationCodes.Required, "Sources[0].Permissions[0].HTTP should not be empty" },
        // One name rule (ServiceName) and no control characters.
        { Entry("DB", Src("web")), "Name", ValidationCodes.InvalidFormat, "Name \"DB\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { EntryIn("Ops", "db", Src("web")), "Namespace", ValidationCodes.InvalidFormat, "Namespace \"Ops\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { Entry("db", Src("web")) with { Partition = "P1" }, "Partition", ValidationCodes.InvalidFormat, "Partition \"P1\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { Entry("db", Src("web\x01")), "Sources[0].Name", ValidationCodes.InvalidFormat, "Sources[0].Name \"web\\x01\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { Entry("db", Src("web", ns: "o\tps")), "Sources[0].Namespace", ValidationCodes.InvalidFormat, "Sources[0].Namespace \"o\\tps\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { Entry("db", Src("web", partition: "p 1")), "Sources[0].Partition", ValidationCodes.InvalidFormat, "Sources[0].Partition \"p 1\" may contain only lower-case letters, digits, '-' and '_' (1-128 characters)" },
        { Entry("db", Src("web") with { Description = "\a" }), "Sources[0].Description", ValidationCodes.ControlCharacter, "Sources[0].Description \"\\x07\" contains the control character \"\\x07\" at position 0; control and bidirectional-override characters are not allowed" },
        { Entry("db", WithPerms(Perm(Http(exact: "/a\r")))), "Sources[0].Permissions[0].HTTP.PathExact", ValidationCodes.ControlCharacter, "Sources[0].Permissions[0].HTTP.PathExact \"/a\\r\" contains the control character \"\\r\" at position 2; control and bidirectional-override characters are not allowed" },
        { Entry("db", WithPerms(Perm(new IntentionHttpPermission { Header = [new() { Name = "x\0", Present = true }] }))), "Sources[0].Permissions[0].HTTP.Header[0].Name", ValidationCodes.ControlCharacter, "Sources[0].Permissions[0].HTTP.Header[0].Name \"x\\x00\" contains the control character \"\\x00\" at position 1; control and bidirectional-override characters are not allowed" },
    };

    [Theory]
    [MemberData(nameof(EntryCases))]
    public void ValidateEntry_InvalidField_ReportsExactProblem(ServiceIntentionsEntry entry, string field, string code, string message)
    {
        var problem = Assert.Single(IntentionRules.Validate(entry));
        Assert.Equal(new ValidationProblem(field, code, message), problem);
    }

    public static TheoryData<ServiceIntentionsEntry> ValidEntries() => new()
    {
        Entry("db", Src("web"), Src("*", IntentionAction.Deny)),
        EntryIn("*", "*", Src("*", ns: "*")),
        Entry("*", Src("web")),
        Entry("db", Src("web"), Src("web", ns: "ops")),
        Entry("db", Src("web"), Src("web", partition: "p1")),
        Entry("db", Src("web"), Src("web", srcDc: "dc1"), Src("web", srcDc: "dc2"), Src("web", dstDc: "dc1"), Src("web", srcDc: "dc1", dstDc: "dc1")),
        Entry("db", WithPerms(
            Perm(Http(exact: "/admin"), IntentionAction.Deny),
            Perm(new IntentionHttpPermission { PathRegex = "/v[0-9]+/.*", Methods = ["get", "Post"] }),
            Perm(new IntentionHttpPermission
            {
                Header =
                [
                    new() { Name = "a", Present = true, Invert = true }, new() { Name = "b", Exact = "x", IgnoreCase = true },
                    new() { Name = "c", Prefix = "p" }, new() { Name = "d", Suffix = "s" }, new() { Name = "e", Contains = "c", IgnoreCase = true },
                    new() { Name = "f", Regex = "r.*" },
                ],
            }))),
        Entry("db", Src("web") with { Description = new string('d', 512) }) with { Meta = Meta(64, 128, 512) },
    };

    [Theory]
    [MemberData(nameof(ValidEntries))]
    public void ValidateEntry_Valid_ReportsNothing(ServiceIntentionsEntry entry) => Assert.Empty(IntentionRules.Validate(entry));

    [Fact]
    public void ValidateEntry_ManyProblems_ReportsEveryOneWithInputIndices()
    {
        var entry = Entry("db",
            Src("*"),
            Src("a*", IntentionAction.Unset),
            WithPerms(Perm(Http(exact: "x", prefix: "/y")), Perm(null)) with { Type = "nope" },
            Src("*"));
        var problems = IntentionRules.Validate(entry);
        Assert.Equal(
            [
                "Sources[1].Name: wildcard character '*' cannot be used with partial values",
                "Sources[1].Action must be set to 'allow' or 'deny'",
                "Sources[2].Type must be set to 'consul'",
                "Sources[2].Permissions[0].HTTP.PathExact doesn't start with '/': \"x\"",
                "Sources[2].Permissions[0].HTTP should only contain at most one of PathExact, PathPrefix, or PathRegex",
                "Sources[2].Permissions[1].HTTP is required",
                "Sources[3] defines \"*\" more than once",
            ],
            problems.Select(p => p.Message));
    }

    [Fact]
    public void CreateEntry_StoredPartsBreakingANewerRule_AreCarriedOverNewPartsAreChecked()
    {
        // Stored by a version without the name and control-character rules.
        var storedSource = Src("web\u0001");
        var storedMeta = new Dictionary<string, string> { ["k"] = "v\u0007" };

        var created = IntentionRules.CreateEntry(Entry("db", storedSource, Src("api")) with { Meta = storedMeta }, [storedSource], storedMeta: true);
        Assert.Equal(["api", "web\u0001"], created.Sources.Select(x => x.Name).Order(StringComparer.Ordinal));

        // A new source, or new meta, still meets every rule; an equal but new source instance is new.
        var ex = Assert.Throws<DomainValidationException>(() => IntentionRules.CreateEntry(
            Entry("db", storedSource, Src("Api"), Src("web\u0001", srcDc: "dc1")) with { Meta = storedMeta }, [storedSource], storedMeta: false));
        Assert.Equal(["Meta", "Sources[1].Name", "Sources[2].Name"], ex.Problems.Select(p => p.Field));
    }

    [Fact]
    public void CreateEntry_Invalid_ThrowsDomainValidationExceptionWithAllProblems()
    {
        var ex = Assert.Throws<DomainValidationException>(() => IntentionRules.CreateEntry(new ServiceIntentionsEntry { Meta = Meta(65) }));
        Assert.Equal(["Name", "Meta", "Sources"], ex.Problems.Select(p => p.Field));
        Assert.Equal([ValidationCodes.Required, ValidationCodes.TooMany, ValidationCodes.Required], ex.Problems.Select(p => p.Code));
    }

    // ------------------------------------------------------------------ normalisation

    [Theory]
    [InlineData("", "", "default", "default")]
    [InlineData("ops", "", "ops", "default")]
    [InlineData("ops", "p1", "ops", "p1")]
    [InlineData("*", "", "default", "default")]
    public void Normalize_SourceWithoutNamespace_InheritsDestination(string dstNs, string dstPartition, string expectedNs, string expectedPartition)
    {
        var entry = Valid(new ServiceIntentionsEntry { Namespace = dstNs, Partition = dstPartition, Name = "*", Sources = [Src("*")] });
        Assert.Equal(expectedNs, entry.Sources[0].Namespace);
        Assert.Equal(expectedPartition, entry.Sources[0].Partition);
        Assert.Equal(dstNs.Length == 0 ? "default" : dstNs, entry.Namespace);
        Assert.Equal(dstPartition.Length == 0 ? "default" : dstPartition, entry.Partition);
    }

    [Fact]
    public void Normalize_Source_DefaultsTypeAndUpperCasesMethods()
    {
        var entry = Valid(Entry("db", WithPerms(Perm(new IntentionHttpPermission { Methods = ["get", "pAtch"] }))));
        var src = entry.Sources[0];
        Assert.Equal("consul", src.Type);
        Assert.Equal(["GET", "PATCH"], src.Permissions[0].HTTP!.Methods.AsEnumerable());
        Assert.Equal("service-intentions", entry.Kind);
    }

    [Fact]
    public void Normalize_Sources_StableSortedByDescendingPrecedence()
    {
        var entry = Valid(Entry("db", Src("*", ns: "*"), Src("*"), Src("b"), Src("*", ns: "ops"), Src("a")));
        Assert.Equal([9, 9, 8, 8, 7], entry.Sources.Select(s => s.Precedence));
        Assert.Equal(["b", "a", "*", "*", "*"], entry.Sources.Select(s => s.Name));
        Assert.Equal(["default", "default", "default", "ops", "*"], entry.Sources.Select(s => s.Namespace));
    }

    [Fact]
    public void Normalize_SameInputTwice_IsDeterministic()
    {
        var spec = Entry("db", Src("*"), Src("b"), Src("a", srcDc: "dc1"));
        Assert.Equal(IntentionDiff.ContentHash(Valid(spec)), IntentionDiff.ContentHash(Valid(spec)));
        Assert.Equal(Valid(spec).Sources.Select(s => (s.Name, s.SourceDatacenter)), Valid(spec).Sources.Select(s => (s.Name, s.SourceDatacenter)));
    }

    // ------------------------------------------------------------------ flat view

    [Fact]
    public void ToIntentions_Entry_SharesEntryMetaAndIndexes()
    {
        var entry = Valid(Entry("db", Src("web", srcDc: "dc1", dstDc: "dc2"), L7("api")) with
        {
            Meta = new Dictionary<string, string> { ["external-source"] = "kubernetes" }, CreateIndex = 5, ModifyIndex = 9,
        });
        var flat = entry.ToIntentions();
        Assert.Equal(2, flat.Length);
        Assert.All(flat, i =>
        {
            Assert.Equal(("default", "db", "default", "default", "default"), (i.DestinationNS, i.DestinationName, i.DestinationPartition, i.SourcePartition, i.SourceNS));
            Assert.Equal((5UL, 9UL), (i.CreateIndex, i.ModifyIndex));
            Assert.Equal("kubernetes", i.Meta["external-source"]);
            Assert.Equal("consul", i.SourceType);
            Assert.Equal("", i.ID);
        });
        Assert.Equal(("web", "dc1", "dc2", IntentionAction.Allow, 9, false), (flat[0].SourceName, flat[0].SourceDatacenter, flat[0].DestinationDatacenter, flat[0].Action, flat[0].Precedence, flat[0].HasPermissions));
        Assert.Equal(("api", IntentionAction.Unset, true), (flat[1].SourceName, flat[1].Action, flat[1].HasPermissions));
    }

    [Fact]
    public void ToIntentions_EmptyEntry_ReturnsEmpty() => Assert.Empty(new ServiceIntentionsEntry { Name = "db" }.ToIntentions());
}
