using System.Net;
using System.Security.Cryptography;
using Meridian.Core.Certificates;
using Meridian.Pki.Internal;
using Org.BouncyCastle.Asn1.X509;

namespace Meridian.Pki;

/// <summary>A certificate and its private key, both PEM.</summary>
public sealed record TransportKeyPair(string CertificatePem, string PrivateKeyPem);

/// <summary>
/// Certificates for the transport (mutual TLS between silos, clients and the HTTP port), separate from the Connect CA
/// that signs service identities. Modelled on <c>consul tls ca create</c> / <c>consul tls cert create</c>
/// (https://developer.hashicorp.com/consul/commands/tls): an EC P-256 CA valid 5 years, agent certificates valid 1 year
/// named <c>server.&lt;dc&gt;.&lt;domain&gt;</c> or <c>client.&lt;dc&gt;.&lt;domain&gt;</c> plus <c>localhost</c>
/// and 127.0.0.1, usable for both server and client authentication (a silo is a TLS client of its peers).
/// </summary>
public static class TransportCertificates
{
    /// <summary>Consul's default for <c>-days</c> of <c>tls ca create</c>.</summary>
    public static readonly TimeSpan DefaultCaLifetime = TimeSpan.FromDays(1825);

    /// <summary>Consul's default for <c>-days</c> of <c>tls cert create</c>.</summary>
    public static readonly TimeSpan DefaultCertLifetime = TimeSpan.FromDays(365);

    private static readonly CaKeySpec KeySpec = new(CaKeyType.Ec, 256);

    /// <summary>The DNS name a server of <paramref name="datacenter"/> presents: <c>server.dc1.consul</c>.</summary>
    public static string ServerName(string datacenter, string domain) => $"server.{datacenter}.{domain}".ToLowerInvariant();

    /// <summary>The DNS name of a client certificate: <c>client.dc1.consul</c>.</summary>
    public static string ClientName(string datacenter, string domain) => $"client.{datacenter}.{domain}".ToLowerInvariant();

    /// <summary>
    /// A self-signed transport CA: CN <c>Meridian Agent CA &lt;serial&gt;</c>, critical BasicConstraints CA, KeyUsage
    /// CertSign|CRLSign|DigitalSignature, SKI = AKI = SHA-256 of the key. Valid from <paramref name="now"/>.
    /// </summary>
    public static TransportKeyPair CreateCa(DateTimeOffset now, TimeSpan? lifetime = null)
    {
        using var key = CaKeyPair.Generate(KeySpec);
        var serial = RandomSerial();
        now = CertBuilder.Seconds(now);
        var name = CertBuilder.CommonName($"Meridian Agent CA {serial}");
        var keyId = key.KeyId.ToArray();
        var g = CertBuilder.SelfSignedCaExtensions(keyId);
        var der = CertBuilder.Build(key, name, name, SubjectPublicKeyInfo.GetInstance(key.PublicKeyDer), serial, now,
            now + Positive(lifetime ?? DefaultCaLifetime), g.Generate());
        return new TransportKeyPair(PemBlocks.Certificate(der), key.ToPem());
    }

    /// <summary>
    /// A server certificate for <paramref name="datacenter"/>: CN and first DNS SAN <see cref="ServerName"/>, then
    /// <c>localhost</c>, any <paramref name="extraDnsNames"/>, 127.0.0.1 and any <paramref name="extraIps"/>.
    /// Throws <see cref="ArgumentException"/> when the CA certificate and key do not belong together.
    /// </summary>
    public static TransportKeyPair CreateServer(string caCertPem, string caKeyPem, string datacenter, string domain,
        DateTimeOffset now, TimeSpan? lifetime = null, IEnumerable<string>? extraDnsNames = null, IEnumerable<IPAddress>? extraIps = null)
        => CreateAgent(caCertPem, caKeyPem, ServerName(Label(datacenter, nameof(datacenter)), Domain(domain)), now, lifetime, extraDnsNames, extraIps);

    /// <summary>A client certificate for <paramref name="datacenter"/>, named <see cref="ClientName"/> (SANs as a server's).</summary>
    public static TransportKeyPair CreateClient(string caCertPem, string caKeyPem, string datacenter, string domain,
        DateTimeOffset now, TimeSpan? lifetime = null)
        => CreateAgent(caCertPem, caKeyPem, ClientName(Label(datacenter, nameof(datacenter)), Domain(domain)), now, lifetime, null, null);

    private static TransportKeyPair CreateAgent(string caCertPem, string caKeyPem, string name, DateTimeOffset now,
        TimeSpan? lifetime, IEnumerable<string>? extraDnsNames, IEnumerable<IPAddress>? extraIps)
    {
        using var caKey = CaKeyPair.FromPem(caKeyPem);
        var ca = CertificateInfo.Parse(caCertPem);
        if (!caKey.MatchesPublicKey(ca.PublicKeyDer))
            throw new ArgumentException("The CA key does not belong to the CA certificate.", nameof(caKeyPem));
        if (!ca.IsCa)
            throw new ArgumentException("The CA certificate is not a CA certificate (BasicConstraints CA:FALSE).", nameof(caCertPem));
        using var key = CaKeyPair.Generate(KeySpec);
        now = CertBuilder.Seconds(now);
        var dns = new List<string> { name, "localhost" };
        dns.AddRange((extraDnsNames ?? []).Where(d => !dns.Contains(d, StringComparer.OrdinalIgnoreCase)));
        var ips = new List<IPAddress> { IPAddress.Loopback };
        ips.AddRange((extraIps ?? []).Where(ip => !ips.Contains(ip)));
        var g = new X509ExtensionsGenerator();
        g.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(false));
        g.AddExtension(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.DigitalSignature | KeyUsage.KeyEncipherment));
        // Both purposes, as Consul's agent certificates: a silo is the server of its gateway and the client of its peers.
        g.AddExtension(X509Extensions.ExtendedKeyUsage, false,
            new ExtendedKeyUsage([KeyPurposeID.id_kp_serverAuth, KeyPurposeID.id_kp_clientAuth]));
        g.AddExtension(X509Extensions.SubjectKeyIdentifier, false, new SubjectKeyIdentifier(CaCertificates.Sha256(key.PublicKeyDer)));
        g.AddExtension(X509Extensions.AuthorityKeyIdentifier, false,
            new AuthorityKeyIdentifier(ca.SubjectKeyIdBytes.Length > 0 ? ca.SubjectKeyIdBytes : caKey.KeyId.ToArray()));
        g.AddExtension(X509Extensions.SubjectAlternativeName, false, CertBuilder.AltNames([], dns, ips.Select(CertBuilder.IpBytes)));
        // NotAfter never outlives the CA: a verifier would refuse the chain after the CA expires anyway.
        var notAfter = now + Positive(lifetime ?? DefaultCertLifetime);
        if (notAfter > ca.NotAfter) notAfter = ca.NotAfter;
        var der = CertBuilder.Build(caKey, ca.Structure.TbsCertificate.Subject, CertBuilder.CommonName(name),
            SubjectPublicKeyInfo.GetInstance(key.PublicKeyDer), RandomSerial(), now - CaCertificates.Backdate, notAfter, g.Generate());
        return new TransportKeyPair(PemBlocks.Certificate(der), key.ToPem());
    }

    /// <summary>Random 63-bit serial (Consul uses random serials for these too): two CAs made apart never collide.</summary>
    private static ulong RandomSerial()
    {
        Span<byte> b = stackalloc byte[8];
        RandomNumberGenerator.Fill(b);
        return (BitConverter.ToUInt64(b) >> 1) | 1;
    }

    private static TimeSpan Positive(TimeSpan t)
        => t > TimeSpan.Zero ? t : throw new ArgumentOutOfRangeException(nameof(t), "Certificate lifetime must be positive.");

    private static string Label(string value, string field)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, field);
        if (!value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') || value.StartsWith('-') || value.EndsWith('-'))
            throw new ArgumentException($"{field} \"{value}\" must be a DNS label: letters, digits and '-'.", field);
        return value;
    }

    private static string Domain(string domain)
    {
        ArgumentException.ThrowIfNullOrEmpty(domain);
        foreach (var label in domain.TrimEnd('.').Split('.')) Label(label, nameof(domain));
        return domain.TrimEnd('.');
    }
}
