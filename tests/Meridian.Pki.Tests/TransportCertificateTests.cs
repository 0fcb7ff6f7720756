using System.Security.Cryptography.X509Certificates;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class TransportCertificateTests : IDisposable
{
    private readonly OpenSsl _openssl = new();

    public void Dispose() => _openssl.Dispose();

    [Fact]
    public void ServerCertificate_VerifiesAgainstTheCaWithOpenSsl_ForServerAndClientPurposes()
    {
        var ca = TransportCertificates.CreateCa(TestPki.RealNow);
        var server = TransportCertificates.CreateServer(ca.CertificatePem, ca.PrivateKeyPem, "dc1", "consul", TestPki.RealNow);
        var caFile = _openssl.Write("ca.pem", ca.CertificatePem);
        var certFile = _openssl.Write("server.pem", server.CertificatePem);
        foreach (var purpose in new[] { "sslserver", "sslclient" })
        {
            var output = _openssl.RunOk("verify", "-x509_strict", "-purpose", purpose, "-CAfile", caFile, certFile);
            Assert.Contains(": OK", output);
        }
        Assert.Contains(": OK", _openssl.RunOk("verify", "-verify_hostname", "server.dc1.consul", "-CAfile", caFile, certFile));
    }

    [Fact]
    public void ServerCertificate_NamesServerDcDomainLocalhostAndLoopback()
    {
        var ca = TransportCertificates.CreateCa(TestPki.RealNow);
        var server = TransportCertificates.CreateServer(ca.CertificatePem, ca.PrivateKeyPem, "dc2", "example", TestPki.RealNow);
        var text = _openssl.Text(server.CertificatePem);
        Assert.Contains("Subject: CN = server.dc2.example", text);
        Assert.Contains("DNS:server.dc2.example, DNS:localhost, IP Address:127.0.0.1", text);
        Assert.Contains("TLS Web Server Authentication, TLS Web Client Authentication", text);
        Assert.Contains("CA:FALSE", text);
    }

    [Fact]
    public void ClientCertificate_IsNamedClientDcDomain_AndDoesNotVerifyAsTheServerName()
    {
        var ca = TransportCertificates.CreateCa(TestPki.RealNow);
        var client = TransportCertificates.CreateClient(ca.CertificatePem, ca.PrivateKeyPem, "dc1", "consul", TestPki.RealNow);
        Assert.Contains("DNS:client.dc1.consul", _openssl.Text(client.CertificatePem));
        var (code, output, error) = _openssl.Run("verify", "-verify_hostname", "server.dc1.consul",
            "-CAfile", _openssl.Write("ca.pem", ca.CertificatePem), _openssl.Write("client.pem", client.CertificatePem));
        Assert.NotEqual(0, code);
        Assert.Contains("hostname mismatch", output + error);
    }

    [Fact]
    public void Certificate_OfAnotherCa_FailsOpenSslVerify()
    {
        var ca = TransportCertificates.CreateCa(TestPki.RealNow);
        var other = TransportCertificates.CreateCa(TestPki.RealNow);
        var server = TransportCertificates.CreateServer(other.CertificatePem, other.PrivateKeyPem, "dc1", "consul", TestPki.RealNow);
        var (ok, output) = _openssl.Verify(ca.CertificatePem, null, server.CertificatePem);
        Assert.False(ok, output);
    }

    [Fact]
    public void KeyPair_LoadsIntoDotNetAsACertificateWithItsPrivateKey()
    {
        var ca = TransportCertificates.CreateCa(TestPki.RealNow);
        var server = TransportCertificates.CreateServer(ca.CertificatePem, ca.PrivateKeyPem, "dc1", "consul", TestPki.RealNow);
        using var cert = X509Certificate2.CreateFromPem(server.CertificatePem, server.PrivateKeyPem);
        Assert.True(cert.HasPrivateKey);
        Assert.True(cert.MatchesHostname("server.dc1.consul"));
    }

    [Fact]
    public void CreateServer_WithAMismatchedCaKey_Throws()
    {
        var ca = TransportCertificates.CreateCa(TestPki.RealNow);
        var other = TransportCertificates.CreateCa(TestPki.RealNow);
        Assert.Throws<ArgumentException>(() =>
            TransportCertificates.CreateServer(ca.CertificatePem, other.PrivateKeyPem, "dc1", "consul", TestPki.RealNow));
    }

    [Theory]
    [InlineData("dc 1", "consul")]
    [InlineData("dc1", "bad..domain")]
    [InlineData("", "consul")]
    public void CreateServer_WithANameThatIsNotDns_Throws(string datacenter, string domain)
    {
        var ca = TransportCertificates.CreateCa(TestPki.RealNow);
        Assert.ThrowsAny<ArgumentException>(() =>
            TransportCertificates.CreateServer(ca.CertificatePem, ca.PrivateKeyPem, datacenter, domain, TestPki.RealNow));
    }
}
