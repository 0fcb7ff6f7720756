using Meridian.Core.Identity;

namespace Meridian.Core.Tests.Identity;

[Trait("Category", "Unit")]
public sealed class TrustDomainTests
{
    [Theory]
    [InlineData("11111111-2222-3333-4444-555555555555.consul", "11111111-2222-3333-4444-555555555555", "consul")]
    [InlineData("ABCDEF.Consul", "abcdef", "consul")]
    [InlineData("abc.example.org", "abc", "example.org")]
    [InlineData("a_b.consul", "a_b", "consul")]
    public void Parse_HostForm_SplitsAtFirstDotAndLowerCases(string host, string clusterId, string domain)
    {
        var td = TrustDomain.Parse(host);
        Assert.Equal(clusterId, td.ClusterId);
        Assert.Equal(domain, td.Domain);
        Assert.Equal($"{clusterId}.{domain}", td.Host);
        Assert.Equal(td.Host, td.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("consul")]
    [InlineData(".consul")]
    [InlineData("abc.")]
    [InlineData("abc..consul")]
    [InlineData("abc.consul.")]
    [InlineData("a b.consul")]
    [InlineData("abc/x.consul")]
    [InlineData("abc.con:sul")]
    public void Parse_Malformed_ThrowsFormatException(string host)
    {
        var ex = Assert.Throws<FormatException>(() => TrustDomain.Parse(host));
        Assert.Equal($"trust domain \"{host}\" is not of the form <cluster-id>.<domain>", ex.Message);
        Assert.False(TrustDomain.TryParse(host, out var td));
        Assert.Equal(default, td);
    }

    [Fact]
    public void TryParse_Null_ReturnsFalse() => Assert.False(TrustDomain.TryParse(null, out _));

    [Theory]
    [InlineData("a.b", "consul")]
    [InlineData("abc", "")]
    [InlineData("abc", "a..b")]
    [InlineData("", "consul")]
    public void Constructor_InvalidPart_Throws(string clusterId, string domain)
        => Assert.ThrowsAny<ArgumentException>(() => new TrustDomain(clusterId, domain));

    [Fact]
    public void New_GeneratesUuidClusterIdUnderConsul()
    {
        var td = TrustDomain.New();
        Assert.True(Guid.TryParse(td.ClusterId, out _));
        Assert.Equal("consul", td.Domain);
        Assert.Equal(td.ClusterId.ToLowerInvariant(), td.ClusterId);
    }

    [Fact]
    public void SigningId_IsHostOnlySpiffeUri()
    {
        var td = new TrustDomain("ABC");
        Assert.Equal("spiffe://abc.consul", td.SigningId.Uri);
        Assert.Equal(td.SigningId, SpiffeId.Parse("spiffe://abc.consul"));
    }

    [Theory]
    [InlineData("abc.consul", true)]
    [InlineData("ABC.CONSUL", true)]
    [InlineData("abd.consul", false)]
    [InlineData(null, false)]
    public void Matches_Host_ComparesAsciiCaseInsensitive(string? host, bool expected)
        => Assert.Equal(expected, new TrustDomain("abc").Matches(host));

    [Fact]
    public void Default_ToStringIsEmpty() => Assert.Equal("", default(TrustDomain).ToString());
}
