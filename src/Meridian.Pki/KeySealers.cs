using System.Security.Cryptography;
using System.Text;
using Meridian.Core.Certificates;

namespace Meridian.Pki;

/// <summary>The <see cref="IKeySealer"/> implementations.</summary>
public static class KeySealers
{
    /// <summary>Size of a key-encryption key: AES-256.</summary>
    public const int KeyEncryptionKeySize = 32;

    /// <summary>AES-256-GCM under <paramref name="keyEncryptionKey"/> (32 bytes), or the unsealed mode when null.</summary>
    public static IKeySealer Create(byte[]? keyEncryptionKey) =>
        keyEncryptionKey is null ? Unsealed : new AesGcmKeySealer(keyEncryptionKey);

    /// <summary>Stores keys as they are (format byte <see cref="SealedKeyFormat.Unsealed"/>).</summary>
    public static IKeySealer Unsealed { get; } = new UnsealedKeySealer();

    /// <summary>A new random key-encryption key.</summary>
    public static byte[] NewKeyEncryptionKey() => RandomNumberGenerator.GetBytes(KeyEncryptionKeySize);

    private sealed class UnsealedKeySealer : IKeySealer
    {
        public bool Seals => false;

        public byte[] Seal(ReadOnlySpan<byte> plaintext, string purpose) => [SealedKeyFormat.Unsealed, .. plaintext];

        public byte[] Unseal(ReadOnlySpan<byte> blob, string purpose)
        {
            if (blob.IsEmpty) throw new KeySealingException($"the stored key {purpose} is empty");
            if (blob[0] != SealedKeyFormat.Unsealed)
                throw new KeySealingException($"the stored key {purpose} is sealed, but no key-encryption key is configured");
            return blob[1..].ToArray();
        }
    }

    /// <summary>
    /// AES-256-GCM with a random 96-bit nonce per blob (NIST SP 800-38D 8.2.2: at most 2^32 messages per key with
    /// random nonces; a CA seals one blob per key it ever makes).
    /// </summary>
    private sealed class AesGcmKeySealer : IKeySealer
    {
        private const int NonceSize = 12, TagSize = 16;
        private readonly byte[] _key;

        public AesGcmKeySealer(byte[] key)
        {
            ArgumentNullException.ThrowIfNull(key);
            if (key.Length != KeyEncryptionKeySize)
                throw new ArgumentException($"a key-encryption key is {KeyEncryptionKeySize} bytes, not {key.Length}", nameof(key));
            _key = [.. key];
        }

        public bool Seals => true;

        public byte[] Seal(ReadOnlySpan<byte> plaintext, string purpose)
        {
            var blob = new byte[1 + NonceSize + plaintext.Length + TagSize];
            blob[0] = SealedKeyFormat.AesGcmV1;
            var nonce = blob.AsSpan(1, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(_key, TagSize);
            aes.Encrypt(nonce, plaintext, blob.AsSpan(1 + NonceSize, plaintext.Length), blob.AsSpan(blob.Length - TagSize), Encoding.UTF8.GetBytes(purpose));
            return blob;
        }

        public byte[] Unseal(ReadOnlySpan<byte> blob, string purpose)
        {
            if (blob.IsEmpty) throw new KeySealingException($"the stored key {purpose} is empty");
            // Stored before a key-encryption key was configured: readable, and the store seals it at once.
            if (blob[0] == SealedKeyFormat.Unsealed) return blob[1..].ToArray();
            if (blob[0] != SealedKeyFormat.AesGcmV1 || blob.Length < 1 + NonceSize + TagSize)
                throw new KeySealingException($"the stored key {purpose} has an unknown format (version {blob[0]})");
            var length = blob.Length - 1 - NonceSize - TagSize;
            var plaintext = new byte[length];
            try
            {
                using var aes = new AesGcm(_key, TagSize);
                aes.Decrypt(blob.Slice(1, NonceSize), blob.Slice(1 + NonceSize, length), blob[^TagSize..], plaintext, Encoding.UTF8.GetBytes(purpose));
                return plaintext;
            }
            catch (AuthenticationTagMismatchException e)
            {
                throw new KeySealingException($"the stored key {purpose} does not open with this key-encryption key (a different key, or the data was changed)", e);
            }
        }
    }
}
