using System.Collections.Immutable;
using Meridian.Core.Discovery;
using static Meridian.Core.Tests.Discovery.Instances;

namespace Meridian.Core.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class QueryFailoverPlanTests
{
    private static readonly HashSet<string> Known = ["dc1", "dc2", "dc3", "dc4"];
    private static readonly string[] Nearest = ["dc3", "dc2", "dc4"];

    [Theory]
    [InlineData(0, new string[0], new string[0], new string[0])]
    [InlineData(1, new string[0], new[] { "dc3" }, new string[0])]
    [InlineData(2, new string[0], new[] { "dc3", "dc2" }, new string[0])]
    [InlineData(9, new string[0], new[] { "dc3", "dc2", "dc4" }, new string[0])]
    [InlineData(0, new[] { "dc4", "dc2" }, new[] { "dc4", "dc2" }, new string[0])]
    [InlineData(1, new[] { "dc3", "dc9", "dc2", "dc2" }, new[] { "dc3", "dc2" }, new[] { "dc9" })]   // chosen once; unknown reported
    [InlineData(0, new[] { "dc1", "dc2" }, new[] { "dc2" }, new string[0])]                          // the local one is not tried again
    public void Plan_NearestThenListed(int nearestN, string[] listed, string[] expected, string[] unknown)
    {
        var plan = QueryFailoverPlan.Plan("dc1", Nearest, Known, new QueryFailover { NearestN = nearestN, Datacenters = [.. listed] });
        Assert.Equal(expected, plan.Datacenters);
        Assert.Equal(unknown, plan.Unknown);
    }

    [Fact]
    public void Plan_NearestListIncludesLocal_LocalRemoved() =>
        Assert.Equal(["dc2"], QueryFailoverPlan.Plan("dc1", ["dc1", "dc2"], Known, new QueryFailover { NearestN = 1 }).Datacenters.ToArray());

    [Fact]
    public void Plan_Targets_DatacenterTargetsInOrder() =>
        Assert.Equal(["dc4", "dc2"], QueryFailoverPlan.Plan("dc1", Nearest, Known,
            new QueryFailover { Targets = [new("dc4"), new(Peer: "p1"), new("dc2")] }).Datacenters.ToArray());

    private static PreparedQuery Query(int nearestN = 0, params string[] dcs) => new()
    {
        Name = "geo-web",
        Service = new ServiceQuery { Service = "web", Failover = new() { NearestN = nearestN, Datacenters = [.. dcs] } },
        Dns = new("10s"),
    };

    private sealed class Fetcher(Dictionary<string, Func<IReadOnlyList<ServiceInstance>>> answers)
    {
        public List<string> Calls { get; } = [];

        public Task<IReadOnlyList<ServiceInstance>> Fetch(string dc, CancellationToken ct)
        {
            Calls.Add(dc);
            return Task.FromResult(answers.TryGetValue(dc, out var a) ? a() : []);
        }
    }

    private static IReadOnlyList<ServiceInstance> One(string dc) => [Of($"web-{dc}", dc: dc)];

    [Fact]
    public async Task Execute_LocalHasInstances_NoFailover()
    {
        var f = new Fetcher(new() { ["dc1"] = () => One("dc1"), ["dc2"] = () => One("dc2") });
        var run = await QueryFailoverPlan.ExecuteAsync(Query(2), "dc1", Nearest, Known, f.Fetch);
        Assert.Equal(("web", "dc1", 0, "10s"), (run.Answer.Service, run.Answer.Datacenter, run.Answer.Failovers, run.Answer.Dns.Ttl));
        Assert.Equal(["dc1"], f.Calls);
    }

    [Fact]
    public async Task Execute_LocalEmpty_FirstCandidateWithInstancesAnswers()
    {
        var f = new Fetcher(new() { ["dc2"] = () => One("dc2"), ["dc4"] = () => One("dc4") });
        var run = await QueryFailoverPlan.ExecuteAsync(Query(1, "dc9", "dc2", "dc4"), "dc1", Nearest, Known, f.Fetch);
        Assert.Equal(["dc1", "dc3", "dc2"], f.Calls);                  // dc3 (nearest, empty), then dc2; dc4 never asked
        Assert.Equal(("dc2", 2), (run.Answer.Datacenter, run.Answer.Failovers));
        Assert.Equal("web-dc2", Assert.Single(run.Answer.Nodes).Service.Id);
        Assert.Equal(["dc9"], run.UnknownDatacenters.ToArray());
    }

    [Fact]
    public async Task Execute_CandidateThrows_SkippedAndReported()
    {
        var f = new Fetcher(new() { ["dc3"] = () => throw new InvalidOperationException("unreachable"), ["dc2"] = () => One("dc2") });
        var run = await QueryFailoverPlan.ExecuteAsync(Query(2), "dc1", Nearest, Known, f.Fetch);
        Assert.Equal(("dc2", 2), (run.Answer.Datacenter, run.Answer.Failovers));
        Assert.Equal("dc3", Assert.Single(run.Errors).Datacenter);
    }

    [Fact]
    public async Task Execute_NothingAnywhere_EmptyFromLastAnswering()
    {
        var f = new Fetcher(new() { ["dc4"] = () => throw new InvalidOperationException("down") });
        var run = await QueryFailoverPlan.ExecuteAsync(Query(0, "dc2", "dc4"), "dc1", Nearest, Known, f.Fetch);
        Assert.Empty(run.Answer.Nodes);
        Assert.Equal(("dc2", 2), (run.Answer.Datacenter, run.Answer.Failovers));
    }

    [Fact]
    public async Task Execute_NoFailoverConfigured_LocalEmptyAnswer()
    {
        var f = new Fetcher([]);
        var run = await QueryFailoverPlan.ExecuteAsync(Query(), "dc1", Nearest, Known, f.Fetch);
        Assert.Equal(("dc1", 0), (run.Answer.Datacenter, run.Answer.Failovers));
        Assert.Equal(["dc1"], f.Calls);
    }

    [Fact]
    public async Task Execute_LocalThrows_QueryFails()
    {
        var f = new Fetcher(new() { ["dc1"] = () => throw new InvalidOperationException("catalog down") });
        await Assert.ThrowsAsync<InvalidOperationException>(() => QueryFailoverPlan.ExecuteAsync(Query(1), "dc1", Nearest, Known, f.Fetch));
    }
}
