using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class RootRetentionTests
{
    private static readonly DateTimeOffset Rotated = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan LeafTtl = TimeSpan.FromHours(72);

    [Theory]
    [InlineData(0, true, false, RootPruneReason.RetentionNotElapsed)]
    [InlineData(143.9, true, false, RootPruneReason.RetentionNotElapsed)]
    [InlineData(144, true, false, RootPruneReason.RetentionNotElapsed)]      // Consul: strictly more than 2 x leaf TTL
    [InlineData(144.001, true, true, RootPruneReason.Prunable)]
    [InlineData(1000, true, true, RootPruneReason.Prunable)]
    [InlineData(1000, false, false, RootPruneReason.SecondariesNotMigrated)]
    [InlineData(10, false, false, RootPruneReason.RetentionNotElapsed)]      // time is reported first
    public void CanPrune_RotatedOutRoot_NeedsRetentionAndMigration(double hoursSince, bool migrated, bool expected, RootPruneReason reason)
    {
        var decision = RootRetention.CanPrune(Rotated + TimeSpan.FromHours(hoursSince), Rotated, LeafTtl, migrated);
        Assert.Equal(expected, decision.CanPrune);
        Assert.Equal(reason, decision.Reason);
        Assert.Equal(Rotated + TimeSpan.FromHours(144), decision.RetainedUntil);
        Assert.False(string.IsNullOrWhiteSpace(decision.Message));
    }

    [Fact]
    public void CanPrune_ActiveRoot_NeverPrunable()
    {
        var decision = RootRetention.CanPrune(Rotated + TimeSpan.FromDays(3650), null, LeafTtl, allSecondariesMigrated: true);
        Assert.Equal(new RootPruneDecision(false, RootPruneReason.NotRotatedOut, null,
            "root is active (never rotated out); it is never pruned"), decision);
    }

    [Fact]
    public void CanPrune_RetentionNotElapsed_MessageNamesDeadline()
    {
        var decision = RootRetention.CanPrune(Rotated + TimeSpan.FromHours(1), Rotated, LeafTtl, true);
        Assert.Equal("rotated out at 2026-01-01T00:00:00.0000000+00:00; kept for 2 x leaf TTL (144h0m0s) until 2026-01-07T00:00:00.0000000+00:00",
            decision.Message);
    }

    [Fact]
    public void CanPrune_ShorterCurrentLeafTtl_UsesCurrentTtl()
    {
        // The current TTL counts, as in Consul: after lowering it to 1 h a root goes after 2 h.
        var decision = RootRetention.CanPrune(Rotated + TimeSpan.FromHours(2.5), Rotated, TimeSpan.FromHours(1), true);
        Assert.True(decision.CanPrune);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void CanPrune_NonPositiveLeafTtl_Throws(int hours)
        => Assert.Throws<ArgumentOutOfRangeException>(() => RootRetention.CanPrune(Rotated, Rotated, TimeSpan.FromHours(hours), true));

    [Fact]
    public void RetentionPeriod_DefaultLeafTtl_Is144Hours()
    {
        Assert.Equal(TimeSpan.FromHours(144), RootRetention.RetentionPeriod(LeafTtl));
        Assert.Equal(TimeSpan.FromHours(1), RootRetention.PruneInterval);
    }
}
