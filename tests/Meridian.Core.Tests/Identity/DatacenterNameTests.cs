using Meridian.Core.Identity;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Identity;

[Trait("Category", "Unit")]
public sealed class DatacenterNameTests
{
    [Theory]
    [InlineData("dc1")]
    [InlineData("us-east_1")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 64
    public void Parse_ValidName_KeepsValue(string value)
    {
        Assert.Null(DatacenterName.Check("Datacenter", value));
        Assert.Equal(value, DatacenterName.Parse(value).Value);
        Assert.True(DatacenterName.TryParse(value, out var name));
        Assert.Equal(value, name.ToString());
    }

    [Theory]
    [InlineData(null, "required", "Datacenter must be set")]
    [InlineData("", "required", "Datacenter must be set")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too_long", "Datacenter exceeds maximum length 64")] // 65
    [InlineData("DC1", "invalid_format", "Datacenter \"DC1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)")]
    [InlineData("dc/1", "invalid_format", "Datacenter \"dc/1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)")]
    [InlineData("dc.1", "invalid_format", "Datacenter \"dc.1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)")]
    [InlineData("dc 1", "invalid_format", "Datacenter \"dc 1\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)")]
    [InlineData("dcé", "invalid_format", "Datacenter \"dcé\" may contain only lower-case letters, digits, '-' and '_' (1-64 characters)")]
    public void Check_InvalidName_ReportsCodeAndMessage(string? value, string code, string message)
    {
        var problem = DatacenterName.Check("Datacenter", value);
        Assert.Equal(new ValidationProblem("Datacenter", code, message), problem);
        Assert.False(DatacenterName.TryParse(value, out var name));
        Assert.Equal(default, name);
        var ex = Assert.Throws<DomainValidationException>(() => DatacenterName.Parse(value));
        Assert.Equal([problem!], ex.Problems);
    }

    [Fact]
    public void Parse_CustomField_NamesField()
    {
        var ex = Assert.Throws<DomainValidationException>(() => DatacenterName.Parse("", "Meridian:Datacenter"));
        Assert.Equal("Meridian:Datacenter", Assert.Single(ex.Problems).Field);
    }

    [Fact]
    public void Default_ToStringIsEmpty() => Assert.Equal("", default(DatacenterName).ToString());
}
