using Meridian.Grains.Certificates;
using Meridian.Pki;
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

    private static string[] Pems(string pem) => [.. CertificateInfo.ParseAll(pem).Select(c => c.ToPem())];

    [Fact]
    public async Task Prune_ExpiredCrossSign_DroppedFromRoots_IndexBumped_NewLeavesVerify()
    {
        var clock = new ShiftedClock();
        await using var dc = await StartAsync(clock, TimeSpan.FromMilliseconds(200));
        await dc.Ca.InitializeAsync();
        var rotated = await dc.Ca.RotateAsync();
        var active = rotated.Roots.Single(r => r.Active);
        var crossSign = Assert.Single(active.IntermediateCerts);

        // Past the cross-sign's NotAfter (at least 7 days, CrossSignPolicy).
        clock.Advance(CertificateInfo.Parse(crossSign).NotAfter - clock.GetUtcNow() + TimeSpan.FromMinutes(1));
        var after = rotated;
        using (var cts = new CancellationTokenSource(ClusterFixture.SignalTimeout))
        {
            while (after.Roots.Single(r => r.Active).IntermediateCerts.Length > 0)
            {
                Assert.False(cts.IsCancellationRequested, "the expired cross-sign was still listed after the prune interval");
                after = await dc.Ca.WaitForRootsChangeAsync(after.Index, ClusterFixture.SignalTimeout, cts.Token);
            }
        }

        var kept = after.Roots.Single(r => r.Active);
        Assert.Equal(active.ID, kept.ID);
        Assert.True(after.Index > rotated.Index, $"roots index {after.Index}, was {rotated.Index}");
        Assert.Equal(after.Index, kept.ModifyIndex);
        Assert.Equal(after.Index, (await dc.Ca.GetRootsAsync()).Index);

        // A leaf issued now chains to the active root without the expired cross-sign.
        var leaf = await dc.Client.GetGrain<IServiceCertificateGrain>($"{CustomCluster.Datacenter}/web-{Guid.NewGuid():N}").GetAsync();
        Assert.Equal(kept.ID, leaf.RootID);
        var verified = ChainVerifier.Verify(leaf.CertPEM, [kept.RootCert], clock.GetUtcNow());
        Assert.True(verified.IsValid, verified.Error);
        Assert.DoesNotContain(Pems(crossSign)[0], Pems(leaf.CertPEM));
    }

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
