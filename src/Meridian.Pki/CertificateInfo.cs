using System.Net;
using System.Numerics;
using Meridian.Core.Certificates;
using Meridian.Pki.Internal;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Meridian.Pki;

/// <summary>
/// The fields of an X.509 certificate that the CA logic reads. Parse with <see cref="Parse"/> (first CERTIFICATE
/// block of a PEM) or <see cref="FromDer"/>. Key ids and serials are colon hex, as Consul prints them.
/// </summary>
public sealed class CertificateInfo
{
    private CertificateInfo(byte[] der)
    {
        Der = der;
        Structure = X509CertificateStructure.GetInstance(der);
        var tbs = Structure.TbsCertificate;
        var serial = tbs.SerialNumber.Value;
        SerialNumber = Hex.Colon(serial.ToByteArrayUnsigned());
        SerialValue = new BigInteger(serial.ToByteArrayUnsigned(), isUnsigned: true, isBigEndian: true);
        Subject = tbs.Subject.ToString();
        Issuer = tbs.Issuer.ToString();
        NotBefore = new DateTimeOffset(tbs.StartDate.ToDateTime().ToUniversalTime(), TimeSpan.Zero);
        NotAfter = new DateTimeOffset(tbs.EndDate.ToDateTime().ToUniversalTime(), TimeSpan.Zero);
        PublicKeyDer = tbs.SubjectPublicKeyInfo.GetDerEncoded();
        SignatureAlgorithmOid = Structure.SignatureAlgorithm.Algorithm.Id;
        Id = Hex.RootId(der);

        var exts = tbs.Extensions;
        SubjectKeyIdBytes = exts?.GetExtension(X509Extensions.SubjectKeyIdentifier) is { } ski
            ? SubjectKeyIdentifier.GetInstance(ski.GetParsedValue()).GetKeyIdentifier() : [];
        AuthorityKeyIdBytes = exts?.GetExtension(X509Extensions.AuthorityKeyIdentifier) is { } aki
            ? AuthorityKeyIdentifier.GetInstance(aki.GetParsedValue()).KeyIdentifier?.GetOctets() ?? [] : [];
        if (exts?.GetExtension(X509Extensions.BasicConstraints) is { } bc)
        {
            var b = BasicConstraints.GetInstance(bc.GetParsedValue());
            IsCa = b.IsCA();
            MaxPathLength = IsCa ? b.PathLenConstraint?.IntValue : null;
        }
        var uris = new List<string>();
        var dns = new List<string>();
        var ips = new List<IPAddress>();
        var emails = new List<string>();
        if (exts?.GetExtension(X509Extensions.SubjectAlternativeName) is { } san)
            SanReader.Read(GeneralNames.GetInstance(san.GetParsedValue()), uris, dns, ips, emails);
        Uris = uris;
        DnsNames = dns;
        IpAddresses = ips;
        EmailAddresses = emails;

        KeySpec = PublicKeyFactory.CreateKey(tbs.SubjectPublicKeyInfo) switch
        {
            ECPublicKeyParameters ec => new CaKeySpec(CaKeyType.Ec, ec.Parameters.Curve.FieldSize),
            RsaKeyParameters rsa => new CaKeySpec(CaKeyType.Rsa, rsa.Modulus.BitLength),
            _ => null,
        };
    }

    /// <summary>Parses the first CERTIFICATE block of <paramref name="pem"/>. Throws <see cref="PkiException"/> when malformed.</summary>
    public static CertificateInfo Parse(string pem) => FromDer(PemBlocks.Certificates(pem)[0]);

    /// <summary>Parses every CERTIFICATE block of <paramref name="pem"/>, in order.</summary>
    public static IReadOnlyList<CertificateInfo> ParseAll(string pem) => PemBlocks.Certificates(pem).Select(FromDer).ToList();

    /// <summary>Parses a DER certificate. Throws <see cref="PkiException"/> when malformed.</summary>
    public static CertificateInfo FromDer(byte[] der)
    {
        try
        {
            return new CertificateInfo((byte[])der.Clone());
        }
        catch (Exception e) when (e is not PkiException)
        {
            throw new PkiException(PkiErrorCode.MalformedInput, $"error parsing certificate: {e.Message}", e);
        }
    }

    /// <summary>The certificate DER.</summary>
    public byte[] Der { get; }

    /// <summary>The certificate as a single-block PEM (ends with a newline).</summary>
    public string ToPem() => PemBlocks.Certificate(Der);

    /// <summary>Root ID (SPEC §3.6): SHA-1 of the DER, lower-case colon hex (59 characters).</summary>
    public string Id { get; }

    /// <summary>Serial as colon hex of its minimal big-endian bytes, e.g. <c>0e</c>.</summary>
    public string SerialNumber { get; }

    /// <summary>Serial as a number.</summary>
    public BigInteger SerialValue { get; }

    /// <summary>Subject DN in BouncyCastle's RFC 2253-like text, e.g. <c>CN=pri-...</c>; empty when the subject is empty.</summary>
    public string Subject { get; }

    /// <summary>Issuer DN text.</summary>
    public string Issuer { get; }

    /// <summary>Start of validity.</summary>
    public DateTimeOffset NotBefore { get; }

    /// <summary>End of validity (inclusive).</summary>
    public DateTimeOffset NotAfter { get; }

    /// <summary>DER SubjectPublicKeyInfo.</summary>
    public byte[] PublicKeyDer { get; }

    /// <summary>Type and size of the subject key (null for other algorithms).</summary>
    public CaKeySpec? KeySpec { get; }

    /// <summary>OID of the signature algorithm (e.g. <c>1.2.840.10045.4.3.2</c> for ECDSA-SHA256).</summary>
    public string SignatureAlgorithmOid { get; }

    /// <summary>SubjectKeyIdentifier as colon hex; empty when absent.</summary>
    public string SubjectKeyId => Hex.Colon(SubjectKeyIdBytes);

    /// <summary>AuthorityKeyIdentifier key id as colon hex; empty when absent.</summary>
    public string AuthorityKeyId => Hex.Colon(AuthorityKeyIdBytes);

    /// <summary>SubjectKeyIdentifier bytes.</summary>
    public byte[] SubjectKeyIdBytes { get; }

    /// <summary>AuthorityKeyIdentifier key id bytes.</summary>
    public byte[] AuthorityKeyIdBytes { get; }

    /// <summary>True when BasicConstraints says CA.</summary>
    public bool IsCa { get; }

    /// <summary>Path length limit of a CA; null for none (or for a non-CA).</summary>
    public int? MaxPathLength { get; }

    /// <summary>URI SANs.</summary>
    public IReadOnlyList<string> Uris { get; }

    /// <summary>DNS SANs.</summary>
    public IReadOnlyList<string> DnsNames { get; }

    /// <summary>IP SANs.</summary>
    public IReadOnlyList<IPAddress> IpAddresses { get; }

    /// <summary>E-mail (rfc822Name) SANs.</summary>
    public IReadOnlyList<string> EmailAddresses { get; }

    /// <summary>True when subject equals issuer and the SKI equals the AKI (or there is no AKI).</summary>
    public bool IsSelfIssued => Structure.TbsCertificate.Subject.Equivalent(Structure.TbsCertificate.Issuer)
        && (AuthorityKeyIdBytes.Length == 0 || AuthorityKeyIdBytes.AsSpan().SequenceEqual(SubjectKeyIdBytes));

    /// <summary>True when the certificate has expired at <paramref name="now"/> (Go's <c>NotAfter.Before(now)</c>).</summary>
    public bool IsExpiredAt(DateTimeOffset now) => NotAfter < now;

    internal X509CertificateStructure Structure { get; }
}

internal static class SanReader
{
    public static void Read(GeneralNames names, List<string> uris, List<string> dns, List<IPAddress> ips, List<string> emails)
    {
        foreach (var n in names.GetNames())
        {
            switch (n.TagNo)
            {
                case GeneralName.UniformResourceIdentifier: uris.Add(DerIA5String.GetInstance(n.Name).GetString()); break;
                case GeneralName.DnsName: dns.Add(DerIA5String.GetInstance(n.Name).GetString()); break;
                case GeneralName.Rfc822Name: emails.Add(DerIA5String.GetInstance(n.Name).GetString()); break;
                case GeneralName.IPAddress: ips.Add(new IPAddress(Asn1OctetString.GetInstance(n.Name).GetOctets())); break;
            }
        }
    }
}
