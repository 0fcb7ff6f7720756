using Meridian.Pki;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// Throwaway transport TLS files (a CA, servers of dc1 and dc2, a dc1 client), as <c>meridian tls …</c> writes them, for
/// the scenarios that compare TLS on with TLS off. The silos run with every check on (VerifyIncoming, VerifyOutgoing,
/// VerifyServerHostname), as the README's production configuration does. Dispose deletes the files.
/// </summary>
internal sealed class BenchTls : IDisposable
{
    private const string Domain = "meridian";
    private readonly string _dir = Directory.CreateTempSubdirectory("meridian-bench-tls-").FullName;

    public BenchTls()
    {
        var now = DateTimeOffset.UtcNow;
        var ca = TransportCertificates.CreateCa(now);
        Write("ca.pem", ca.CertificatePem);
        foreach (var dc in new[] { "dc1", "dc2" })
        {
            var server = TransportCertificates.CreateServer(ca.CertificatePem, ca.PrivateKeyPem, dc, Domain, now);
            Write($"{dc}-server.pem", server.CertificatePem);
            Write($"{dc}-server-key.pem", server.PrivateKeyPem);
        }
        var client = TransportCertificates.CreateClient(ca.CertificatePem, ca.PrivateKeyPem, "dc1", Domain, now);
        Write("dc1-client.pem", client.CertificatePem);
        Write("dc1-client-key.pem", client.PrivateKeyPem);
    }

    public string CaFile => Path.Combine(_dir, "ca.pem");
    public string ClientCertFile => Path.Combine(_dir, "dc1-client.pem");
    public string ClientKeyFile => Path.Combine(_dir, "dc1-client-key.pem");

    /// <summary>The <c>Meridian:Tls:*</c> settings of a silo of <paramref name="datacenter"/>; <paramref name="separator"/> "__" for environment variables.</summary>
    public Dictionary<string, string?> SiloSettings(string datacenter, string separator = ":") => new()
    {
        [$"Meridian{separator}Tls{separator}CaFile"] = CaFile,
        [$"Meridian{separator}Tls{separator}CertFile"] = Path.Combine(_dir, $"{datacenter}-server.pem"),
        [$"Meridian{separator}Tls{separator}KeyFile"] = Path.Combine(_dir, $"{datacenter}-server-key.pem"),
        [$"Meridian{separator}Tls{separator}VerifyIncoming"] = "true",
        [$"Meridian{separator}Tls{separator}VerifyOutgoing"] = "true",
        [$"Meridian{separator}Tls{separator}VerifyServerHostname"] = "true",
    };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string name, string pem) => File.WriteAllText(Path.Combine(_dir, name), pem);
}
