using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class ReissueJitterTests
{
    private static readonly DateTimeOffset Rotation = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0.5, 15)]
    [InlineData(0.1, 3)]
    public void Delay_DefaultWindow_IsUniformInThirtySeconds(double random, double seconds)
        => Assert.Equal(TimeSpan.FromSeconds(seconds), ReissueJitter.Delay(random));

    [Fact]
    public void Delay_AlmostOne_StaysBelowWindow()
    {
        var delay = ReissueJitter.Delay(Math.BitDecrement(1.0));
        Assert.True(delay < TimeSpan.FromSeconds(30));
        Assert.True(delay > TimeSpan.FromSeconds(29.99));
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1)]
    [InlineData(double.NaN)]
    public void Delay_RandomOutOfRange_Throws(double random)
        => Assert.Throws<ArgumentOutOfRangeException>(() => ReissueJitter.Delay(random));

    [Fact]
    public void Delay_NonPositiveWindow_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => ReissueJitter.Delay(0.5, TimeSpan.Zero));

    [Theory]
    [InlineData(1, 0, 30)]
    [InlineData(1, 0.5, 45)]
    [InlineData(2, 0, 60)]
    [InlineData(3, 0.5, 105)]
    public void RateLimitedRetryAt_KthError_LandsInWindowK(int errors, double random, double seconds)
        => Assert.Equal(Rotation + TimeSpan.FromSeconds(seconds), ReissueJitter.RateLimitedRetryAt(Rotation, errors, random));

    [Fact]
    public void RateLimitedRetryAt_ZeroErrors_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => ReissueJitter.RateLimitedRetryAt(Rotation, 0, 0.5));

    [Theory]
    [InlineData(1, 30, 50, 1500, 1, 30)]
    [InlineData(1500, 30, 50, 1500, 1, 30)]
    [InlineData(1501, 30, 50, 1500, 2, 60)]           // Consul: ~1,500 per 30 s window at 50 CSR/s
    [InlineData(10_000, 30, 50, 1500, 7, 210)]
    [InlineData(100, 30, 0, 100, 1, 30)]              // rate 0: unlimited, one window
    [InlineData(0, 30, 50, 1500, 0, 0)]
    [InlineData(5, 30, 0.01, 1, 5, 150)]              // tiny rate: at least one per window
    public void ReissueSchedule_CountAndRate_SizesWindows(int count, double windowSeconds, double rate, int perWindow, int windows, double totalSeconds)
    {
        var plan = new ReissueSchedule(count, TimeSpan.FromSeconds(windowSeconds), rate);
        Assert.Equal(perWindow, plan.PerWindow);
        Assert.Equal(windows, plan.WindowCount);
        Assert.Equal(TimeSpan.FromSeconds(totalSeconds), plan.TotalDuration);
    }

    [Theory]
    [InlineData(1, 0, 0.5, 15)]                       // a single item: Consul's uniform [0, 30 s)
    [InlineData(3, 0, 0, 0)]                          // three items share window 0: slots of 10 s
    [InlineData(3, 1, 0, 10)]
    [InlineData(3, 2, 0.5, 25)]
    [InlineData(1501, 1499, 0, 29.98)]                // last slot of window 0 (20 ms slots)
    [InlineData(1501, 1500, 0.5, 45)]                 // the only item in window 1
    [InlineData(3001, 1500, 0, 30)]                   // window 1 starts at 30 s
    [InlineData(3001, 3000, 0, 60)]
    public void ReissueSchedule_DelayFor_PlacesItemInItsWindowSlot(int count, int index, double random, double seconds)
    {
        var plan = new ReissueSchedule(count, TimeSpan.FromSeconds(30), 50);
        Assert.Equal(TimeSpan.FromSeconds(seconds), plan.DelayFor(index, random));
    }

    [Fact]
    public void ReissueSchedule_AnyRandomValues_NeverExceedsRateInAnySecond()
    {
        const int count = 4000;
        var plan = new ReissueSchedule(count, TimeSpan.FromSeconds(30), 50);
        var rng = new Random(42);
        var perSecond = new int[(int)plan.TotalDuration.TotalSeconds + 1];
        for (var k = 0; k < count; k++)
        {
            var delay = plan.DelayFor(k, rng.NextDouble());
            Assert.InRange(delay, TimeSpan.FromSeconds(30) * plan.WindowOf(k), TimeSpan.FromSeconds(30) * (plan.WindowOf(k) + 1));
            perSecond[(int)delay.TotalSeconds]++;
        }
        Assert.All(perSecond, n => Assert.InRange(n, 0, 51));   // one slot per 20 ms, +1 at a boundary
        Assert.Equal(count, perSecond.Sum());
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void ReissueSchedule_IndexOutOfRange_Throws(int index)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new ReissueSchedule(3, TimeSpan.FromSeconds(30), 50).DelayFor(index, 0.5));

    [Theory]
    [InlineData(-1, 30, 50)]
    [InlineData(1, 0, 50)]
    [InlineData(1, 30, -1)]
    [InlineData(1, 30, double.NaN)]
    [InlineData(1, 30, double.PositiveInfinity)]
    public void ReissueSchedule_InvalidArguments_Throw(int count, double windowSeconds, double rate)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new ReissueSchedule(count, TimeSpan.FromSeconds(windowSeconds), rate));
}
