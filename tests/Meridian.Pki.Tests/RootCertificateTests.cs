using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class RootCertificateTests
{
    [Theory]
    [InlineData("ec-224")]
    [InlineData("ec-256")]
    [InlineData("ec-384")]
    [InlineData("ec-521")]
    [InlineData("rsa-2048")]
    [InlineData("rsa-4096")]
    public void CreateRoot_EachKeyType_HasSpecFields(string spec)
    {
        var key = TestPki.Key(spec);
        var now = TestPki.T0.AddMilliseconds(737); // sub-second part is dropped: certificates hold whole seconds
        var root = CertificateInfo.Parse(CaCertificates.CreateRoot(key, TestPki.Td, 7, now, TestPki.RootTtl));

        Assert.Matches(new Regex("^CN=pri-[0-9a-z]{8}\\.consul\\.ca\\.11111111\\.consul$"), root.Subject);
        Assert.Equal(root.Subject, root.Issuer);
        Assert.Equal(["spiffe://11111111-2222-3333-4444-555555555555.consul"], root.Uris);
        Assert.True(root.IsCa);
        Assert.Null(root.MaxPathLength);
        Assert.Equal(SHA256.HashData(key.PublicKeyDer), root.SubjectKeyIdBytes);
        Assert.Equal(root.SubjectKeyIdBytes, root.AuthorityKeyIdBytes);
        Assert.Equal(32, root.SubjectKeyIdBytes.Length);
        Assert.Equal(TestPki.T0, root.NotBefore);
        Assert.Equal(TestPki.T0 + TestPki.RootTtl, root.NotAfter);
        Assert.Equal("07", root.SerialNumber);
        Assert.Equal(TestPki.SigOidFor(key), root.SignatureAlgorithmOid);
        Assert.Equal(key.Spec, root.KeySpec);
        Assert.True(root.IsSelfIssued);
    }

    [Theory]
    [InlineData("ec-256", "ecdsa-with-SHA256")]
    [InlineData("rsa-2048", "sha256WithRSAEncryption")]
    public void CreateRoot_OpenSsl_SeesCriticalCaConstraintsKeyUsageAndUri(string spec, string sigAlg)
    {
        var key = TestPki.Key(spec);
        var pem = TestPki.Root(key, TestPki.RealNow);
        using var ssl = new OpenSsl();

        var text = ssl.Text(pem);

        Assert.Contains("X509v3 Basic Constraints: critical\n                CA:TRUE\n", text);
        Assert.DoesNotContain("pathlen", text);
        Assert.Contains("X509v3 Key Usage: critical\n                Digital Signature, Certificate Sign, CRL Sign", text);
        Assert.Contains("URI:spiffe://11111111-2222-3333-4444-555555555555.consul", text);
        var keyIdHex = key.KeyIdHex.ToUpperInvariant();
        Assert.Contains("X509v3 Subject Key Identifier: \n                " + keyIdHex, text);
        Assert.Contains("X509v3 Authority Key Identifier: \n                " + keyIdHex, text);
        Assert.Contains("Signature Algorithm: " + sigAlg, text);
        Assert.DoesNotContain("Name Constraints", text);
        ssl.AssertVerifies(pem, null, pem);
    }

    [Fact]
    public void Id_IsSha1OfDerInColonHex_MatchingOpenSslFingerprint()
    {
        var pem = TestPki.Root(TestPki.Key("ec-256"), TestPki.RealNow);
        var root = CertificateInfo.Parse(pem);
        using var ssl = new OpenSsl();

        var fingerprint = ssl.RunOk("x509", "-in", ssl.Write("r.pem", pem), "-noout", "-fingerprint", "-sha1");

        Assert.Equal(59, root.Id.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(root.Der)), root.Id.Replace(":", ""));
        Assert.Equal(fingerprint.Trim().Split('=')[1].ToLowerInvariant(), root.Id);
    }

    [Fact]
    public void CreateRoot_SameKey_GivesSameSubject_OtherKeyDiffers()
    {
        var a1 = CertificateInfo.Parse(TestPki.Root(TestPki.Key("ec-256"), TestPki.T0, serial: 1));
        var a2 = CertificateInfo.Parse(TestPki.Root(TestPki.Key("ec-256"), TestPki.T0.AddDays(1), serial: 2));
        var b = CertificateInfo.Parse(TestPki.Root(TestPki.Key("ec-256", slot: 1), TestPki.T0, serial: 3));
        Assert.Equal(a1.Subject, a2.Subject);
        Assert.NotEqual(a1.Subject, b.Subject);
        Assert.NotEqual(a1.Id, a2.Id);
    }

    [Theory]
    [InlineData(1UL, "01")]
    [InlineData(14UL, "0e")]
    [InlineData(255UL, "ff")]
    [InlineData(256UL, "01:00")]
    [InlineData(0x1234567UL, "01:23:45:67")]
    public void SerialNumber_IsMinimalColonHex(ulong serial, string expected)
    {
        var root = CertificateInfo.Parse(CaCertificates.CreateRoot(TestPki.Key("ec-256"), TestPki.Td, serial, TestPki.T0, TestPki.RootTtl));
        Assert.Equal(expected, root.SerialNumber);
        Assert.Equal(serial, (ulong)root.SerialValue);
    }

    [Fact]
    public void CreateRoot_ZeroSerial_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => CaCertificates.CreateRoot(TestPki.Key("ec-256"), TestPki.Td, 0, TestPki.T0, TestPki.RootTtl));
}
