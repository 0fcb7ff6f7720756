using Meridian.Core.Certificates;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class SigningCaExpiryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static DateTimeOffset At(double hours) => T0 + TimeSpan.FromHours(hours);

    [Theory]
    [InlineData(4380, false)]    // half-life: renewal is due, not yet a problem
    [InlineData(5256, false)]    // exactly 60 %: not past it
    [InlineData(5256.01, true)]  // past half-life + 10 %: renewal has been failing
    [InlineData(8759, true)]
    public void Problem_Intermediate_ReportedPastSixtyPercentOfLife(double now, bool reported)
        => Assert.Equal(reported, SigningCaExpiry.Problem(At(now), At(0), At(8760), SigningCaKind.Intermediate).Length > 0);

    [Theory]
    [InlineData(5256.01, false)] // what alarms for an intermediate is normal for a root
    [InlineData(78840, false)]   // exactly 90 %
    [InlineData(78840.01, true)]
    [InlineData(87599, true)]
    public void Problem_Root_ReportedInLastTenPercentOfLife(double now, bool reported)
        => Assert.Equal(reported, SigningCaExpiry.Problem(At(now), At(0), At(87600), SigningCaKind.Root).Length > 0);

    [Fact]
    public void Problem_IntermediatePastSlack_NamesExpiryAndFailingRenewal()
        => Assert.Equal(
            "signing intermediate CA certificate expires at 2026-01-01T10:00:00.0000000+00:00 and was not renewed at half-life " +
            "(2026-01-01T05:00:00.0000000+00:00): renewal from the primary datacenter is failing",
            SigningCaExpiry.Problem(At(7), At(0), At(10), SigningCaKind.Intermediate));

    [Fact]
    public void Problem_RootNearExpiry_NamesExpiryAndAsksForRotation()
        => Assert.Equal("signing root CA certificate expires at 2026-01-01T10:00:00.0000000+00:00, within the last 10% of its lifetime: rotate the root",
            SigningCaExpiry.Problem(At(9.5), At(0), At(10), SigningCaKind.Root));

    [Theory]
    [InlineData(SigningCaKind.Root)]
    [InlineData(SigningCaKind.Intermediate)]
    public void Problem_Expired_SaysExpiredAt(SigningCaKind kind)
    {
        Assert.StartsWith("signing ", SigningCaExpiry.Problem(At(10), At(0), At(10), kind), StringComparison.Ordinal);
        Assert.EndsWith("expired at 2026-01-01T10:00:00.0000000+00:00: new leaf certificates will not verify",
            SigningCaExpiry.Problem(At(11), At(0), At(10), kind), StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_FreshCertificate_IsEmpty()
        => Assert.Equal("", SigningCaExpiry.Problem(At(1), At(0), At(8760), SigningCaKind.Intermediate));

    [Fact]
    public void AlarmAt_DefaultIntermediate_Is5256HoursAfterIssuance()
        => Assert.Equal(At(5256), SigningCaExpiry.AlarmAt(At(0), At(8760), SigningCaKind.Intermediate));
}
