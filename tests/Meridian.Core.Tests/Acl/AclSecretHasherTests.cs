using System.Text;
using Meridian.Core.Acl;

namespace Meridian.Core.Tests.Acl;

[Trait("Category", "Unit")]
public sealed class AclSecretHasherTests
{
    private static readonly byte[] KeyA = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef");
    private static readonly byte[] KeyB = Encoding.ASCII.GetBytes("fedcba9876543210fedcba9876543210");
    private const string Secret = "3f2c9a1e-7b4d-4e8f-a6c5-1d2e3f4a5b6c";

    [Fact]
    public void Hash_KnownKeyAndSecret_IsHmacSha256Hex()
    {
        // Independent computation of HMAC-SHA256, so the stored format cannot drift unnoticed.
        var expected = "hmac-sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(KeyA, Encoding.UTF8.GetBytes(Secret)));

        Assert.Equal(expected, new AclSecretHasher(KeyA).Hash(Secret));
    }

    [Fact]
    public void Hash_NeverContainsTheSecret()
    {
        var hash = new AclSecretHasher(KeyA).Hash(Secret);

        Assert.DoesNotContain(Secret, hash, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Secret.Replace("-", "", StringComparison.Ordinal), hash, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Hash_SameInputs_SameHashSoTokensCanBeIndexedByIt()
    {
        Assert.Equal(new AclSecretHasher(KeyA).Hash(Secret), new AclSecretHasher(KeyA).Hash(Secret));
    }

    [Theory]
    [InlineData("other-secret")]
    [InlineData("3F2C9A1E-7B4D-4E8F-A6C5-1D2E3F4A5B6C")]
    [InlineData("")]
    public void Hash_DifferentSecret_DifferentHash(string other)
    {
        var hasher = new AclSecretHasher(KeyA);

        Assert.NotEqual(hasher.Hash(Secret), hasher.Hash(other));
    }

    [Fact]
    public void Hash_DifferentKey_DifferentHash()
    {
        Assert.NotEqual(new AclSecretHasher(KeyA).Hash(Secret), new AclSecretHasher(KeyB).Hash(Secret));
    }

    public static TheoryData<string, Func<string, string>, bool> VerifyCases() => new()
    {
        { Secret, h => h, true },
        { "wrong", h => h, false },
        { Secret, h => h[..^1] + (h[^1] == '0' ? '1' : '0'), false },
        { Secret, h => h[..^2], false },
        { Secret, h => h + "00", false },
        { Secret, h => h.ToUpperInvariant(), false },
        { Secret, _ => "", false },
        { Secret, _ => Secret, false },
    };

    [Theory]
    [MemberData(nameof(VerifyCases))]
    public void Verify_StoredHash_TrueOnlyForTheSecretAndExactHash(string presented, Func<string, string> stored, bool ok)
    {
        var hasher = new AclSecretHasher(KeyA);

        Assert.Equal(ok, hasher.Verify(presented, stored(hasher.Hash(Secret))));
    }

    [Fact]
    public void Verify_HashFromAnotherKey_False()
    {
        Assert.False(new AclSecretHasher(KeyA).Verify(Secret, new AclSecretHasher(KeyB).Hash(Secret)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    public void Constructor_ShortKey_Refused(int length)
    {
        var ex = Assert.Throws<ArgumentException>(() => new AclSecretHasher(new byte[length]));

        Assert.Contains("at least 32 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_KeyCopied_LaterChangesToCallerArrayIgnored()
    {
        var key = (byte[])KeyA.Clone();
        var hasher = new AclSecretHasher(key);
        var before = hasher.Hash(Secret);
        key[0] ^= 0xFF;

        Assert.Equal(before, hasher.Hash(Secret));
    }
}
