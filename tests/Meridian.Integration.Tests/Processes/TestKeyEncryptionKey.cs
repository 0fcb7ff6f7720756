using Meridian.Pki;

namespace Meridian.Integration.Tests.Processes;

/// <summary>
/// A key-encryption key file (<c>Meridian:Ca:KeyEncryptionKeyFile</c>) for the silos of this test run, mode 0600:
/// one per run, so a silo restarted on the same database opens the keys it sealed.
/// </summary>
public static class TestKeyEncryptionKey
{
    private static readonly Lazy<(string Path, byte[] Key)> Shared = new(() => Write(KeySealers.NewKeyEncryptionKey()));

    /// <summary>The shared file's path.</summary>
    public static string SharedFile => Shared.Value.Path;

    /// <summary>The shared key's bytes (a test opens stored blobs with it).</summary>
    public static byte[] SharedKey => [.. Shared.Value.Key];

    /// <summary>Writes <paramref name="key"/> as base64 to a new file readable by its owner only.</summary>
    public static (string Path, byte[] Key) Write(byte[] key, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"meridian-kek-{Guid.NewGuid():N}.b64");
        File.WriteAllText(path, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, mode);
        return (path, key);
    }
}
