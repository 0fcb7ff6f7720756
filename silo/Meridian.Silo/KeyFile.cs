namespace Meridian.Silo;

/// <summary>
/// A secret key kept in a file as base64 (<c>meridian keygen --out PATH</c>): the CA key-encryption key, the ACL
/// secret-hash key. One reader for all of them, so each checks the same things and says the same fix.
/// </summary>
internal static class KeyFile
{
    /// <summary>
    /// The key's bytes, or null with a problem naming <paramref name="setting"/>: unreadable, not base64, or not
    /// <paramref name="bytes"/> long (at least, or exactly when <paramref name="exact"/>). A file every local user may
    /// read or write is a problem too, but its key is still returned so that one start-up names every problem.
    /// </summary>
    public static byte[]? Read(string setting, string path, int bytes, bool exact, List<string> problems)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problems.Add($"{setting}: cannot read {path}: {e.Message}");
            return null;
        }
        // Whoever reads the key can open what it protects (CA keys in the database, guesses at token secrets offline).
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            problems.Add($"{setting}: {path} is readable or writable by every user: chmod 600 {path}");
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            key = [];
        }
        if (exact ? key.Length != bytes : key.Length < bytes)
        {
            problems.Add($"{setting}: {path} must hold {(exact ? "exactly" : "at least")} {bytes} random bytes in base64 " +
                $"(make one with `meridian keygen --out {path}`)");
            return null;
        }
        return key;
    }
}
