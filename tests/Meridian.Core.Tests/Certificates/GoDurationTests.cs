using Meridian.Core.Certificates;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class GoDurationTests
{
    private static TimeSpan Ns(long nanos) => TimeSpan.FromTicks(nanos / 100);

    // Go's documented Duration.String() outputs (time_test.go durationTests), at TimeSpan's 100 ns resolution.
    public static TheoryData<TimeSpan, string> Formats => new()
    {
        { TimeSpan.Zero, "0s" },
        { TimeSpan.FromHours(72), "72h0m0s" },
        { TimeSpan.FromHours(1), "1h0m0s" },
        { TimeSpan.FromHours(3), "3h0m0s" },
        { TimeSpan.FromHours(8760), "8760h0m0s" },
        { TimeSpan.FromHours(87600), "87600h0m0s" },
        { TimeSpan.FromHours(216), "216h0m0s" },
        { TimeSpan.FromSeconds(90), "1m30s" },
        { TimeSpan.FromMilliseconds(500), "500ms" },
        { TimeSpan.FromMilliseconds(1500), "1.5s" },
        { TimeSpan.FromSeconds(30), "30s" },
        { TimeSpan.FromMinutes(90), "1h30m0s" },
        { Ns(100), "100ns" },
        { Ns(1100), "1.1\u00b5s" },
        { Ns(2_200_000), "2.2ms" },
        { TimeSpan.FromMilliseconds(3300), "3.3s" },
        { TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(5), "4m5s" },
        { TimeSpan.FromMinutes(4) + TimeSpan.FromMilliseconds(5001), "4m5.001s" },
        { TimeSpan.FromHours(5) + TimeSpan.FromMinutes(6) + TimeSpan.FromMilliseconds(7001), "5h6m7.001s" },
        { TimeSpan.FromMinutes(8) + Ns(100), "8m0.0000001s" },
        { TimeSpan.FromTicks(long.MaxValue / 100), "2562047h47m16.8547758s" },
        { -TimeSpan.FromSeconds(5), "-5s" },
        { -(TimeSpan.FromMinutes(2) + TimeSpan.FromMilliseconds(3400)), "-2m3.4s" },
        { -TimeSpan.FromMilliseconds(1), "-1ms" },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Format_Duration_MatchesGoString(TimeSpan value, string expected) => Assert.Equal(expected, GoDuration.Format(value));

    [Theory]
    [MemberData(nameof(Formats))]
    public void Parse_GoString_RoundTrips(TimeSpan value, string text)
    {
        Assert.True(GoDuration.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(value, parsed);
    }

    public static TheoryData<string, TimeSpan> Parses => new()
    {
        { "72h", TimeSpan.FromHours(72) },
        { "1h30m", TimeSpan.FromMinutes(90) },
        { "90m", TimeSpan.FromMinutes(90) },
        { "1.5h", TimeSpan.FromMinutes(90) },
        { "500ms", TimeSpan.FromMilliseconds(500) },
        { "10s", TimeSpan.FromSeconds(10) },
        // Go's parseDurationTests
        { "0", TimeSpan.Zero },
        { "-0", TimeSpan.Zero },
        { "+0", TimeSpan.Zero },
        { "5s", TimeSpan.FromSeconds(5) },
        { "1478s", TimeSpan.FromSeconds(1478) },
        { "-5s", TimeSpan.FromSeconds(-5) },
        { "+5s", TimeSpan.FromSeconds(5) },
        { "5.0s", TimeSpan.FromSeconds(5) },
        { "5.6s", TimeSpan.FromMilliseconds(5600) },
        { "5.s", TimeSpan.FromSeconds(5) },
        { ".5s", TimeSpan.FromMilliseconds(500) },
        { "1.004s", TimeSpan.FromMilliseconds(1004) },
        { "100.00100s", TimeSpan.FromMilliseconds(100_001) },
        { "10ns", TimeSpan.Zero },                                     // below one tick: truncated
        { "150ns", Ns(100) },
        { "11us", TimeSpan.FromMicroseconds(11) },
        { "12\u00b5s", TimeSpan.FromMicroseconds(12) },
        { "12\u03bcs", TimeSpan.FromMicroseconds(12) },
        { "13ms", TimeSpan.FromMilliseconds(13) },
        { "15m", TimeSpan.FromMinutes(15) },
        { "16h", TimeSpan.FromHours(16) },
        { "3h30m", TimeSpan.FromMinutes(210) },
        { "10.5s4m", TimeSpan.FromMinutes(4) + TimeSpan.FromMilliseconds(10_500) },
        { "-2m3.4s", -(TimeSpan.FromMinutes(2) + TimeSpan.FromMilliseconds(3400)) },
        { "1h2m3s4ms5us6ns", Ns(3_723_004_005_006) },
        { "39h9m14.425s", TimeSpan.FromHours(39) + TimeSpan.FromMinutes(9) + TimeSpan.FromMilliseconds(14_425) },
        { "52763797000ns", Ns(52_763_797_000) },
        { "0.3333333333333333333h", TimeSpan.FromMinutes(20) },
        { "9223372036854775807ns", Ns(long.MaxValue) },
        { "-9223372036854775808ns", Ns(long.MinValue) },
        { "0.100000000000000000000h", TimeSpan.FromMinutes(6) },
        { "0.830103483285477580700h", Ns((49 * 60 + 48) * 1_000_000_000L + 372_539_827) },
    };

    [Theory]
    [MemberData(nameof(Parses))]
    public void Parse_GoText_ReturnsDuration(string text, TimeSpan expected)
    {
        Assert.True(GoDuration.TryParse(text, out var value, out var error), error);
        Assert.Equal(expected, value);
        Assert.Equal(expected, GoDuration.Parse(text, "LeafCertTTL"));
    }

    [Theory]
    [InlineData("", "time: invalid duration \"\"")]
    [InlineData("3", "time: missing unit in duration \"3\"")]
    [InlineData("72", "time: missing unit in duration \"72\"")]
    [InlineData("-", "time: invalid duration \"-\"")]
    [InlineData("s", "time: invalid duration \"s\"")]
    [InlineData(".", "time: invalid duration \".\"")]
    [InlineData("-.", "time: invalid duration \"-.\"")]
    [InlineData(".s", "time: invalid duration \".s\"")]
    [InlineData("+.s", "time: invalid duration \"+.s\"")]
    [InlineData("1d", "time: unknown unit \"d\" in duration \"1d\"")]
    [InlineData("72 h", "time: unknown unit \" h\" in duration \"72 h\"")]
    [InlineData("1H", "time: unknown unit \"H\" in duration \"1H\"")]
    [InlineData("abc", "time: invalid duration \"abc\"")]
    [InlineData("9223372036854775810ns", "time: invalid duration \"9223372036854775810ns\"")]
    [InlineData("9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\"")]
    [InlineData("-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\"")]
    [InlineData("9223372036854776us", "time: invalid duration \"9223372036854776us\"")]
    [InlineData("3000000h", "time: invalid duration \"3000000h\"")]
    [InlineData("9223372036854775.808us", "time: invalid duration \"9223372036854775.808us\"")]
    [InlineData("9223372036854ms775us808ns", "time: invalid duration \"9223372036854ms775us808ns\"")]
    public void Parse_BadText_ReportsGoErrorNamingField(string text, string message)
    {
        Assert.False(GoDuration.TryParse(text, out var value, out var error));
        Assert.Equal(TimeSpan.Zero, value);
        Assert.Equal(message, error);

        var ex = Assert.Throws<DomainValidationException>(() => GoDuration.Parse(text, "LeafCertTTL"));
        Assert.Equal(new ValidationProblem("LeafCertTTL", "invalid_format", message), Assert.Single(ex.Problems));
        Assert.Contains("LeafCertTTL: " + message, ex.Message);
    }

    [Fact]
    public void TryParse_Null_ReportsInvalidDuration()
    {
        Assert.False(GoDuration.TryParse(null, out _, out var error));
        Assert.Equal("time: invalid duration \"\"", error);
    }

    [Fact]
    public void Check_ValidText_ReturnsNullAndValue()
    {
        Assert.Null(GoDuration.Check("RootCertTTL", "87600h", out var value));
        Assert.Equal(TimeSpan.FromHours(87600), value);
    }
}
