using Meridian.Core.Intentions;
using Meridian.Core.Validation;
using static Meridian.Core.Tests.Intentions.IntentionTestData;

namespace Meridian.Core.Tests.Intentions;

[Trait("Category", "Unit")]
public sealed class IntentionMatcherTests
{
    private static readonly ServiceIntentionsEntry[] Entries =
    [
        Valid(Entry("db", Src("web"), Src("*", IntentionAction.Deny), Src("web", srcDc: "dc1"))),
        Valid(Entry("*", Src("web"), Src("api"))),
        Valid(EntryIn("*", "*", Src("*", IntentionAction.Deny, ns: "*"))),
        Valid(EntryIn("ops", "db", Src("web", ns: "default"))),
        Valid(Entry("cache", Src("api"))),
        Valid(new ServiceIntentionsEntry { Partition = "p1", Name = "db", Sources = [Src("web")] }),
    ];

    private static string Describe(Intention i) => $"{i.SourceNS}/{i.SourceName}{(i.SourceDatacenter.Length > 0 ? "@" + i.SourceDatacenter : "")}=>{i.DestinationNS}/{i.DestinationName}:{i.Precedence}";

    public static TheoryData<string, string[]> ByDestination() => new()
    {
        { "db", ["default/web@dc1=>default/db:9", "default/web=>default/db:9", "default/*=>default/db:8", "default/api=>default/*:6", "default/web=>default/*:6", "*/*=>*/*:1"] },
        { "default/cache", ["default/api=>default/cache:9", "default/api=>default/*:6", "default/web=>default/*:6", "*/*=>*/*:1"] },
        { "ops/db", ["default/web=>ops/db:9", "*/*=>*/*:1"] },
        { "p1/default/db", ["default/web=>default/db:9"] },
        { "p2/default/db", [] },
        { "*", ["default/api=>default/*:6", "default/web=>default/*:6", "*/*=>*/*:1"] },
    };

    [Theory]
    [MemberData(nameof(ByDestination))]
    public void MatchByDestination_Name_ReturnsSortedIntentions(string name, string[] expected)
        => Assert.Equal(expected, IntentionMatcher.MatchByDestination(Entries, ServiceSelector.Parse(name)).Select(Describe));

    public static TheoryData<string, string[]> BySource() => new()
    {
        { "web", ["default/web@dc1=>default/db:9", "default/web=>default/db:9", "default/web=>ops/db:9", "default/*=>default/db:8", "default/web=>default/*:6", "*/*=>*/*:1"] },
        { "api", ["default/api=>default/cache:9", "default/*=>default/db:8", "default/api=>default/*:6", "*/*=>*/*:1"] },
        { "ops/web", ["*/*=>*/*:1"] },
        { "p1/default/web", ["default/web=>default/db:9"] },
        { "p3/x/y", [] },
    };

    [Theory]
    [MemberData(nameof(BySource))]
    public void MatchBySource_Name_ReturnsSortedIntentions(string name, string[] expected)
        => Assert.Equal(expected, IntentionMatcher.MatchBySource(Entries, ServiceSelector.Parse(name)).Select(Describe));

    [Fact]
    public void Match_SeveralNames_OneListPerNameInRequestOrder()
    {
        var result = IntentionMatcher.Match(Entries, IntentionMatchType.Destination,
            [ServiceSelector.Parse("p2/default/none"), ServiceSelector.Parse("ops/db")]);
        Assert.Equal(2, result.Length);
        Assert.Empty(result[0]);
        Assert.Equal(["default/web=>ops/db:9", "*/*=>*/*:1"], result[1].Select(Describe));
    }

    [Theory]
    [InlineData("source", IntentionMatchType.Source)]
    [InlineData("destination", IntentionMatchType.Destination)]
    public void ParseMatchType_Valid_Parses(string by, IntentionMatchType expected) => Assert.Equal(expected, IntentionMatcher.ParseMatchType(by));

    [Theory]
    [InlineData(null, ValidationCodes.Required, "required query parameter 'by' not set")]
    [InlineData("", ValidationCodes.Required, "required query parameter 'by' not set")]
    [InlineData("both", ValidationCodes.InvalidValue, "'by' parameter must be one of 'source' or 'destination'")]
    public void ParseMatchType_Invalid_ThrowsConsulError(string? by, string code, string message)
    {
        var p = Assert.Single(Assert.Throws<DomainValidationException>(() => IntentionMatcher.ParseMatchType(by)).Problems);
        Assert.Equal(("by", code, message), (p.Field, p.Code, p.Message));
    }

    [Fact]
    public void Match_NoNames_ThrowsConsulError()
    {
        var ex = Assert.Throws<DomainValidationException>(() => IntentionMatcher.Match(Entries, IntentionMatchType.Source, []));
        Assert.Equal("required query parameter 'name' not set", Assert.Single(ex.Problems).Message);
    }

    [Theory]
    [InlineData("web", "default", "default", "web")]
    [InlineData("ops/web", "default", "ops", "web")]
    [InlineData("p1/ops/web", "p1", "ops", "web")]
    [InlineData("*/*", "default", "*", "*")]
    public void ParseSelector_Forms_Parse(string text, string partition, string ns, string name)
    {
        var s = ServiceSelector.Parse(text);
        Assert.Equal((partition, ns, name), (s.Partition, s.Namespace, s.Name));
    }

    [Theory]
    [InlineData("", ValidationCodes.Required)]
    [InlineData("peer:east/web", ValidationCodes.Forbidden)]
    [InlineData("a/b/c/d", ValidationCodes.InvalidFormat)]
    [InlineData("ops/", ValidationCodes.InvalidFormat)]
    [InlineData("Web", ValidationCodes.InvalidFormat)]
    [InlineData("web\u0001", ValidationCodes.InvalidFormat)]
    [InlineData("Ops/web", ValidationCodes.InvalidFormat)]
    [InlineData("*/p1/web", ValidationCodes.InvalidFormat)]
    [InlineData("we*", ValidationCodes.InvalidFormat)]
    public void ParseSelector_Invalid_Throws(string text, string code)
        => Assert.Equal(code, Assert.Single(Assert.Throws<DomainValidationException>(() => ServiceSelector.Parse(text)).Problems).Code);

    [Fact]
    public void ParseSelector_BadNamespaceAndName_ReportsBoth()
    {
        var ex = Assert.Throws<DomainValidationException>(() => ServiceSelector.Parse("Ops/Web", "source"));
        Assert.Equal(["source \"Ops\"", "source \"Web\""], ex.Problems.Select(p => p.Message[..p.Message.IndexOf(" may", StringComparison.Ordinal)]));
    }

    [Theory]
    [InlineData("web\u0001", "default", "web\u0001")]
    [InlineData("Ops/Web", "Ops", "Web")]
    public void ParseSelectorLenient_NameOutsideTheRule_ParsesSoStoredIntentionsStayAddressable(string text, string ns, string name)
    {
        var s = ServiceSelector.ParseLenient(text);
        Assert.Equal((ns, name), (s.Namespace, s.Name));
    }
}
