using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class IntermediateRenewalTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static DateTimeOffset At(double hours) => T0 + TimeSpan.FromHours(hours);

    [Theory]
    [InlineData(0, 8760, 4379.99, false)]
    [InlineData(0, 8760, 4380, true)]            // exactly half: notBefore + life/2 <= now
    [InlineData(0, 8760, 4381, true)]
    [InlineData(0, 8760, 9000, true)]            // expired
    [InlineData(0, 8760, -1, false)]             // not yet valid
    [InlineData(100, 106, 102.9, false)]
    [InlineData(100, 106, 103, true)]
    public void NeedsRenewal_Now_TrueFromHalfLife(double nb, double na, double now, bool expected)
        => Assert.Equal(expected, IntermediateRenewal.NeedsRenewal(At(now), At(nb), At(na)));

    [Fact]
    public void RenewAt_DefaultIntermediate_Is4380HoursAfterIssuance()
        => Assert.Equal(At(4380), IntermediateRenewal.RenewAt(At(0), At(8760)));

    [Fact]
    public void CheckInterval_IsOneHour() => Assert.Equal(TimeSpan.FromHours(1), IntermediateRenewal.CheckInterval);
}
