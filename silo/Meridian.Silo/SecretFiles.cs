using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;

namespace Meridian.Silo;

/// <summary>
/// <c>&lt;key&gt;_FILE</c> settings: any <c>Meridian:*</c> value can be given as the path of a file holding it
/// (<c>Meridian__Acl__Tokens__Replication_FILE=/run/secrets/replication-token</c>), the convention of the official
/// PostgreSQL image and of Docker and Kubernetes secrets, so tokens and connection strings are mounted into a
/// container instead of passed in its environment, where <c>inspect</c> and every child process see them.
/// Settings that already name a file (<c>Meridian:Ca:KeyEncryptionKeyFile</c>, <c>Meridian:Acl:SecretHashKeyFile</c>,
/// <c>Meridian:Tls:*File</c>) take the mounted path as they are.
/// </summary>
public static class SecretFiles
{
    /// <summary>The suffix of a key whose value is a file path.</summary>
    public const string Suffix = "_FILE";

    /// <summary>
    /// Adds, above every other source, the contents of each <c>Meridian:*_FILE</c> file (one trailing newline removed)
    /// as its key without the suffix. Returns the problems (unreadable file, the key also set directly), each naming the
    /// key; the values never appear in them.
    /// </summary>
    public static IReadOnlyList<string> Apply(IConfigurationManager configuration)
    {
        List<string> problems = [];
        Dictionary<string, string?> values = new(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, path) in configuration.AsEnumerable())
        {
            if (!key.StartsWith(MeridianOptions.SectionName + ":", StringComparison.OrdinalIgnoreCase)
                || !key.EndsWith(Suffix, StringComparison.OrdinalIgnoreCase) || key.Length == Suffix.Length) continue;
            var target = key[..^Suffix.Length];
            if (string.IsNullOrWhiteSpace(path))
            {
                problems.Add($"{key} is empty: give the path of the file that holds {target}");
                continue;
            }
            if (!string.IsNullOrEmpty(configuration[target]))
            {
                problems.Add($"{target} and {key} are both set: keep one (the file, for a secret)");
                continue;
            }
            try
            {
                var text = File.ReadAllText(path);
                values[target] = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                problems.Add($"{key}: cannot read {path}: {e.Message}");
            }
        }
        if (values.Count > 0) configuration.Sources.Add(new MemoryConfigurationSource { InitialData = values });
        return problems;
    }
}
