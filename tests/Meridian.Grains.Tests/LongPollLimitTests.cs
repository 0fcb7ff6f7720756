using Meridian.Core.Validation;
using Meridian.Grains.Hosting;
using Meridian.Grains.Tests.Federation;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests;

/// <summary>A client of the gateway may hold at most <see cref="InputLimits.MaxLongPollsPerCaller"/> long-polls at once.</summary>
[Trait("Category", "Cluster")]
public sealed class LongPollLimitTests
{
    [Fact]
    public async Task LongPolls_OverTheCapPerClient_RefusedUntilOneAnswers()
    {
        await using var dc = await CustomCluster.StartAsync(_ => { });
        var registry = dc.GatewayClient.GetGrain<IIntentionRegistryGrain>(CustomCluster.Datacenter);
        var at = (await registry.WaitForChangesAsync(0, TimeSpan.Zero)).Index;
        var polls = Enumerable.Range(0, InputLimits.MaxLongPollsPerCaller)
            .Select(_ => registry.WaitForChangesAsync(at, TimeSpan.FromMinutes(10))).ToList();
        var limit = dc.SiloServices.GetRequiredService<LongPollLimitFilter>();
        await Poll.UntilAsync(() => Task.FromResult(limit.WaitingTotal == InputLimits.MaxLongPollsPerCaller),
            () => Task.FromResult($"{limit.WaitingTotal} long-polls waiting, expected {InputLimits.MaxLongPollsPerCaller}"));

        var refused = await Assert.ThrowsAsync<MeridianException>(() => registry.WaitForChangesAsync(at, TimeSpan.FromMinutes(10)));
        Assert.Equal(MeridianErrorKind.RateLimited, refused.Kind);
        Assert.Contains($"already has {InputLimits.MaxLongPollsPerCaller} long-polls waiting", refused.Message);
        // The silo's own callers are not counted: from inside the cluster the same wait is accepted.
        var inside = dc.Client.GetGrain<IIntentionRegistryGrain>(CustomCluster.Datacenter).WaitForChangesAsync(at, TimeSpan.FromMinutes(10));

        // A change answers every wait; the client may poll again.
        await dc.Client.GetGrain<IIntentionRegistryGrain>(CustomCluster.Datacenter)
            .UpsertAsync(new IntentionDto { SourceName = "web", DestinationName = "db", Action = "allow" });
        await Task.WhenAll(polls.Append(inside)).WaitAsync(ClusterFixture.SignalTimeout);
        Assert.NotNull(await registry.WaitForChangesAsync(0, TimeSpan.Zero));
        Assert.Equal(0, limit.WaitingTotal);
    }
}
