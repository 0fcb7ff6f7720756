using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class CrossSignPolicyTests
{
    [Theory]
    [InlineData(1, 168)]                 // short leaves: Consul's 7 days is the floor
    [InlineData(72, 168)]
    [InlineData(167, 168)]
    [InlineData(168, 169)]               // a 7-day leaf needs 7 days + 1 h
    [InlineData(720, 721)]
    [InlineData(8760, 8761)]
    public void Lifetime_LeafTtl_IsMaxOfLeafPlusHourAndSevenDays(double leafHours, double expectedHours)
        => Assert.Equal(TimeSpan.FromHours(expectedHours), CrossSignPolicy.Lifetime(TimeSpan.FromHours(leafHours)));

    [Fact]
    public void Validity_Now_BackdatesOneMinute()
    {
        var now = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var (nb, na) = CrossSignPolicy.Validity(now, TimeSpan.FromHours(72));
        Assert.Equal(now - TimeSpan.FromMinutes(1), nb);
        Assert.Equal(nb + TimeSpan.FromDays(7), na);
    }

    [Fact]
    public void Lifetime_NonPositiveLeafTtl_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => CrossSignPolicy.Lifetime(TimeSpan.Zero));
}
