using System.Security.Cryptography;
using System.Text;

namespace Meridian.Core.Acl;

/// <summary>
/// Keyed hash of token SecretIDs, so a copy of the store (a backup, a replica's disk) yields no usable bearer secret.
/// HMAC-SHA256 rather than a salted slow hash: SecretIDs are random UUIDs (122 bits), so there is nothing to
/// brute-force, and a deterministic hash lets the store index tokens by it (one lookup per request, no scan).
/// The key lives outside the store (configuration); without it the hashes are useless to an attacker.
/// </summary>
public sealed class AclSecretHasher
{
    /// <summary>Keys shorter than this are refused: the key is the only protection of the stored hashes.</summary>
    public const int MinimumKeyBytes = 32;

    private const string Scheme = "hmac-sha256:";
    private readonly byte[] _key;

    public AclSecretHasher(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinimumKeyBytes)
            throw new ArgumentException($"The SecretID hashing key must be at least {MinimumKeyBytes} bytes.", nameof(key));
        _key = key.ToArray();
    }

    /// <summary>The stored form of <paramref name="secretId"/>: <c>hmac-sha256:</c> and lower-case hex.</summary>
    public string Hash(string secretId)
    {
        ArgumentNullException.ThrowIfNull(secretId);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(secretId), mac);
        return Scheme + Convert.ToHexStringLower(mac);
    }

    /// <summary>
    /// True when <paramref name="secretId"/> hashes to <paramref name="storedHash"/>, compared in constant time so the
    /// time taken does not reveal how many leading bytes matched.
    /// </summary>
    public bool Verify(string secretId, string storedHash)
    {
        ArgumentNullException.ThrowIfNull(secretId);
        ArgumentNullException.ThrowIfNull(storedHash);
        var expected = Encoding.ASCII.GetBytes(Hash(secretId));
        var actual = Encoding.ASCII.GetBytes(storedHash);
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }
}
