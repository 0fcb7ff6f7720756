using Meridian.Core.Certificates;
using Meridian.Pki;
using Microsoft.Extensions.Configuration;

namespace Meridian.Silo;

/// <summary>
/// How this silo stores its CA private keys (section <c>Meridian:Ca</c>): sealed with AES-256-GCM under the
/// key-encryption key in <c>KeyEncryptionKeyFile</c> (32 random bytes, base64; <c>meridian keygen --out FILE</c>), or
/// unsealed. PostgreSQL requires the key unless <c>AllowUnsealedKeys=true</c>; memory storage never leaves the
/// process, so it runs unsealed without a key (<c>meridian dev</c>).
/// </summary>
/// <param name="Sealer">The sealer the CA grain and the signers use.</param>
/// <param name="UnsealedOnDisk">True when keys are stored unsealed in a database (logged as a warning at every start).</param>
internal sealed record CaKeySealing(IKeySealer Sealer, bool UnsealedOnDisk)
{
    public const string KeyFileKey = $"{CaOptions.SectionName}:KeyEncryptionKeyFile";
    public const string AllowUnsealedKey = $"{CaOptions.SectionName}:AllowUnsealedKeys";

    /// <summary>Reads and checks the options; every problem names its key and never contains key bytes.</summary>
    public static CaKeySealing Read(IConfiguration config, StorageOptions storage, List<string> problems)
    {
        var allowUnsealed = ConfigValues.Read(config, AllowUnsealedKey, false, problems);
        var path = config[KeyFileKey];
        if (!string.IsNullOrWhiteSpace(path))
            return ReadKeyFile(path, problems) is { } kek ? new CaKeySealing(KeySealers.Create(kek), false) : new CaKeySealing(KeySealers.Unsealed, false);
        if (storage.IsPostgreSql && !allowUnsealed)
        {
            problems.Add($"{KeyFileKey} must be set with PostgreSql storage: a file holding 32 random bytes in base64 that seals the CA private keys " +
                $"(make one with `meridian keygen --out kek.b64`), or set {AllowUnsealedKey}=true to store them unsealed");
        }
        return new CaKeySealing(KeySealers.Unsealed, storage.IsPostgreSql);
    }

    private static byte[]? ReadKeyFile(string path, List<string> problems)
        => KeyFile.Read(KeyFileKey, path, KeySealers.KeyEncryptionKeySize, exact: true, problems);
}
