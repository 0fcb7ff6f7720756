using System.Security.Cryptography;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class LeafKeyTests
{
    [Fact]
    public void CreateP256_EncodesExactlyAsThePlatform()
    {
        using var platform = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ours = LeafKey.FromParameters(platform.ExportParameters(includePrivateParameters: true));

        Assert.Equal(platform.ExportSubjectPublicKeyInfo(), ours.SubjectPublicKeyInfo);
        Assert.Equal(platform.ExportECPrivateKeyPem() + "\n", ours.PrivateKeyPem);
    }

    [Fact]
    public void CreateP256_OnLinux_GeneratesThroughOpenSslDirectly()
    {
        // CI runs on Linux with libcrypto.so.3: the fast path must be the one in use there, not a silent fallback.
        Assert.Equal(OperatingSystem.IsLinux(), Internal.OpenSslP256.IsAvailable);
        Assert.Contains(OperatingSystem.IsLinux() ? "OpenSSL libcrypto.so" : ".NET", LeafKey.Generator);
    }

    [Fact]
    public void CreateP256_NativeKeys_EncodeExactlyAsThePlatformReadsThem()
    {
        // 1,000 keys: about four in a thousand private scalars start with a zero byte, the case a padding bug would hit.
        for (var i = 0; i < 1000; i++)
        {
            var key = LeafKey.CreateP256();
            using var platform = ECDsa.Create();
            platform.ImportFromPem(key.PrivateKeyPem);

            Assert.Equal(platform.ExportSubjectPublicKeyInfo(), key.SubjectPublicKeyInfo);
            Assert.Equal(platform.ExportECPrivateKeyPem() + "\n", key.PrivateKeyPem);
        }
    }

    public static TheoryData<string> Generators => new() { "default", "dotnet" };

    private static LeafKey Create(string generator) => generator == "dotnet" ? LeafKey.CreateP256WithDotNet() : LeafKey.CreateP256();

    [Theory]
    [MemberData(nameof(Generators))]
    public void CreateP256_PrivateKeyMatchesPublicKey(string generator)
    {
        var key = Create(generator);
        using var imported = ECDsa.Create();
        imported.ImportFromPem(key.PrivateKeyPem);

        Assert.Equal(256, imported.KeySize);
        Assert.Equal(key.SubjectPublicKeyInfo, imported.ExportSubjectPublicKeyInfo());
        var data = "meridian"u8.ToArray();
        using var verifier = ECDsa.Create();
        verifier.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
        Assert.True(verifier.VerifyData(data, imported.SignData(data, HashAlgorithmName.SHA256), HashAlgorithmName.SHA256));
    }

    [Theory]
    [MemberData(nameof(Generators))]
    public void CreateP256_OpenSslAgrees(string generator)
    {
        var key = Create(generator);
        using var ssl = new OpenSsl();
        var pem = ssl.Write("key.pem", key.PrivateKeyPem);

        var (code, stdout, stderr) = ssl.Run("ec", "-in", pem, "-check", "-noout");
        ssl.RunOk("pkey", "-in", pem, "-pubout", "-outform", "DER", "-out", "pub.der");

        Assert.Equal(0, code);
        Assert.Contains("EC Key valid", stdout + stderr); // openssl prints it on stderr
        Assert.Equal(key.SubjectPublicKeyInfo, File.ReadAllBytes(Path.Combine(ssl.Dir, "pub.der")));
        Assert.Contains("prime256v1", ssl.RunOk("ec", "-in", pem, "-text", "-noout"));
    }

    [Theory]
    [MemberData(nameof(Generators))]
    public void CreateP256_KeysDiffer_AndToStringHidesThePrivateKey(string generator)
    {
        var a = Create(generator);
        var b = Create(generator);

        Assert.NotEqual(a.SubjectPublicKeyInfo, b.SubjectPublicKeyInfo);
        Assert.DoesNotContain("PRIVATE", a.ToString());
    }

    [Fact]
    public void FromParameters_RejectsOtherCurvesAndPublicOnlyKeys()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var p256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<ArgumentException>(() => LeafKey.FromParameters(p384.ExportParameters(true)));
        Assert.Throws<ArgumentException>(() => LeafKey.FromParameters(p256.ExportParameters(false)));
    }
}
