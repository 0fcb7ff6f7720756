using System.Security.Cryptography;
using Meridian.Core.Certificates;
using Meridian.Core.Validation;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class CaKeyPairTests
{
    [Theory]
    [InlineData("ec-224", "EC PRIVATE KEY")]
    [InlineData("ec-256", "EC PRIVATE KEY")]
    [InlineData("ec-384", "EC PRIVATE KEY")]
    [InlineData("ec-521", "EC PRIVATE KEY")]
    [InlineData("rsa-2048", "RSA PRIVATE KEY")]
    [InlineData("rsa-4096", "RSA PRIVATE KEY")]
    public void Generate_EachConsulSpec_PemRoundTripsWithConsulLabel(string spec, string label)
    {
        var key = TestPki.Key(spec);
        var pem = key.ToPem();

        Assert.StartsWith($"-----BEGIN {label}-----", pem);
        Assert.Equal(TestPki.Spec(spec), key.Spec);
        using var back = CaKeyPair.FromPem(pem);
        Assert.Equal(key.Spec, back.Spec);
        Assert.Equal(key.PublicKeyDer, back.PublicKeyDer);
        Assert.Equal(SHA256.HashData(key.PublicKeyDer), key.KeyId.ToArray());
        Assert.Equal(95, key.KeyIdHex.Length);

        using var ssl = new OpenSsl();
        var f = ssl.Write("key.pem", pem);
        var text = ssl.RunOk("pkey", "-in", f, "-noout", "-text");
        Assert.Contains(spec.StartsWith("ec") ? $"({TestPki.Spec(spec).Bits} bit)" : $"({TestPki.Spec(spec).Bits} bit, 2 primes)", text);
    }

    [Theory]
    [InlineData("ec-256")]
    [InlineData("rsa-2048")]
    public void FromPem_Pkcs8_IsAccepted(string spec)
    {
        var key = TestPki.Key(spec);
        using var dotnet = key.ExportToDotNet();
        var pkcs8 = dotnet.ExportPkcs8PrivateKeyPem();
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pkcs8);

        using var back = CaKeyPair.FromPem(pkcs8);

        Assert.Equal(key.PublicKeyDer, back.PublicKeyDer);
        Assert.StartsWith(spec.StartsWith("ec") ? "-----BEGIN EC PRIVATE KEY-----" : "-----BEGIN RSA PRIVATE KEY-----", back.ToPem());
    }

    [Fact]
    public void FromPem_OpenSslGeneratedSec1Key_IsAccepted()
    {
        using var ssl = new OpenSsl();
        ssl.RunOk("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem");
        using var key = CaKeyPair.FromPem(File.ReadAllText(Path.Combine(ssl.Dir, "k.pem")));
        Assert.Equal(new CaKeySpec(CaKeyType.Ec, 256), key.Spec);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a pem")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")]
    [InlineData("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n")]
    public void FromPem_Garbage_ThrowsMalformedInput(string pem)
    {
        var ex = Assert.Throws<PkiException>(() => CaKeyPair.FromPem(pem));
        Assert.Equal(PkiErrorCode.MalformedInput, ex.Code);
        Assert.StartsWith("error parsing private key", ex.Message);
    }

    [Theory]
    [InlineData(CaKeyType.Ec, 128, "EC key length must be one of (224, 256, 384, 521) bits")]
    [InlineData(CaKeyType.Ec, 2048, "EC key length must be one of (224, 256, 384, 521) bits")]
    [InlineData(CaKeyType.Rsa, 1024, "RSA key length must be 2048 or 4096 bits")]
    [InlineData(CaKeyType.Rsa, 3072, "RSA key length must be 2048 or 4096 bits")]
    [InlineData(CaKeyType.Rsa, 256, "RSA key length must be 2048 or 4096 bits")]
    public void Generate_UnsupportedBits_ThrowsConsulMessage(CaKeyType type, int bits, string message)
    {
        var ex = Assert.Throws<DomainValidationException>(() => CaKeyPair.Generate(new CaKeySpec(type, bits)));
        var p = Assert.Single(ex.Problems);
        Assert.Equal(("PrivateKeyBits", ValidationCodes.InvalidValue, message), (p.Field, p.Code, p.Message));
    }

    [Fact]
    public void Validate_UnknownType_ReportsConsulMessage()
    {
        var p = Assert.Single(CaKeyPair.Validate(new CaKeySpec((CaKeyType)7, 256)));
        Assert.Equal("private key type must be either 'ec' or 'rsa'", p.Message);
    }

    [Fact]
    public void MatchesPublicKey_OtherKey_IsFalse()
    {
        var a = TestPki.Key("ec-256");
        var b = TestPki.Key("ec-256", slot: 1);
        Assert.True(a.MatchesPublicKey(a.PublicKeyDer));
        Assert.False(a.MatchesPublicKey(b.PublicKeyDer));
    }
}
