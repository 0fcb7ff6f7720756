using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Validation;

[Trait("Category", "Unit")]
public sealed class InputLimitsTests
{
    [Theory]
    [InlineData(null, 10, null)]
    [InlineData("0123456789", 10, null)]
    [InlineData("01234567890", 10, "csr is 11 bytes; at most 10 are accepted")]
    [InlineData("éééé", 8, null)]
    [InlineData("ééééé", 8, "csr is 10 bytes; at most 8 are accepted")]
    public void CheckBytes_Value_RefusedOnlyOverTheCapInUtf8Bytes(string? value, int max, string? message)
    {
        var problem = InputLimits.CheckBytes("csr", value, max);
        Assert.Equal(message, problem?.Message);
        if (problem is not null) Assert.Equal(("csr", ValidationCodes.TooLong), (problem.Field, problem.Code));
    }

    [Theory]
    [InlineData(256, 256, null)]
    [InlineData(257, 256, "names has 257 elements; at most 256 are accepted")]
    public void CheckCount_Count_RefusedOnlyOverTheCap(int count, int max, string? message)
    {
        var problem = InputLimits.CheckCount("names", count, max);
        Assert.Equal(message, problem?.Message);
        if (problem is not null) Assert.Equal(("names", ValidationCodes.TooMany), (problem.Field, problem.Code));
    }
}
