using System.Collections.Immutable;
using Meridian.Core.Discovery;

namespace Meridian.Core.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class PreparedQueryRulesTests
{
    private static PreparedQuery Named(string name = "geo-db", string service = "db") =>
        new() { Name = name, Service = new ServiceQuery { Service = service } };

    public static TheoryData<PreparedQuery, string, string> OneBad => new()
    {
        { Named("") , "Session", "Invalid prepared query: Must be bound to a session" },
        { Named() with { Token = "<hidden>" }, "Token", "Invalid prepared query: Bad Token '<hidden>', it looks like a query definition with a redacted token was submitted" },
        { Named(service: ""), "Service.Service", "Invalid prepared query: Must provide a Service name to query" },
        { Named() with { Service = new() { Service = "db", Failover = new() { NearestN = -1 } } }, "Service.Failover.NearestN", "Invalid prepared query: Bad NearestN '-1', must be >= 0" },
        { Named() with { Service = new() { Service = "db", Failover = new() { NearestN = 2, Targets = [new("dc2")] } } }, "Service.Failover.Targets", "Invalid prepared query: Targets cannot be populated with NearestN or Datacenters" },
        { Named() with { Service = new() { Service = "db", Failover = new() { Datacenters = ["dc2"], Targets = [new("dc2")] } } }, "Service.Failover.Targets", "Invalid prepared query: Targets cannot be populated with NearestN or Datacenters" },
        { Named() with { Dns = new("abc") }, "DNS.TTL", "Invalid prepared query: Bad DNS TTL 'abc': time: invalid duration \"abc\"" },
        { Named() with { Dns = new("-1s") }, "DNS.TTL", "Invalid prepared query: DNS TTL '-1000000000', must be >=0" },
        { Named() with { Service = new() { Service = "db", NodeMeta = ImmutableDictionary<string, string>.Empty.Add("bad key", "v") } }, "Service.NodeMeta", "Invalid prepared query: Couldn't load metadata pair ('bad key', 'v'): Key contains invalid characters" },
    };

    [Theory]
    [MemberData(nameof(OneBad))]
    public void Validate_OneBadField_ConsulText(PreparedQuery query, string field, string message)
    {
        var problem = Assert.Single(PreparedQueryRules.Validate(query));
        Assert.Equal(field, problem.Field);
        Assert.Equal(message, problem.Message);
    }

    public static TheoryData<PreparedQuery> Good => new()
    {
        Named(),
        Named("") with { Session = "adf4238a-882b-9ddc-4a9d-5b6758e4159e" },   // unnamed, bound to a session
        Named("") with { Template = new("name_prefix_match") },                   // the catch-all template
        Named() with { Dns = new("10s"), Service = new() { Service = "db", Failover = new() { NearestN = 3, Datacenters = ["dc2", "dc3"] } } },
        Named() with { Service = new() { Service = "db", Failover = new() { Targets = [new("dc2")] } } },
    };

    [Theory]
    [MemberData(nameof(Good))]
    public void Validate_Good_NoProblem(PreparedQuery query) => Assert.Empty(PreparedQueryRules.Validate(query));

    [Fact]
    public void Validate_SeveralProblems_AllReported()
    {
        var problems = PreparedQueryRules.Validate(new PreparedQuery { Token = "<hidden>", Dns = new("x") });
        Assert.Equal(["Session", "Token", "Service.Service", "DNS.TTL"], problems.Select(p => p.Field));
    }

    [Fact]
    public void Validate_Oversized_Refused()
    {
        var q = Named() with
        {
            Template = new("name_prefix_match", new string('a', 1025)),
            Service = new() { Service = "db", Tags = [.. Enumerable.Range(0, 257).Select(i => $"t{i}")] },
        };
        Assert.Equal(["Service.Tags", "Template.Regexp"], PreparedQueryRules.Validate(q).Select(p => p.Field));
    }

    [Theory]
    [InlineData("prefix_match", "Template.Type", "failed compiling template: Bad Template.Type 'prefix_match'")]
    [InlineData("name_prefix_match", "Template.Regexp", "failed compiling template: Bad Regexp: ")]
    public void CheckTemplate_Bad_ConsulPrefix(string type, string field, string messageStart)
    {
        var q = Named() with { Template = new(type, type == "name_prefix_match" ? "(" : "") };
        var problem = PreparedQueryRules.CheckTemplate(q);
        Assert.NotNull(problem);
        Assert.Equal(field, problem.Field);
        Assert.StartsWith(messageStart, problem.Message);
    }

    [Fact]
    public void CheckTemplate_BadInterpolation_NamesTheField()
    {
        var q = Named() with { Template = new("name_prefix_match"), Service = new() { Service = "${name.whole}" } };
        var problem = PreparedQueryRules.CheckTemplate(q);
        Assert.NotNull(problem);
        Assert.Equal("Service.Service", problem.Field);
        Assert.StartsWith("failed compiling template: Bad format '${name.whole}' in Service.Service", problem.Message);
    }

    [Fact]
    public void CheckTemplate_StaticQuery_NotChecked() => Assert.Null(PreparedQueryRules.CheckTemplate(Named()));

    private static readonly PreparedQuery A = Named("geo-db") with { Id = "11111111-2222-3333-4444-555555555555" };
    private static readonly PreparedQuery EmptyTemplate = Named("") with { Id = "21111111-2222-3333-4444-555555555555", Template = new("name_prefix_match") };

    public static TheoryData<PreparedQuery, string> StoreConflicts => new()
    {
        { Named("GEO-DB") with { Id = "31111111-2222-3333-4444-555555555555" }, "name 'GEO-DB' aliases an existing query name" },
        { Named("11111111-2222-3333-4444-555555555555") with { Id = "31111111-2222-3333-4444-555555555555" }, "name '11111111-2222-3333-4444-555555555555' aliases an existing query ID" },
        { Named("") with { Id = "31111111-2222-3333-4444-555555555555", Template = new("name_prefix_match") }, "a query template with an empty name already exists" },
    };

    [Theory]
    [MemberData(nameof(StoreConflicts))]
    public void CheckStore_Conflict_ConsulText(PreparedQuery incoming, string message) =>
        Assert.Equal(message, Assert.Single(PreparedQueryRules.CheckStore([A, EmptyTemplate], incoming)).Message);

    [Fact]
    public void CheckStore_UpdateKeepsOwnName_NoConflict() =>
        Assert.Empty(PreparedQueryRules.CheckStore([A, EmptyTemplate], A with { Service = new() { Service = "other" } }));

    private static readonly PreparedQuery Static = Named("web") with { Id = "a1111111-2222-3333-4444-555555555555" };
    private static readonly PreparedQuery WebTemplate = Named("web-") with { Id = "b1111111-2222-3333-4444-555555555555", Template = new("name_prefix_match") };
    private static readonly PreparedQuery WebEuTemplate = Named("web-eu-") with { Id = "c1111111-2222-3333-4444-555555555555", Template = new("name_prefix_match") };
    private static readonly PreparedQuery CatchAll = Named("") with { Id = "d1111111-2222-3333-4444-555555555555", Template = new("name_prefix_match") };

    [Theory]
    [InlineData("a1111111-2222-3333-4444-555555555555", "web")]      // by ID
    [InlineData("A1111111-2222-3333-4444-555555555555", "web")]      // IDs compare case-insensitively
    [InlineData("web", "web")]                                       // exact name
    [InlineData("WEB", "web")]                                       // names compare case-insensitively
    [InlineData("web-api", "web-")]                                  // template prefix
    [InlineData("web-eu-api", "web-eu-")]                            // the longest prefix wins
    [InlineData("webby", "")]                                        // static "web" does not answer "webby": the catch-all does
    [InlineData("anything", "")]                                     // the empty-name template catches everything
    public void Resolve_Order_FindsExpected(string idOrName, string expectedName)
    {
        var found = PreparedQueryRules.Resolve([Static, WebTemplate, WebEuTemplate, CatchAll], idOrName);
        Assert.Null(found.Error);
        Assert.Equal(expectedName, found.Query?.Name);
    }

    [Fact]
    public void Resolve_TemplateById_Refused()
    {
        var found = PreparedQueryRules.Resolve([WebTemplate], WebTemplate.Id);
        Assert.Null(found.Query);
        Assert.Equal("prepared query templates can only be resolved up by name, not by ID", found.Error);
    }

    [Theory]
    [InlineData("webby")]
    [InlineData("")]
    [InlineData("f1111111-2222-3333-4444-555555555555")]
    public void Resolve_NoMatch_NotFound(string idOrName) =>
        Assert.Same(QueryResolution.NotFound, PreparedQueryRules.Resolve([Static, WebTemplate], idOrName));

    [Fact]
    public void AclPrefix_UnnamedStatic_None_TemplateEmptyName_Empty()
    {
        Assert.Null(Named("").AclPrefix);
        Assert.Equal("", CatchAll.AclPrefix);
        Assert.Equal("web", Static.AclPrefix);
    }
}
