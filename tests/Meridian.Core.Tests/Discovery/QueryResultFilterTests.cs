using Meridian.Core.Discovery;
using static Meridian.Core.Tests.Discovery.Instances;
using P = Meridian.Core.Discovery.HealthStatus;

namespace Meridian.Core.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class QueryResultFilterTests
{
    private static string[] Ids(IEnumerable<ServiceInstance> xs) => [.. xs.Select(x => x.Service.Id)];

    [Theory]
    [InlineData(false, new[] { P.Passing }, true)]
    [InlineData(false, new[] { P.Warning }, true)]                  // warning kept without OnlyPassing
    [InlineData(false, new[] { P.Passing, P.Critical }, false)]     // any critical drops
    [InlineData(true, new[] { P.Passing }, true)]
    [InlineData(true, new[] { P.Passing, P.Warning }, false)]       // OnlyPassing drops warning
    [InlineData(true, new P[0], true)]                              // no checks: healthy
    public void Filter_Health_AsConsul(bool onlyPassing, P[] checks, bool kept)
    {
        var result = QueryResultFilter.Filter([Of("a", checks: checks)], new ServiceQuery { Service = "web", OnlyPassing = onlyPassing });
        Assert.Equal(kept, result.Length == 1);
    }

    [Fact]
    public void Filter_IgnoreCheckIds_SkipsThoseChecks()
    {
        var q = new ServiceQuery { Service = "web", OnlyPassing = true, IgnoreCheckIds = ["check-1"] };
        Assert.Equal(["a"], Ids(QueryResultFilter.Filter([Of("a", checks: [P.Passing, P.Critical]), Of("b", checks: [P.Warning, P.Passing])], q)));
    }

    [Theory]
    [InlineData(new[] { "primary" }, new[] { "a" })]
    [InlineData(new[] { "PRIMARY" }, new[] { "a" })]               // case-insensitive
    [InlineData(new[] { "!primary" }, new[] { "b", "c" })]
    [InlineData(new[] { "v1", "!Primary" }, new[] { "b" })]
    [InlineData(new[] { "v1" }, new[] { "a", "b" })]
    public void Filter_Tags_MustAndMustNot(string[] tags, string[] expected)
    {
        ServiceInstance[] all = [Of("a", tags: ["Primary", "v1"]), Of("b", tags: ["v1"]), Of("c")];
        Assert.Equal(expected, Ids(QueryResultFilter.Filter(all, new ServiceQuery { Service = "web", Tags = [.. tags] })));
    }

    [Fact]
    public void Filter_NodeAndServiceMeta_EveryPairMustMatch()
    {
        ServiceInstance[] all =
        [
            Of("a", nodeMeta: Map(("rack", "r1")), serviceMeta: Map(("ver", "2"))),
            Of("b", nodeMeta: Map(("rack", "r2")), serviceMeta: Map(("ver", "2"))),
            Of("c", nodeMeta: Map(("rack", "r1")), serviceMeta: Map(("ver", "1"))),
        ];
        var q = new ServiceQuery { Service = "web", NodeMeta = Map(("rack", "r1")), ServiceMeta = Map(("ver", "2")) };
        Assert.Equal(["a"], Ids(QueryResultFilter.Filter(all, q)));
    }

    [Fact]
    public void Filter_Connect_ProxiesOfTheServiceAndNativeOnly()
    {
        ServiceInstance[] all =
        [
            Of("web-1"),
            Of("web-native", native: true),
            Of("web-proxy", service: "web-sidecar-proxy", kind: ServiceKinds.ConnectProxy, destination: "web"),
            Of("db-proxy", service: "db-sidecar-proxy", kind: ServiceKinds.ConnectProxy, destination: "db"),
        ];
        Assert.Equal(["web-native", "web-proxy"], Ids(QueryResultFilter.Filter(all, new ServiceQuery { Service = "web", Connect = true })));
        Assert.Equal(["web-1", "web-native"], Ids(QueryResultFilter.Filter(all, new ServiceQuery { Service = "web" })));
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(-1, 5)]
    [InlineData(2, 2)]
    [InlineData(9, 5)]
    public void ShuffleAndLimit_Limit_Applied(int limit, int count)
    {
        ServiceInstance[] all = [.. Enumerable.Range(0, 5).Select(i => Of($"i{i}"))];
        var result = QueryResultFilter.ShuffleAndLimit(all, new Random(7), limit);
        Assert.Equal(count, result.Length);
        Assert.Equal(count, result.Select(r => r.Service.Id).Distinct().Count());
    }

    [Fact]
    public void ShuffleAndLimit_SameSeed_SameOrder_AndOrderChanges()
    {
        ServiceInstance[] all = [.. Enumerable.Range(0, 20).Select(i => Of($"i{i}"))];
        var a = Ids(QueryResultFilter.ShuffleAndLimit(all, new Random(1)));
        Assert.Equal(a, Ids(QueryResultFilter.ShuffleAndLimit(all, new Random(1))));
        Assert.NotEqual(Ids(all), a);
        Assert.Equal(Ids(all).Order(), a.Order());
    }
}
