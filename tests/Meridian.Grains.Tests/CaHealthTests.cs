using Meridian.Core.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests;

/// <summary>CA health in datacenter status: a failed initialisation (SPEC §5 item 16) and signing-CA expiry (items 6, 12).</summary>
[Trait("Category", "Cluster")]
public sealed class CaHealthTests
{
    [Fact]
    public async Task GetStatus_CaInitialisationFails_AnswersDegradedWithReason_AndStillAuthorizes()
    {
        // Stored CA configuration that cannot generate a key (EC has no 123-bit curve): every initialisation attempt throws.
        var broken = CaConfiguration.Default with { PrivateKeyBits = 123 };
        await using var dc = await CustomCluster.StartAsync(s => s.AddSingleton(broken));
        await Assert.ThrowsAnyAsync<Exception>(() => dc.Ca.InitializeAsync());
        Assert.Equal(123, (await dc.Ca.GetConfigurationAsync()).PrivateKeyBits); // a failed attempt keeps the configured spec

        var status = await dc.Client.GetGrain<IDatacenterGrain>(CustomCluster.Datacenter).GetStatusAsync();

        Assert.Equal("UNINITIALIZED", status.Ca.State);
        Assert.StartsWith("CA initialisation failed: ", status.Degraded, StringComparison.Ordinal);
        Assert.Contains("PrivateKeyBits: EC key length must be one of (224, 256, 384, 521) bits", status.Degraded, StringComparison.Ordinal);
        // The datacenter keeps serving intentions and authorize without a CA.
        var registry = dc.Client.GetGrain<IIntentionRegistryGrain>(CustomCluster.Datacenter);
        var write = await registry.UpsertAsync(new IntentionDto { SourceName = "web", DestinationName = "db", Action = "deny" });
        Assert.True(await dc.SiloServices.GetRequiredService<Intentions.IntentionCache>()
            .WaitForIndexAsync(write.Index, ClusterFixture.SignalTimeout, TimeProvider.System));
        Assert.False(await dc.Client.GetGrain<IAuthorizerGrain>(CustomCluster.Datacenter).CheckAsync("web", "db"));
    }
}
