using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class TokenBucketTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(500);

    // rate/s, tokens asked, expected count, expected first (ms after T0): 10/s reaches T0..T0+500 ms = 6 tokens.
    [Theory]
    [InlineData(10, 1, 1, 0)]
    [InlineData(10, 4, 4, 0)]
    [InlineData(10, 100, 6, 0)]
    [InlineData(1, 5, 1, 0)]
    [InlineData(0.001, 5, 1, 0)]
    public void Reserve_IdleBucket_GrantsWhatFitsInTheMaxWait(double rate, int asked, int count, int firstMs)
    {
        var run = new TokenBucket(rate).Reserve(T0, MaxWait, asked);
        Assert.Equal((T0.AddMilliseconds(firstMs), count), (run.First, run.Count));
    }

    [Fact]
    public void Reserve_AfterABatch_NextBatchStartsWhereTheLastEnded()
    {
        var bucket = new TokenBucket(10);
        var first = bucket.Reserve(T0, MaxWait, 3);
        var second = bucket.Reserve(T0, MaxWait, 10);
        Assert.Equal((T0.AddMilliseconds(300), 3), (second.First, second.Count)); // 300, 400, 500 ms
        Assert.Equal(3, first.Count);
    }

    [Fact]
    public void Reserve_Exhausted_GrantsNothingAndSaysWhenTheNextTokenFrees()
    {
        var bucket = new TokenBucket(1);
        bucket.Reserve(T0, MaxWait, 1);
        var refused = bucket.Reserve(T0, MaxWait, 1);
        Assert.Equal((T0.AddSeconds(1), 0), (refused.First, refused.Count));
        Assert.Null(bucket.TryTake(T0, MaxWait));
    }

    [Fact]
    public void Reserve_Unlimited_GrantsAllAtOnce()
    {
        var run = new TokenBucket(0).Reserve(T0, MaxWait, 7);
        Assert.Equal((T0, TimeSpan.Zero, 7), (run.First, run.Interval, run.Count));
    }

    [Fact]
    public void LeasedSlots_TakesTokensInOrderWithTheirWaits()
    {
        var slots = new LeasedSlots(TimeSpan.FromMilliseconds(100));
        Assert.Null(slots.TryTake(T0));
        slots.Add(new SlotRun(T0, TimeSpan.FromMilliseconds(100), 3));
        Assert.Equal(TimeSpan.Zero, slots.TryTake(T0));
        Assert.Equal(TimeSpan.FromMilliseconds(100), slots.TryTake(T0));
        Assert.Equal(TimeSpan.FromMilliseconds(200), slots.TryTake(T0));
        Assert.Null(slots.TryTake(T0));
    }

    [Theory]
    [InlineData(150, 2)]  // token 0 (due at 0) is within its 100 ms grace at 100, lapsed at 150; tokens 1, 2 remain
    [InlineData(100, 3)]
    [InlineData(1000, 0)] // everything lapsed: a silo cannot save tokens up into a burst
    [InlineData(250, 1)]
    public void LeasedSlots_TokensPastTheirGrace_Lapse(int atMs, int usable)
    {
        var slots = new LeasedSlots(TimeSpan.FromMilliseconds(100));
        slots.Add(new SlotRun(T0, TimeSpan.FromMilliseconds(100), 3));
        var taken = 0;
        while (slots.TryTake(T0.AddMilliseconds(atMs)) is not null) taken++;
        Assert.Equal(usable, taken);
    }
}
