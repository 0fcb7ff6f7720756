using Meridian.Pki;

namespace Meridian.Cli;

/// <summary>
/// The throwaway transport CA of <c>meridian dev --tls</c>: a CA made for this run only (its key is never written),
/// a server certificate per datacenter (<c>server.&lt;dc&gt;.meridian</c>, as <c>meridian tls cert create --server</c>)
/// and one client certificate for the CLI and SDK, in a new temporary directory (mode 0700, keys 0600), deleted when
/// the run ends.
/// </summary>
internal sealed class DevTls : IDisposable
{
    private DevTls(string directory) => Directory = directory;

    /// <summary>The temporary directory that holds every file.</summary>
    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, TlsCommands.CaFileNames(TlsCommands.DefaultDomain).Cert);

    public string ClientCert { get; private set; } = "";

    public string ClientKey { get; private set; } = "";

    /// <summary>The files a client passes (<c>--ca-file</c>, <c>--client-cert</c>, <c>--client-key</c>).</summary>
    public TlsFiles ClientFiles => new(CaFile, ClientCert, ClientKey);

    /// <summary>Makes the CA and the certificates of <paramref name="datacenters"/> (the first also names the client certificate).</summary>
    public static DevTls Create(IReadOnlyList<string> datacenters, DateTimeOffset now)
    {
        var tls = new DevTls(System.IO.Directory.CreateTempSubdirectory("meridian-dev-tls-").FullName);
        try
        {
            var ca = TransportCertificates.CreateCa(now);
            PemFiles.Write(tls.Directory, Path.GetFileName(tls.CaFile), ca.CertificatePem, secret: false);
            foreach (var dc in datacenters)
            {
                var server = TransportCertificates.CreateServer(ca.CertificatePem, ca.PrivateKeyPem, dc, TlsCommands.DefaultDomain, now);
                var (cert, key) = tls.ServerFiles(dc);
                PemFiles.Write(tls.Directory, Path.GetFileName(cert), server.CertificatePem, secret: false);
                PemFiles.Write(tls.Directory, Path.GetFileName(key), server.PrivateKeyPem, secret: true);
            }
            var client = TransportCertificates.CreateClient(ca.CertificatePem, ca.PrivateKeyPem, datacenters[0], TlsCommands.DefaultDomain, now);
            var stem = $"{datacenters[0]}-client-{TlsCommands.DefaultDomain}-0";
            tls.ClientCert = PemFiles.Write(tls.Directory, stem + ".pem", client.CertificatePem, secret: false);
            tls.ClientKey = PemFiles.Write(tls.Directory, stem + "-key.pem", client.PrivateKeyPem, secret: true);
            return tls;
        }
        catch
        {
            tls.Dispose();
            throw;
        }
    }

    /// <summary>The certificate and key files of <paramref name="datacenter"/>'s silo, named as <c>meridian tls cert create --server</c> names them.</summary>
    public (string Cert, string Key) ServerFiles(string datacenter)
    {
        var stem = Path.Combine(Directory, $"{datacenter}-server-{TlsCommands.DefaultDomain}-0");
        return (stem + ".pem", stem + "-key.pem");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a temporary directory left behind holds only this run's throwaway files.
        }
    }
}
