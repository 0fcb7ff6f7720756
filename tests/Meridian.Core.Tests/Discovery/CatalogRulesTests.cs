using Meridian.Core.Discovery;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class CatalogRulesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(null, HealthStatus.Critical)]
    [InlineData("", HealthStatus.Critical)]
    [InlineData("passing", HealthStatus.Passing)]
    [InlineData("warning", HealthStatus.Warning)]
    [InlineData("critical", HealthStatus.Critical)]
    public void Parse_ValidOrEmpty_IsTheStatus_EmptyIsCritical(string? text, HealthStatus expected)
        => Assert.Equal(expected, HealthStatuses.Parse(text));

    [Theory]
    [InlineData("ok")]
    [InlineData("Passing")]
    [InlineData("maintenance")]
    public void Parse_Other_IsRefusedWithConsulsText(string text)
    {
        var e = Assert.Throws<DomainValidationException>(() => HealthStatuses.Parse(text));
        Assert.Equal("Status for checks must 'passing', 'warning', 'critical'", Assert.Single(e.Problems).Message);
    }

    [Theory]
    [InlineData(HealthStatus.Passing, 30, 0, HealthStatus.Passing)]     // just refreshed
    [InlineData(HealthStatus.Passing, 30, 29.999, HealthStatus.Passing)] // before the deadline
    [InlineData(HealthStatus.Passing, 30, 30, HealthStatus.Critical)]   // at the deadline
    [InlineData(HealthStatus.Warning, 30, 3600, HealthStatus.Critical)] // long after
    [InlineData(HealthStatus.Warning, 0, 3600, HealthStatus.Warning)]   // no TTL: never expires
    [InlineData(HealthStatus.Critical, 30, 1, HealthStatus.Critical)]   // set critical stays critical
    public void TtlStatus_AtNow_IsStoredUntilDeadlineThenCritical(HealthStatus stored, double ttlSeconds, double elapsed, HealthStatus expected)
    {
        TimeSpan? ttl = ttlSeconds == 0 ? null : TimeSpan.FromSeconds(ttlSeconds);
        Assert.Equal(expected, TtlRule.StatusAt(stored, ttl, T0, T0 + TimeSpan.FromSeconds(elapsed)));
    }

    [Fact]
    public void TtlDeadline_IsRefreshedPlusTtl_NullWithoutTtl()
    {
        Assert.Equal(T0.AddSeconds(10), TtlRule.Deadline(TimeSpan.FromSeconds(10), T0));
        Assert.Null(TtlRule.Deadline(null, T0));
    }

    [Theory]
    [InlineData(new HealthStatus[0], true)]
    [InlineData(new[] { HealthStatus.Passing, HealthStatus.Passing }, true)]
    [InlineData(new[] { HealthStatus.Passing, HealthStatus.Warning }, false)]  // warning drops it too
    [InlineData(new[] { HealthStatus.Critical }, false)]
    public void Passing_DropsAnInstanceWithAnyCheckNotPassing(HealthStatus[] checks, bool kept)
        => Assert.Equal(kept, HealthFilter.IsPassing(checks));

    [Fact]
    public void Aggregate_IsTheWorst()
    {
        Assert.Equal(HealthStatus.Passing, HealthFilter.Aggregate([]));
        Assert.Equal(HealthStatus.Warning, HealthFilter.Aggregate([HealthStatus.Passing, HealthStatus.Warning]));
        Assert.Equal(HealthStatus.Critical, HealthFilter.Aggregate([HealthStatus.Critical, HealthStatus.Warning]));
    }

    private static RegistrationInput Request(string node = "n1", string address = "10.0.0.1", bool skip = false,
        ServiceInput? service = null, CheckInput[]? checks = null, string[]? existing = null)
        => new(node, address, skip, service, checks ?? [], (existing ?? []).ToHashSet());

    public static TheoryData<string, RegistrationInput, string> Refusals => new()
    {
        { "no node", Request(node: ""), "Must provide node" },
        { "no address", Request(address: ""), "Must provide address if SkipNodeUpdate is not set" },
        { "id without name", Request(service: new ServiceInput("web-1", "", "", 80)), "Must provide service name (Service.Service) when service ID is provided" },
        { "0.0.0.0", Request(service: new ServiceInput("", "web", "0.0.0.0", 80)), "Invalid service address" },
        { "::", Request(service: new ServiceInput("", "web", "::", 80)), "Invalid service address" },
        { "check on another node", Request(checks: [new CheckInput("n2", "c1", "", "")]), "Node 'n2' for check 'c1' doesn't match register request node 'n1'" },
        { "check on an unknown service", Request(checks: [new CheckInput("", "c1", "", "db")]), "Unknown service ID 'db' for check ID 'c1'" },
        { "bad status", Request(checks: [new CheckInput("", "c1", "up", "")]), "Status for checks must 'passing', 'warning', 'critical'" },
        { "proxy without port", Request(service: new ServiceInput("", "web-proxy", "", 0, ServiceKinds.ConnectProxy, "web")), "Port or SocketPath must be set for a connect-proxy" },
        { "proxy without destination", Request(service: new ServiceInput("", "web-proxy", "", 21000, ServiceKinds.ConnectProxy, "")), "Proxy.DestinationServiceName must be non-empty for Connect proxy services" },
        { "proxy to a wildcard", Request(service: new ServiceInput("", "web-proxy", "", 21000, ServiceKinds.ConnectProxy, "*")), "Proxy.DestinationServiceName must not be a wildcard for Connect proxy services" },
        { "native proxy", Request(service: new ServiceInput("", "web-proxy", "", 21000, ServiceKinds.ConnectProxy, "web", ConnectNative: true)), "A Proxy cannot also be Connect Native, only typical services" },
        { "ttl without ttl", Request(checks: [new CheckInput("", "c1", "", "", "ttl")]), "A ttl check needs a TTL (Definition.TTL, e.g. \"30s\")" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Register_Invalid_IsRefusedWithConsulsText(string why, RegistrationInput request, string message)
    {
        var problems = CatalogValidation.Register(request);
        Assert.True(problems.Any(p => p.Message == message), $"{why}: {string.Join(" | ", problems)}");
    }

    [Fact]
    public void Register_EveryProblem_IsReportedAtOnce()
    {
        var problems = CatalogValidation.Register(Request(node: "", address: "", checks: [new CheckInput("", "c1", "up", "")]));
        Assert.Equal(["Node", "Address", "Checks[0].Status"], problems.Select(p => p.Field));
    }

    [Theory]
    [InlineData("web", "")]          // the service of the same request (ID defaults to the name)
    [InlineData("web-1", "web-1")]   // by its ID
    public void Register_CheckOnTheRequestsService_IsValid(string checkService, string serviceId)
        => Assert.Empty(CatalogValidation.Register(Request(service: new ServiceInput(serviceId, "web", "", 80),
            checks: [new CheckInput("n1", "c1", "passing", checkService)])));

    [Fact]
    public void Register_CheckOnAServiceAlreadyOnTheNode_IsValid_SkipNodeUpdateNeedsNoAddress()
        => Assert.Empty(CatalogValidation.Register(Request(address: "", skip: true, checks: [new CheckInput("", "c1", "", "db")], existing: ["db"])));

    [Fact]
    public void Deregister_Unknown_UsesConsulsTexts()
    {
        Assert.Equal("Unknown service ID 'web-1'", CatalogValidation.UnknownService("web-1").Message);
        Assert.Equal("Unknown check ID 'c9'", CatalogValidation.UnknownCheck("c9").Message);
    }

    [Fact]
    public void Buckets_AreStableAndInRange()
    {
        Assert.Equal(CatalogBuckets.Of("node-1"), CatalogBuckets.Of("node-1"));
        var used = Enumerable.Range(0, 1000).Select(i => CatalogBuckets.Of($"node-{i}")).ToHashSet();
        Assert.All(used, b => Assert.InRange(b, 0, CatalogBuckets.Count - 1));
        Assert.Equal(CatalogBuckets.Count, used.Count); // 1000 names spread over every bucket
    }

    [Fact]
    public void Index_IsMonotonic_AndAtLeastTheTimeInMilliseconds()
    {
        var ms = (ulong)T0.ToUnixTimeMilliseconds();
        Assert.Equal(ms, CatalogIndex.Next(0, T0));
        Assert.Equal(ms + 1, CatalogIndex.Next(ms, T0));          // same millisecond: still moves
        Assert.Equal(ms + 501, CatalogIndex.Next(ms + 500, T0));  // a clock behind the last index: never goes back
    }

    [Fact]
    public void TagUnion_IsSortedAndDistinct()
        => Assert.Equal(["a", "b", "c"], CatalogIndex.TagUnion([["b", "a"], ["c", "a"], []]).ToArray());

    [Fact]
    public void Keys_BuildAndReadTheName()
    {
        Assert.Equal("dc1/web", CatalogKeys.Service("dc1", "web"));
        Assert.Equal("dc1/s:web/07", CatalogKeys.ServiceBucket("dc1/web", 7));
        Assert.Equal("dc1/n/31", CatalogKeys.NodeBucket("dc1", 31));
        Assert.Equal("node-1", CatalogKeys.NameOf("dc1/node-1"));
    }
}
