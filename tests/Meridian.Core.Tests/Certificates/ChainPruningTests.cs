using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class ChainPruningTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private static DateTimeOffset D(int days) => Now + TimeSpan.FromDays(days);

    public static TheoryData<int[], int[]> Cases => new()
    {
        { [], [] },
        { [10], [10] },
        { [-1], [] },
        { [0], [] },                          // NotAfter == now is expired (Consul keeps only NotAfter > now)
        { [-30, -1, 5, 365], [5, 365] },      // expired cross-sign and intermediates dropped
        { [7, -400, -10, 365], [7, 365] },    // order kept: the signing intermediate stays last
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void KeepUnexpired_Chain_DropsExpiredKeepsOrder(int[] notAfterDays, int[] keptDays)
    {
        Assert.Equal(keptDays.Select(D), ChainPruning.KeepUnexpired(notAfterDays.Select(D), Now));
        var certs = notAfterDays.Select((d, i) => (Name: $"c{i}", NotAfter: D(d))).ToList();
        var kept = ChainPruning.KeepUnexpired(certs, c => c.NotAfter, Now);
        Assert.Equal(keptDays.Select(D), kept.Select(c => c.NotAfter));
        Assert.Equal(keptDays.Length < notAfterDays.Length, ChainPruning.HasExpired(certs, c => c.NotAfter, Now));
    }

    [Fact]
    public void KeepUnexpired_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => ChainPruning.KeepUnexpired<DateTimeOffset>(null!, t => t, Now));
        Assert.Throws<ArgumentNullException>(() => ChainPruning.KeepUnexpired([Now], null!, Now));
    }
}
