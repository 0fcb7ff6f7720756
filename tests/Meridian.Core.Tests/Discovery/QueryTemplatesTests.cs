using System.Collections.Immutable;
using Meridian.Core.Discovery;

namespace Meridian.Core.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class QueryTemplatesTests
{
    private static PreparedQuery Template(string name, string service, string regexp = "", bool removeEmpty = false, params string[] tags) => new()
    {
        Name = name,
        Template = new("name_prefix_match", regexp, removeEmpty),
        Service = new ServiceQuery { Service = service, Tags = [.. tags] },
    };

    [Theory]
    [InlineData("geo-db", "${name.full}", "", "geo-db-primary", "geo-db-primary")]
    [InlineData("geo-", "${name.suffix}", "", "geo-db", "db")]
    [InlineData("geo-", "${name.prefix}x", "", "geo-db", "geo-x")]
    [InlineData("", "${name.full}", "", "anything", "anything")]                       // catch-all: the name is the service
    [InlineData("geo-", "${match(1)}", "^geo-(.*?)-(.*)$", "geo-db-eu", "db")]
    [InlineData("geo-", "${match(2)}", "^geo-(.*?)-(.*)$", "geo-db-eu", "eu")]
    [InlineData("geo-", "${match(0)}", "^geo-(.*?)-(.*)$", "geo-db-eu", "geo-db-eu")]
    [InlineData("geo-", "${match(7)}", "^geo-(.*?)-(.*)$", "geo-db-eu", "")]             // no such capture: empty
    [InlineData("geo-", "${match(1)}", "^nomatch-(.*)$", "geo-db", "")]                  // regexp does not match: empty
    [InlineData("geo-", "x-$${name.full}", "", "geo-db", "x-${name.full}")]             // $${ is a literal ${
    [InlineData("geo-", "${agent.segment}db", "", "geo-db", "db")]
    public void Render_Interpolation_AsConsul(string name, string service, string regexp, string executed, string expected)
    {
        var rendered = PreparedQueryRules.Render(Template(name, service, regexp), executed);
        Assert.Equal(expected, rendered.Service.Service);
    }

    [Fact]
    public void Render_RemoveEmptyTags_DropsOnlyEmpty()
    {
        var q = Template("geo-", "db", "^geo-(.*?)(?:-(.*))?$", true, "${match(2)}", "v1");
        Assert.Equal(["v1"], PreparedQueryRules.Render(q, "geo-db").Service.Tags.ToArray());
        Assert.Equal(["eu", "v1"], PreparedQueryRules.Render(q, "geo-db-eu").Service.Tags.ToArray());
        Assert.Equal(["", "v1"], PreparedQueryRules.Render(q with { Template = q.Template with { RemoveEmptyTags = false } }, "geo-db").Service.Tags.ToArray());
    }

    [Fact]
    public void Render_InterpolatesEveryServiceText()
    {
        var q = Template("geo-", "${name.suffix}") with
        {
            Service = new ServiceQuery
            {
                Service = "${name.suffix}",
                Near = "${name.suffix}-node",
                Failover = new() { Datacenters = ["${name.suffix}-dc"] },
                NodeMeta = ImmutableDictionary<string, string>.Empty.Add("role", "${name.suffix}"),
                ServiceMeta = ImmutableDictionary<string, string>.Empty.Add("app", "${name.suffix}"),
                IgnoreCheckIds = ["${name.suffix}-check"],
            },
        };
        var s = PreparedQueryRules.Render(q, "geo-db").Service;
        Assert.Equal(("db", "db-node", "db-dc", "db", "db", "db-check"),
            (s.Service, s.Near, s.Failover.Datacenters[0], s.NodeMeta["role"], s.ServiceMeta["app"], s.IgnoreCheckIds[0]));
    }

    [Fact]
    public void Render_Static_Unchanged()
    {
        var q = new PreparedQuery { Name = "web", Service = new() { Service = "${name.full}" } };
        Assert.Same(q, PreparedQueryRules.Render(q, "web"));
    }

    [Theory]
    [InlineData("${name.full")]
    [InlineData("${nope}")]
    [InlineData("${match(x)}")]
    public void TryCompile_BadExpression_Refused(string service) =>
        Assert.False(QueryTemplates.TryCompile(Template("geo-", service), out _, out _, out _));

    [Fact]
    public void TryCompile_Backreference_RefusedLikeRe2()
    {
        Assert.False(QueryTemplates.TryCompile(Template("geo-", "db", @"(a)\1"), out _, out var field, out var error));
        Assert.Equal("Template.Regexp", field);
        Assert.StartsWith("Bad Regexp: ", error);
    }
}
