using Meridian.Core.Certificates;
using Meridian.Core.Validation;

namespace Meridian.Core.Tests.Certificates;

[Trait("Category", "Unit")]
public sealed class CaConfigurationTests
{
    private static TimeSpan H(double hours) => TimeSpan.FromHours(hours);

    [Fact]
    public void Default_HasConsulDefaultsAndIsValid()
    {
        var c = CaConfiguration.Default;
        Assert.Equal(H(72), c.LeafCertTtl);
        Assert.Equal(H(8760), c.IntermediateCertTtl);
        Assert.Equal(H(87600), c.RootCertTtl);
        Assert.Equal(CaKeyType.Ec, c.PrivateKeyType);
        Assert.Equal(256, c.PrivateKeyBits);
        Assert.Equal(new CaKeySpec(CaKeyType.Ec, 256), c.KeySpec);
        Assert.Equal(CaKeySpec.Default, c.KeySpec);
        Assert.Equal(50, c.CsrMaxPerSecond);
        Assert.Equal(0, c.CsrMaxConcurrent);
        Assert.False(c.SkipValidate);
        Assert.Empty(c.Validate());
        Assert.Same(c, c.EnsureValid());
    }

    public static TheoryData<CaConfiguration, ValidationProblem[]> Cases => new()
    {
        { new() { LeafCertTtl = H(1) }, [] },
        { new() { LeafCertTtl = H(8760), IntermediateCertTtl = H(3 * 8760), RootCertTtl = H(3 * 8760) }, [] },
        { new() { IntermediateCertTtl = H(216) }, [] },
        { new() { RootCertTtl = H(8760) }, [] },                           // equal passes, as Consul
        { new() { LeafCertTtl = TimeSpan.FromMinutes(59) }, [
            new("LeafCertTTL", "out_of_range", "leaf cert TTL must be greater or equal than 1h0m0s")] },
        { new() { LeafCertTtl = H(8761), IntermediateCertTtl = H(87600) }, [
            new("LeafCertTTL", "out_of_range", "leaf cert TTL must be less than 8760h0m0s")] },
        { new() { IntermediateCertTtl = H(215) }, [
            new("IntermediateCertTTL", "out_of_range", "Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=216h0m0s).")] },
        { new() { LeafCertTtl = H(1), IntermediateCertTtl = H(2) }, [
            new("IntermediateCertTTL", "out_of_range", "Intermediate Cert TTL must be greater or equal than 3h"),
            new("IntermediateCertTTL", "out_of_range", "Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=3h0m0s).")] },
        { new() { LeafCertTtl = TimeSpan.FromMinutes(30), IntermediateCertTtl = TimeSpan.FromMinutes(150) }, [
            new("LeafCertTTL", "out_of_range", "leaf cert TTL must be greater or equal than 1h0m0s"),
            new("IntermediateCertTTL", "out_of_range", "Intermediate Cert TTL must be greater or equal than 3h")] },
        { new() { RootCertTtl = H(8759) }, [
            new("RootCertTTL", "out_of_range", "root cert TTL is set and is not greater than intermediate cert ttl. root cert ttl: 8759h0m0s, intermediate cert ttl: 8760h0m0s")] },
        { new() { PrivateKeyBits = 512 }, [
            new("PrivateKeyBits", "invalid_value", "EC key length must be one of (224, 256, 384, 521) bits")] },
        { new() { PrivateKeyType = CaKeyType.Rsa }, [                     // bits are not switched: 256 fails
            new("PrivateKeyBits", "invalid_value", "RSA key length must be 2048 or 4096 bits")] },
        { new() { PrivateKeyType = CaKeyType.Rsa, PrivateKeyBits = 1024 }, [
            new("PrivateKeyBits", "invalid_value", "RSA key length must be 2048 or 4096 bits")] },
        { new() { PrivateKeyType = CaKeyType.Rsa, PrivateKeyBits = 4096 }, [] },
        { new() { CsrMaxPerSecond = -1, CsrMaxConcurrent = -1 }, [
            new("CSRMaxPerSecond", "out_of_range", "CSRMaxPerSecond must be 0 (disabled) or a positive number"),
            new("CSRMaxConcurrent", "out_of_range", "CSRMaxConcurrent must be 0 (unlimited) or a positive number")] },
        { new() { CsrMaxPerSecond = double.NaN }, [
            new("CSRMaxPerSecond", "out_of_range", "CSRMaxPerSecond must be 0 (disabled) or a positive number")] },
        { new() { CsrMaxPerSecond = 0, CsrMaxConcurrent = 4 }, [] },
        // every problem at once, in field order
        { new() { LeafCertTtl = TimeSpan.FromMinutes(10), IntermediateCertTtl = H(1), RootCertTtl = TimeSpan.FromMinutes(30), PrivateKeyBits = 2048 }, [
            new("LeafCertTTL", "out_of_range", "leaf cert TTL must be greater or equal than 1h0m0s"),
            new("IntermediateCertTTL", "out_of_range", "Intermediate Cert TTL must be greater or equal than 3h"),
            new("RootCertTTL", "out_of_range", "root cert TTL is set and is not greater than intermediate cert ttl. root cert ttl: 30m0s, intermediate cert ttl: 1h0m0s"),
            new("PrivateKeyBits", "invalid_value", "EC key length must be one of (224, 256, 384, 521) bits")] },
        // SkipValidate skips Consul's checks, never ours
        { new() { SkipValidate = true, LeafCertTtl = TimeSpan.FromMinutes(1), PrivateKeyBits = 1, CsrMaxPerSecond = -5 }, [
            new("CSRMaxPerSecond", "out_of_range", "CSRMaxPerSecond must be 0 (disabled) or a positive number")] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_Configuration_ReportsEveryProblem(CaConfiguration config, ValidationProblem[] expected)
    {
        Assert.Equal(expected, config.Validate());
        if (expected.Length > 0)
            Assert.Equal(expected, Assert.Throws<DomainValidationException>(() => config.EnsureValid()).Problems);
    }

    [Theory]
    [InlineData(224)]
    [InlineData(256)]
    [InlineData(384)]
    [InlineData(521)]
    public void Validate_EcCurveSize_IsAccepted(int bits) => Assert.Empty(new CaConfiguration { PrivateKeyBits = bits }.Validate());

    [Fact]
    public void Create_NoInput_ReturnsDefaults() => Assert.Equal(CaConfiguration.Default, CaConfiguration.Create(new()));

    [Fact]
    public void Create_GoText_ParsesEveryField()
    {
        var c = CaConfiguration.Create(new("24h", "1.5h1000h", "20000h", "rsa", 4096, 10, 2, false));
        Assert.Equal(H(24), c.LeafCertTtl);
        Assert.Equal(H(1001.5), c.IntermediateCertTtl);
        Assert.Equal(H(20000), c.RootCertTtl);
        Assert.Equal(new CaKeySpec(CaKeyType.Rsa, 4096), c.KeySpec);
        Assert.Equal(10, c.CsrMaxPerSecond);
        Assert.Equal(2, c.CsrMaxConcurrent);
    }

    public static TheoryData<CaConfigurationInput, ValidationProblem[]> InputCases => new()
    {
        { new(PrivateKeyType: "dsa"), [new("PrivateKeyType", "invalid_value", "private key type must be either 'ec' or 'rsa'")] },
        { new(PrivateKeyType: "EC"), [new("PrivateKeyType", "invalid_value", "private key type must be either 'ec' or 'rsa'")] },
        { new(PrivateKeyType: ""), [new("PrivateKeyType", "invalid_value", "private key type must be either 'ec' or 'rsa'")] },
        { new(PrivateKeyType: "rsa"), [new("PrivateKeyBits", "invalid_value", "RSA key length must be 2048 or 4096 bits")] },
        { new(LeafCertTTL: "72"), [new("LeafCertTTL", "invalid_format", "time: missing unit in duration \"72\"")] },
        { new(LeafCertTTL: "3d", IntermediateCertTTL: "1y", RootCertTTL: "x"), [
            new("LeafCertTTL", "invalid_format", "time: unknown unit \"d\" in duration \"3d\""),
            new("IntermediateCertTTL", "invalid_format", "time: unknown unit \"y\" in duration \"1y\""),
            new("RootCertTTL", "invalid_format", "time: invalid duration \"x\"")] },
        // an unparsable leaf skips only the checks that need it
        { new(LeafCertTTL: "bad", IntermediateCertTTL: "2h"), [
            new("LeafCertTTL", "invalid_format", "time: invalid duration \"bad\""),
            new("IntermediateCertTTL", "out_of_range", "Intermediate Cert TTL must be greater or equal than 3h")] },
        { new(LeafCertTTL: "-1h"), [new("LeafCertTTL", "out_of_range", "leaf cert TTL must be greater or equal than 1h0m0s")] },
        { new(LeafCertTTL: "2562047h"), [
            new("LeafCertTTL", "out_of_range", "leaf cert TTL must be less than 8760h0m0s"),
            new("IntermediateCertTTL", "out_of_range", "Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=7686141h0m0s).")] },
        { new(PrivateKeyType: "ecdsa", PrivateKeyBits: 1, SkipValidate: true), [
            new("PrivateKeyType", "invalid_value", "private key type must be either 'ec' or 'rsa'")] },
    };

    [Theory]
    [MemberData(nameof(InputCases))]
    public void TryCreate_BadInput_ReportsEveryProblemAndNoConfiguration(CaConfigurationInput input, ValidationProblem[] expected)
    {
        Assert.Equal(expected, CaConfiguration.TryCreate(input, out var config));
        Assert.Null(config);
        Assert.Equal(expected, Assert.Throws<DomainValidationException>(() => CaConfiguration.Create(input)).Problems);
    }

    [Theory]
    [InlineData("ec", CaKeyType.Ec)]
    [InlineData("rsa", CaKeyType.Rsa)]
    public void CaKeyTypes_WireText_RoundTrips(string text, CaKeyType type)
    {
        Assert.True(CaKeyTypes.TryParse(text, out var parsed));
        Assert.Equal(type, parsed);
        Assert.Equal(text, type.ToWireName());
        Assert.Equal(text, new CaKeySpec(type, 256).TypeName);
    }

    [Theory]
    [InlineData(CaKeyType.Ec, 224, true)]
    [InlineData(CaKeyType.Ec, 521, true)]
    [InlineData(CaKeyType.Ec, 512, false)]
    [InlineData(CaKeyType.Ec, 2048, false)]
    [InlineData(CaKeyType.Rsa, 2048, true)]
    [InlineData(CaKeyType.Rsa, 4096, true)]
    [InlineData(CaKeyType.Rsa, 3072, false)]
    [InlineData(CaKeyType.Rsa, 256, false)]
    public void CaKeyTypes_IsSupportedSize_MatchesConsul(CaKeyType type, int bits, bool expected)
        => Assert.Equal(expected, CaKeyTypes.IsSupportedSize(type, bits));
}
