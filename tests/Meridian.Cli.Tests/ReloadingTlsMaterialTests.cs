using Meridian.Client;
using Meridian.Pki;

namespace Meridian.Cli.Tests;

/// <summary>The SDK's and the silo's view of transport TLS files that change under them.</summary>
[Trait("Category", "Unit")]
public sealed class ReloadingTlsMaterialTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly string _dir = Directory.CreateTempSubdirectory("meridian-tls-reload-").FullName;
    private readonly TransportKeyPair _ca = TransportCertificates.CreateCa(Now);
    private DateTime _written = DateTime.UtcNow.AddMinutes(-10);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    // Writes a file with a modification time later than any before it (a test never depends on the clock's resolution).
    private void Write(string name, string text)
    {
        File.WriteAllText(P(name), text);
        _written = _written.AddSeconds(1);
        File.SetLastWriteTimeUtc(P(name), _written);
    }

    private TransportKeyPair Server() => TransportCertificates.CreateServer(_ca.CertificatePem, _ca.PrivateKeyPem, "dc1", "meridian", Now);

    private ReloadingTlsMaterial Start(TransportKeyPair first)
    {
        Write("ca.pem", _ca.CertificatePem);
        Write("cert.pem", first.CertificatePem);
        Write("key.pem", first.PrivateKeyPem);
        Assert.Empty(MeridianTlsMaterial.TryLoad("Meridian:Tls:", P("ca.pem"), P("cert.pem"), P("key.pem"), out var material));
        return new ReloadingTlsMaterial(material!, "Meridian:Tls:", P("ca.pem"), P("cert.pem"), P("key.pem"));
    }

    private static string Serial(ReloadingTlsMaterial files) => files.Current.Certificate!.SerialNumber;

    [Fact]
    public void Reload_NothingChanged_Unchanged()
    {
        var files = Start(Server());
        var before = Serial(files);

        Assert.Equal(TlsReloadOutcome.Unchanged, files.Reload().Outcome);
        Assert.Equal(before, Serial(files));
    }

    [Fact]
    public void Reload_NewPairWritten_NewConnectionsGetTheNewCertificate()
    {
        var files = Start(Server());
        var inbound = files.Inbound(requireClientCertificate: true);
        var outbound = files.Outbound(verifyServer: true, "server.dc1.meridian");
        var next = Server();
        Write("key.pem", next.PrivateKeyPem);
        Write("cert.pem", next.CertificatePem);

        Assert.Equal(TlsReloadOutcome.Reloaded, files.Reload().Outcome);

        var expected = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(next.CertificatePem).SerialNumber;
        Assert.Equal(expected, Serial(files));
        // The options made before the reload serve the new certificate: the selectors read the current material.
        Assert.Equal(expected, inbound.LocalServerCertificateSelector!(null!, null).SerialNumber);
        Assert.Equal(expected, ((System.Security.Cryptography.X509Certificates.X509Certificate2)outbound.LocalClientCertificateSelector!(null!, "", [], null, [])!).SerialNumber);
    }

    [Fact]
    public void Reload_KeyOfAnotherCertificate_RefusedKeepsTheOldOne_ThenTakesTheFixedPair()
    {
        var files = Start(Server());
        var before = Serial(files);
        var next = Server();
        Write("key.pem", next.PrivateKeyPem); // the certificate is not there yet

        var refused = files.Reload();

        Assert.Equal(TlsReloadOutcome.Refused, refused.Outcome);
        Assert.Contains(refused.Problems, p => p.StartsWith("Meridian:Tls:CertFile/KeyFile: cannot load", StringComparison.Ordinal));
        Assert.DoesNotContain(refused.Problems, p => p.Contains("PRIVATE KEY", StringComparison.Ordinal));
        Assert.Equal(before, Serial(files));
        Assert.Equal(TlsReloadOutcome.Unchanged, files.Reload().Outcome); // reported once, not at every look
        Write("cert.pem", next.CertificatePem);
        Assert.Equal(TlsReloadOutcome.Reloaded, files.Reload().Outcome);
        Assert.NotEqual(before, Serial(files));
    }

    [Fact]
    public void Reload_CheckRefusesTheNewCertificate_KeepsTheOldOne()
    {
        Write("ca.pem", _ca.CertificatePem);
        var first = Server();
        Write("cert.pem", first.CertificatePem);
        Write("key.pem", first.PrivateKeyPem);
        Assert.Empty(MeridianTlsMaterial.TryLoad("Meridian:Tls:", P("ca.pem"), P("cert.pem"), P("key.pem"), out var material));
        var files = new ReloadingTlsMaterial(material!, "Meridian:Tls:", P("ca.pem"), P("cert.pem"), P("key.pem"),
            m => m.Certificate!.MatchesHostname("server.dc1.meridian") ? [] : ["Meridian:Tls:CertFile does not name server.dc1.meridian"]);
        var other = TransportCertificates.CreateServer(_ca.CertificatePem, _ca.PrivateKeyPem, "dc2", "meridian", Now);
        Write("key.pem", other.PrivateKeyPem);
        Write("cert.pem", other.CertificatePem);

        var result = files.Reload();

        Assert.Equal(TlsReloadOutcome.Refused, result.Outcome);
        Assert.Equal(["Meridian:Tls:CertFile does not name server.dc1.meridian"], result.Problems);
        Assert.True(files.Current.Certificate!.MatchesHostname("server.dc1.meridian"));
    }
}
