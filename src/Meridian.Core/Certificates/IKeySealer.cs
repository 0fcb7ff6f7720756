namespace Meridian.Core.Certificates;

/// <summary>
/// Seals secrets (CA private keys) before they are stored and opens them again in memory. A sealed blob starts with
/// a format byte (<see cref="SealedKeyFormat"/>) so a store can tell an unsealed blob from a sealed one and reseal it
/// when a key-encryption key is configured later. <c>purpose</c> names what the blob is (which key of which
/// datacenter) and is bound to it: a blob moved to another purpose does not open.
/// </summary>
public interface IKeySealer
{
    /// <summary>True when blobs are encrypted; false for the explicit unsealed mode (dev, <c>AllowUnsealedKeys</c>).</summary>
    bool Seals { get; }

    /// <summary>The stored form of <paramref name="plaintext"/>.</summary>
    byte[] Seal(ReadOnlySpan<byte> plaintext, string purpose);

    /// <summary>The plaintext of <paramref name="blob"/>; <see cref="KeySealingException"/> when it cannot be opened.</summary>
    byte[] Unseal(ReadOnlySpan<byte> blob, string purpose);
}

/// <summary>The first byte of a stored key blob.</summary>
public static class SealedKeyFormat
{
    /// <summary>Stored as is (explicitly allowed unsealed mode).</summary>
    public const byte Unsealed = 0;

    /// <summary>AES-256-GCM: format byte, 12-byte random nonce, ciphertext, 16-byte tag; the purpose is the associated data.</summary>
    public const byte AesGcmV1 = 1;

    /// <summary>True when <paramref name="blob"/> is encrypted (any format but <see cref="Unsealed"/>).</summary>
    public static bool IsSealed(ReadOnlySpan<byte> blob) => blob.Length > 0 && blob[0] != Unsealed;
}

/// <summary>
/// A stored key could not be opened: wrong key-encryption key, tampered or truncated data, or a sealed key on a silo
/// without a key-encryption key. The message never contains key bytes.
/// </summary>
public sealed class KeySealingException(string message, Exception? inner = null) : Exception(message, inner);
