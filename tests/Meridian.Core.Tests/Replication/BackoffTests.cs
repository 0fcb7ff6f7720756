using Meridian.Core.Replication;

namespace Meridian.Core.Tests.Replication;

[Trait("Category", "Unit")]
public sealed class BackoffTests
{
    public static TheoryData<int, double, double> Cases() => new()
    {
        // attempt, random01, expected seconds
        { 1, 0.0, 1 },
        { 2, 0.0, 2 },
        { 3, 0.0, 4 },
        { 7, 0.0, 64 },
        { 8, 0.0, 120 },       // 128 capped
        { 9, 0.0, 120 },
        { int.MaxValue, 0.0, 120 },
        { 0, 0.0, 1 },         // before the first failure counts as the first
        { -5, 0.0, 1 },
        { 1, 0.5, 1.05 },      // jitter: up to 10 % on top
        { 3, 0.999, 4 * 1.0999 },
        { 8, 0.999, 120 * 1.0999 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Delay_Attempt_DoublesToTheCapWithJitter(int attempt, double random01, double seconds)
        => Assert.Equal(seconds, Backoff.Delay(attempt, random01).TotalSeconds, precision: 6);

    [Theory]
    [InlineData(1, 0.0, 0.5)]
    [InlineData(2, 0.0, 1.0)]
    [InlineData(6, 0.0, 16.0)]
    [InlineData(7, 0.0, 30.0)]
    [InlineData(40, 0.5, 31.5)]
    public void Delay_FromFirstToCap_DoublesWithJitter(int attempt, double random01, double seconds)
        => Assert.Equal(seconds, Backoff.Delay(attempt, random01, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30)).TotalSeconds, 9);

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    public void Delay_RandomOutsideUnitInterval_Throws(double random01)
        => Assert.Throws<ArgumentOutOfRangeException>(() => Backoff.Delay(1, random01));
}
