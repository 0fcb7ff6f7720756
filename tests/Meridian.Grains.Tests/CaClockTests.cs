using Meridian.Grains.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests;

/// <summary>CA behaviour that depends on time passing, on a one-silo datacenter whose clock the test moves forward.</summary>
[Trait("Category", "Cluster")]
public sealed class CaClockTests
{
    private static Task<CustomCluster> StartAsync(ShiftedClock clock, TimeSpan pruneInterval) => CustomCluster.StartAsync(s =>
    {
        s.AddSingleton<TimeProvider>(clock);
        s.AddSingleton(new CaMaintenanceSettings(pruneInterval));
    });

    [Fact]
    public async Task GetStatus_RootInLastTenthOfLife_DegradedNamingExpiry()
    {
        var clock = new ShiftedClock();
        await using var dc = await StartAsync(clock, CaMaintenanceSettings.Default.PruneInterval);
        var status = dc.Client.GetGrain<IDatacenterGrain>(CustomCluster.Datacenter);
        var fresh = await status.GetStatusAsync();
        Assert.Equal("", fresh.Degraded);
        var expiry = fresh.Ca.SigningCaExpiry!.Value;

        clock.Advance((expiry - clock.GetUtcNow()) - TimeSpan.FromDays(30)); // ten-year root, 30 days left

        var late = await status.GetStatusAsync();
        Assert.Equal($"CA: signing root CA certificate expires at {expiry:O}, within the last 10% of its lifetime: rotate the root", late.Degraded);
    }
}
