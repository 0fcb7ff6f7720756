using Orleans.Connections.Security;

namespace Meridian.Client;

/// <summary>
/// The transport TLS files of one side, re-read when they change, so a rotated certificate (or CA bundle) is used by
/// the next connection without a restart, as Consul does on reload
/// (https://developer.hashicorp.com/consul/docs/reference/agent/configuration-file/tls). Connections already open keep
/// the certificate they were made with. A change is taken only when the new files load together and pass the caller's
/// check; otherwise the current material stays in use and the caller reports the problems (a half-written file, a key
/// that does not match yet, a certificate of the wrong name). Thread-safe: <see cref="Current"/> is swapped atomically.
/// </summary>
public sealed class ReloadingTlsMaterial
{
    private readonly string _fieldPrefix;
    private readonly string? _caFile, _certFile, _keyFile;
    private readonly (string Ca, string Cert, string Key) _fields;
    private readonly Func<MeridianTlsMaterial, IReadOnlyList<string>> _check;
    private readonly Lock _lock = new();
    private MeridianTlsMaterial _current;
    private FileStamp[] _stamps;

    /// <summary>
    /// Starts from <paramref name="initial"/>, loaded from the files named here. <paramref name="check"/> returns the
    /// problems of a newly loaded material (empty to accept it); by default none.
    /// </summary>
    public ReloadingTlsMaterial(MeridianTlsMaterial initial, string fieldPrefix, string? caFile, string? certFile, string? keyFile,
        Func<MeridianTlsMaterial, IReadOnlyList<string>>? check = null, string caField = "CaFile", string certField = "CertFile", string keyField = "KeyFile")
    {
        _current = initial;
        _fieldPrefix = fieldPrefix;
        (_caFile, _certFile, _keyFile) = (caFile, certFile, keyFile);
        _fields = (caField, certField, keyField);
        _check = check ?? (_ => []);
        _stamps = Stamp();
    }

    /// <summary>The material new connections use.</summary>
    public MeridianTlsMaterial Current => Volatile.Read(ref _current);

    /// <summary>The certificate file (for messages; never its content).</summary>
    public string? CertFile => _certFile;

    /// <summary>
    /// Re-reads the files when any of them changed since the last call (modification time or size): the new material
    /// replaces <see cref="Current"/> only when it loads and passes the check. A refused change is reported once, and
    /// tried again when the files change again.
    /// </summary>
    public TlsReloadResult Reload()
    {
        lock (_lock)
        {
            var stamps = Stamp();
            if (stamps.AsSpan().SequenceEqual(_stamps)) return TlsReloadResult.Unchanged;
            _stamps = stamps;
            var problems = MeridianTlsMaterial.TryLoad(_fieldPrefix, _caFile, _certFile, _keyFile, out var material, _fields.Ca, _fields.Cert, _fields.Key);
            if (material is not null) problems = _check(material);
            if (problems.Count > 0) return new TlsReloadResult(TlsReloadOutcome.Refused, problems);
            Volatile.Write(ref _current, material!);
            return new TlsReloadResult(TlsReloadOutcome.Reloaded, []);
        }
    }

    /// <summary>Client-side options (see <see cref="MeridianTlsMaterial.Outbound(bool, string?)"/>) that read <see cref="Current"/> at every new connection.</summary>
    public TlsOptions Outbound(bool verifyServer, string? requiredServerName) => MeridianTlsMaterial.Outbound(() => Current, verifyServer, requiredServerName);

    /// <summary>Server-side options (see <see cref="MeridianTlsMaterial.Inbound(bool)"/>) that read <see cref="Current"/> at every new connection.</summary>
    public TlsOptions Inbound(bool requireClientCertificate, Func<System.Security.Cryptography.X509Certificates.X509Certificate2, bool>? accept = null)
        => MeridianTlsMaterial.Inbound(() => Current, requireClientCertificate, accept);

    private FileStamp[] Stamp() => [FileStamp.Of(_caFile), FileStamp.Of(_certFile), FileStamp.Of(_keyFile)];

    // Modification time and length: a file replaced by a rename (a Kubernetes secret's symlink swap, `mv`) or rewritten
    // in place changes one of them. File.GetLastWriteTimeUtc follows symlinks.
    private readonly record struct FileStamp(DateTime WrittenUtc, long Length)
    {
        public static FileStamp Of(string? path)
        {
            if (string.IsNullOrWhiteSpace(path)) return default;
            try
            {
                var info = new FileInfo(path);
                return info.Exists ? new FileStamp(info.LastWriteTimeUtc, info.Length) : new FileStamp(DateTime.MinValue, -1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return new FileStamp(DateTime.MinValue, -2);
            }
        }
    }
}

/// <summary>What <see cref="ReloadingTlsMaterial.Reload"/> did.</summary>
public enum TlsReloadOutcome
{
    /// <summary>No file changed.</summary>
    Unchanged,

    /// <summary>The files changed and the new material is in use.</summary>
    Reloaded,

    /// <summary>The files changed but do not load or do not pass the check: the previous material stays in use.</summary>
    Refused,
}

/// <summary>The outcome of a reload and, when refused, every problem (naming options and files, never key material).</summary>
public sealed record TlsReloadResult(TlsReloadOutcome Outcome, IReadOnlyList<string> Problems)
{
    public static TlsReloadResult Unchanged { get; } = new(TlsReloadOutcome.Unchanged, []);
}
