using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class RenewalScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static DateTimeOffset At(double hours) => T0 + TimeSpan.FromHours(hours);

    // 72 h certificate from T0: 60 % = 43.2 h, 90 % = 64.8 h.
    [Theory]
    [InlineData(0, 72, 0, 43.2, 64.8)]          // fresh: [60 %, 90 %]
    [InlineData(0, 72, 43.2, 43.2, 64.8)]       // exactly at 60 %
    [InlineData(0, 72, 50, 50, 64.8)]           // inside: [now, 90 %]
    [InlineData(0, 72, 64.8, 64.8, 64.8)]       // at 90 %: now
    [InlineData(0, 72, 70, 70, 70)]             // past 90 %: now
    [InlineData(0, 72, 80, 80, 80)]             // expired: now
    [InlineData(0, 1, 0, 0.6, 0.9)]             // 1 h certificate: 36 min .. 54 min
    [InlineData(10, 20, 5, 16, 19)]             // not yet valid: window still from notBefore
    public void Window_Lifetime_IsSixtyToNinetyPercent(double nb, double na, double now, double earliest, double latest)
    {
        var (e, l) = RenewalSchedule.Window(At(now), At(nb), At(na));
        Assert.Equal(At(earliest), e);
        Assert.Equal(At(latest), l);
    }

    [Theory]
    [InlineData(9.99)]
    [InlineData(5)]
    [InlineData(0)]
    [InlineData(-5)]                            // notAfter before notBefore
    public void Window_LifetimeUnderTenMinutes_RenewsNow(double minutes)
    {
        var now = T0 + TimeSpan.FromSeconds(1);
        Assert.Equal((now, now), RenewalSchedule.Window(now, T0, T0 + TimeSpan.FromMinutes(minutes)));
    }

    [Fact]
    public void Window_LifetimeExactlyTenMinutes_HasWindow()
    {
        var (e, l) = RenewalSchedule.Window(T0, T0, T0 + TimeSpan.FromMinutes(10));
        Assert.Equal(T0 + TimeSpan.FromMinutes(6), e);
        Assert.Equal(T0 + TimeSpan.FromMinutes(9), l);
    }

    [Fact]
    public void Window_OddTickLifetime_UsesIntegerArithmetic()
    {
        var notAfter = T0 + TimeSpan.FromTicks(TimeSpan.FromHours(1).Ticks + 7);
        var (e, l) = RenewalSchedule.Window(T0, T0, notAfter);
        Assert.Equal(T0 + TimeSpan.FromTicks((TimeSpan.FromHours(1).Ticks + 7) * 6 / 10), e);
        Assert.Equal(T0 + TimeSpan.FromTicks((TimeSpan.FromHours(1).Ticks + 7) * 9 / 10), l);
    }

    [Theory]
    [InlineData(0, 0, 43.2)]
    [InlineData(0, 0.5, 54)]                    // the average: ~75 % = 54 h for a 72 h certificate
    [InlineData(0, 0.25, 48.6)]
    [InlineData(50, 0.5, 57.4)]                 // inside the window: uniform in [now, 90 %]
    [InlineData(70, 0.99, 70)]                  // past 90 %: now, whatever the random value
    public void PickRenewalTime_Random_IsUniformInWindow(double now, double random, double expected)
    {
        var picked = RenewalSchedule.PickRenewalTime(At(now), At(0), At(72), random);
        Assert.Equal(At(expected), picked);
    }

    [Fact]
    public void PickRenewalTime_AlmostOne_StaysBeforeWindowEnd()
    {
        var picked = RenewalSchedule.PickRenewalTime(T0, T0, At(72), Math.BitDecrement(1.0));
        Assert.True(picked < At(64.8));
        Assert.True(picked > At(64.7));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void PickRenewalTime_RandomOutOfRange_Throws(double random)
        => Assert.Throws<ArgumentOutOfRangeException>(() => RenewalSchedule.PickRenewalTime(T0, T0, At(72), random));

    [Theory]
    [InlineData(50, 60, false)]                 // before the picked time, inside the window
    [InlineData(60, 60, true)]                  // picked time reached
    [InlineData(65, 70, true)]                  // past 90 % even though the picked time is later
    [InlineData(10, 5, true)]
    public void IsDue_Now_ComparesWithRenewAtAndHardLimit(double now, double renewAt, bool expected)
        => Assert.Equal(expected, RenewalSchedule.IsDue(At(now), At(renewAt), At(0), At(72)));
}
