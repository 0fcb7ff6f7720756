using System.Text;
using Meridian.Core.Certificates;
using Meridian.Pki;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class KeySealersTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("-----BEGIN PRIVATE KEY-----\nMIGH...\n-----END PRIVATE KEY-----\n");
    private const string Purpose = "meridian.ca.key/dc1/root-1/aa:bb";

    [Fact]
    public void AesGcm_RoundTrip_GivesThePlaintextAndHidesIt()
    {
        var sealer = KeySealers.Create(KeySealers.NewKeyEncryptionKey());

        var blob = sealer.Seal(Secret, Purpose);

        Assert.True(sealer.Seals);
        Assert.Equal(SealedKeyFormat.AesGcmV1, blob[0]);
        Assert.True(SealedKeyFormat.IsSealed(blob));
        Assert.Equal(-1, blob.AsSpan().IndexOf("PRIVATE KEY"u8));
        Assert.Equal(-1, blob.AsSpan().IndexOf(Secret.AsSpan(28, 8)));
        Assert.Equal(Secret, sealer.Unseal(blob, Purpose));
    }

    public static TheoryData<string, Func<byte[], byte[]>> Tampered => new()
    {
        { "first ciphertext byte", b => Flip(b, 13) },
        { "nonce", b => Flip(b, 1) },
        { "tag", b => Flip(b, b.Length - 1) },
        { "truncated", b => b[..^1] },
        { "version", b => Flip(b, 0, to: 7) },
    };

    [Theory]
    [MemberData(nameof(Tampered))]
    public void AesGcm_TamperedBlob_Fails(string what, Func<byte[], byte[]> tamper)
    {
        var sealer = KeySealers.Create(KeySealers.NewKeyEncryptionKey());
        var blob = tamper(sealer.Seal(Secret, Purpose));

        Assert.Throws<KeySealingException>(() => sealer.Unseal(blob, Purpose));
        Assert.NotEmpty(what);
    }

    [Fact]
    public void AesGcm_WrongKey_FailsWithoutKeyBytesInTheMessage()
    {
        var blob = KeySealers.Create(KeySealers.NewKeyEncryptionKey()).Seal(Secret, Purpose);
        var other = KeySealers.NewKeyEncryptionKey();

        var e = Assert.Throws<KeySealingException>(() => KeySealers.Create(other).Unseal(blob, Purpose));

        Assert.Contains("does not open with this key-encryption key", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(other), e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AesGcm_OtherPurpose_Fails()
    {
        var sealer = KeySealers.Create(KeySealers.NewKeyEncryptionKey());
        var blob = sealer.Seal(Secret, Purpose);

        Assert.Throws<KeySealingException>(() => sealer.Unseal(blob, "meridian.ca.key/dc2/root-1/aa:bb"));
    }

    [Fact]
    public void AesGcm_SameInputTwice_NoncesDiffer()
    {
        var sealer = KeySealers.Create(KeySealers.NewKeyEncryptionKey());

        var nonces = Enumerable.Range(0, 64).Select(_ => Convert.ToHexString(sealer.Seal(Secret, Purpose), 1, 12)).ToList();

        Assert.Equal(nonces.Count, nonces.Distinct().Count());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void Create_KeyNot32Bytes_Throws(int size) =>
        Assert.Throws<ArgumentException>(() => KeySealers.Create(new byte[size]));

    [Fact]
    public void Unsealed_SealedBlob_FailsNamingTheMissingKey()
    {
        var blob = KeySealers.Create(KeySealers.NewKeyEncryptionKey()).Seal(Secret, Purpose);

        var e = Assert.Throws<KeySealingException>(() => KeySealers.Unsealed.Unseal(blob, Purpose));

        Assert.Contains("no key-encryption key is configured", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AesGcm_UnsealedBlob_OpensSoItCanBeResealed()
    {
        var blob = KeySealers.Unsealed.Seal(Secret, Purpose);

        Assert.False(SealedKeyFormat.IsSealed(blob));
        Assert.Equal(Secret, KeySealers.Create(KeySealers.NewKeyEncryptionKey()).Unseal(blob, Purpose));
    }

    private static byte[] Flip(byte[] blob, int index, byte to = 0)
    {
        var copy = (byte[])blob.Clone();
        copy[index] = to == 0 ? (byte)(copy[index] ^ 0x01) : to;
        return copy;
    }
}
