using Meridian.Grains.Intentions;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests;

/// <summary>
/// A scan of the whole registry (list) never holds the registry's single activation: a write, the change feed and an
/// authorize that depends on it all complete while a list is still running. The list is held open by a gate, so the
/// order is certain without any timing.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class RegistryScanTests
{
    private const string Dc = CustomCluster.Datacenter;

    /// <summary>Holds every scan named <c>operation</c> at its start until <see cref="Release"/>.</summary>
    private sealed class GatedScans(string operation) : RegistryScans
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public void Release() => _release.TrySetResult();

        public override async Task<T> RunAsync<T>(string name, Func<T> scan)
        {
            if (name == operation)
            {
                _entered.TrySetResult();
                await _release.Task;
            }
            return await base.RunAsync(name, scan);
        }
    }

    [Fact]
    public async Task List_InProgress_WriteAndAuthorizeCompleteBeforeIt()
    {
        var gate = new GatedScans("List");
        await using var dc = await CustomCluster.StartAsync(s => s.AddSingleton<RegistryScans>(gate));
        var registry = dc.GatewayClient.GetGrain<IIntentionRegistryGrain>(Dc);
        await registry.UpsertAsync(new IntentionDto { SourceName = "web", DestinationName = "db", Action = "allow" });

        var list = registry.ListAsync();
        await gate.Entered.WaitAsync(ClusterFixture.SignalTimeout);

        var write = await registry.UpsertAsync(new IntentionDto { SourceName = "api", DestinationName = "db", Action = "deny" })
            .WaitAsync(ClusterFixture.SignalTimeout);
        // The silo's cache follows the registry's change feed (an interleaved long-poll on the same activation).
        var cache = dc.SiloServices.GetRequiredService<IntentionCache>();
        Assert.True(await cache.WaitForIndexAsync(write.Index, ClusterFixture.SignalTimeout, TimeProvider.System),
            $"cache at {cache.Current.Index}, expected {write.Index}, while a list was running");
        Assert.False(await dc.GatewayClient.GetGrain<IAuthorizerGrain>(Dc).CheckAsync("api", "db"));
        Assert.False(list.IsCompleted, "the list completed before the write: the gate did not hold it");

        gate.Release();
        var listed = await list.WaitAsync(ClusterFixture.SignalTimeout);
        // The list is the registry as it was when the list was asked for.
        Assert.Equal(["web"], listed.Intentions.Select(i => i.SourceName));
        Assert.True(listed.Index < write.Index);
    }
}
