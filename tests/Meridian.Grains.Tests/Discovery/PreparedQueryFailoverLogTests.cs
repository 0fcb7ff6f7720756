using System.Collections.Immutable;
using Meridian.Core.Discovery;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Tests.Discovery;

/// <summary>
/// Issue 14 §3: what a failover skips is logged. A one-silo dc1 that knows dc-down (ranked nearest, its link always
/// unreachable): an execution with no local instance tries dc-down once (event 7045, the next candidate would follow)
/// and skips the listed unknown datacenter (event 7044); the answer still comes, from dc1, empty.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class PreparedQueryFailoverLogTests : IAsyncLifetime
{
    private readonly LogRecorder _unknown = new(MeridianEventIds.PreparedQueryUnknownDatacenterSkipped);
    private readonly LogRecorder _failed = new(MeridianEventIds.PreparedQueryFailoverFailed);
    private CustomCluster? _cluster;

    public async Task InitializeAsync() => _cluster = await CustomCluster.StartAsync(services =>
    {
        services.AddSingleton<IDatacenterDistances>(new FixedDistances());
        services.AddSingleton<IDatacenterLinks>(new DownLinks());
        services.AddSingleton<ILoggerProvider>(_unknown);
        services.AddSingleton<ILoggerProvider>(_failed);
        services.AddLogging(b => b.AddFilter<LogRecorder>(null, LogLevel.Debug));
    });

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task Execute_NoLocalInstance_FailedCandidateAndUnknownDatacenter_Logged_AnswerStillComes()
    {
        var queries = _cluster!.GatewayClient.GetGrain<IPreparedQueryGrain>(CustomCluster.Datacenter);
        await queries.CreateAsync(new PreparedQueryDto
        {
            Name = "logged", Service = new ServiceQueryDto { Service = "absent", Failover = new() { NearestN = 1, Datacenters = ["dc-nowhere", "dc-down"] } },
        });

        var answer = await queries.ExecuteAsync("logged");

        Assert.Equal((CustomCluster.Datacenter, 1, 0), (answer.Datacenter, answer.Failovers, answer.Nodes.Length)); // dc-down tried once only
        Assert.True(await _failed.WaitForAsync(m => m.Contains("dc-down", StringComparison.Ordinal) && m.Contains("DatacenterUnreachableException", StringComparison.Ordinal), ClusterFixture.SignalTimeout),
            "no failover-failed line for dc-down: " + string.Join(" | ", _failed.Messages));
        Assert.True(await _unknown.WaitForAsync(m => m.Contains("dc-nowhere", StringComparison.Ordinal), ClusterFixture.SignalTimeout),
            "no unknown-datacenter line for dc-nowhere: " + string.Join(" | ", _unknown.Messages));
    }

    private sealed class FixedDistances : IDatacenterDistances
    {
        public ImmutableArray<DatacenterDistance> Ranked() => [new(CustomCluster.Datacenter, TimeSpan.Zero), new("dc-down", TimeSpan.FromMilliseconds(5))];

        public bool IsReachable(string datacenter) => datacenter == CustomCluster.Datacenter;
    }

    private sealed class DownLinks : IDatacenterLinks
    {
        public Task<IGrainFactory> GetAsync(string datacenter, TimeSpan wait, CancellationToken cancellationToken = default) =>
            datacenter == "dc-down"
                ? throw new DatacenterUnreachableException(datacenter, "Remote DC has no server currently reachable: dc-down (test)")
                : throw new UnknownDatacenterException(datacenter);
    }
}
