using System.Net;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Math;

namespace Meridian.Pki.Internal;

/// <summary>
/// Builds a TBSCertificate with BouncyCastle's ASN.1 types and signs it with the .NET key. Uses the TBS generator
/// directly (not X509V3CertificateGenerator) so that the subject key stays a SubjectPublicKeyInfo: decoding it
/// into a BC key would validate the EC point, which costs as much as the signature itself.
/// </summary>
internal static class CertBuilder
{
    public static readonly X509Name EmptyName = new(new List<DerObjectIdentifier>(), new List<string>());

    public static byte[] Build(CaKeyPair signer, X509Name issuer, X509Name subject, SubjectPublicKeyInfo subjectKey,
        ulong serial, DateTimeOffset notBefore, DateTimeOffset notAfter, X509Extensions extensions)
    {
        if (serial == 0) throw new ArgumentOutOfRangeException(nameof(serial), "Serial numbers must be positive.");
        var alg = signer.SignatureAlgorithm;
        var g = new V3TbsCertificateGenerator();
        g.SetSerialNumber(new DerInteger(new BigInteger(1, Hex.SerialBytes(serial))));
        g.SetSignature(alg);
        g.SetIssuer(issuer);
        g.SetStartDate(new Time(notBefore.UtcDateTime));
        g.SetEndDate(new Time(notAfter.UtcDateTime));
        g.SetSubject(subject);
        g.SetSubjectPublicKeyInfo(subjectKey);
        g.SetExtensions(extensions);
        var tbs = g.GenerateTbsCertificate();
        var signature = signer.Sign(tbs.GetDerEncoded());
        return new X509CertificateStructure(tbs, alg, new DerBitString(signature)).GetDerEncoded();
    }

    /// <summary>Certificates carry whole seconds; truncating first keeps returned times equal to the encoded ones.</summary>
    public static DateTimeOffset Seconds(DateTimeOffset t)
    {
        var utc = t.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
    }

    public static X509Name CommonName(string cn) => new(new List<DerObjectIdentifier> { X509Name.CN }, new List<string> { cn });

    public static GeneralNames AltNames(IEnumerable<string> uris, IEnumerable<string>? dns, IEnumerable<byte[]>? ips)
    {
        var names = new List<GeneralName>();
        foreach (var u in uris) names.Add(new GeneralName(GeneralName.UniformResourceIdentifier, u));
        foreach (var d in dns ?? []) names.Add(new GeneralName(GeneralName.DnsName, d));
        foreach (var ip in ips ?? []) names.Add(new GeneralName(GeneralName.IPAddress, new DerOctetString(ip)));
        return new GeneralNames(names.ToArray());
    }

    public static byte[] IpBytes(IPAddress ip) => ip.GetAddressBytes();

    /// <summary>RFC 5280 4.2.1.6: the SAN must be critical when the subject is empty (Go does the same).</summary>
    public static bool SanCritical(X509Name subject) => subject.GetOidList().Count == 0;

    /// <summary>
    /// The extensions every self-signed CA of ours starts with: critical BasicConstraints CA without path length,
    /// critical KeyUsage <see cref="CaKeyUsage"/>, SKI = AKI = <paramref name="keyId"/>.
    /// </summary>
    public static X509ExtensionsGenerator SelfSignedCaExtensions(byte[] keyId)
    {
        var g = new X509ExtensionsGenerator();
        g.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(true));
        g.AddExtension(X509Extensions.KeyUsage, true, CaKeyUsage);
        g.AddExtension(X509Extensions.SubjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId));
        g.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(keyId));
        return g;
    }

    public static readonly KeyUsage CaKeyUsage = new(KeyUsage.KeyCertSign | KeyUsage.CrlSign | KeyUsage.DigitalSignature);

    public static readonly KeyUsage LeafKeyUsage =
        new(KeyUsage.DataEncipherment | KeyUsage.KeyAgreement | KeyUsage.DigitalSignature | KeyUsage.KeyEncipherment);
}
