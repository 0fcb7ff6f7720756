using System.Formats.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace Meridian.Pki.Internal;

/// <summary>
/// Writes a leaf certificate with <see cref="AsnWriter"/> from parts encoded once per signer (issuer, algorithm, constant
/// extensions). Only serial, validity, key, SKI and SAN vary, so building costs a few microseconds next to the ~16 µs
/// ECDSA signature. The field order and extension set equal what <see cref="CertBuilder"/> produces.
/// </summary>
internal sealed class LeafTbsWriter
{
    private static readonly Asn1Tag Explicit0 = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag Explicit3 = new(TagClass.ContextSpecific, 3, isConstructed: true);
    private static readonly DateTimeOffset UtcTimeLimit = new(2050, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly CaKeyPair _key;
    private readonly byte[] _algorithm, _issuer, _basicConstraints, _keyUsage, _extKeyUsage, _authorityKeyId;

    public LeafTbsWriter(CaKeyPair key, byte[] issuerNameDer, byte[] basicConstraints, byte[] keyUsage, byte[] extKeyUsage, byte[] authorityKeyId)
    {
        _key = key;
        _algorithm = key.SignatureAlgorithm.GetDerEncoded();
        _issuer = issuerNameDer;
        (_basicConstraints, _keyUsage, _extKeyUsage, _authorityKeyId) = (basicConstraints, keyUsage, extKeyUsage, authorityKeyId);
    }

    public byte[] Build(ulong serial, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] subjectPublicKeyInfo, byte[] subjectKeyId,
        string uri, IEnumerable<string>? dnsNames, IEnumerable<byte[]>? ips)
    {
        var w = new AsnWriter(AsnEncodingRules.DER, initialCapacity: 512);
        using (w.PushSequence())
        {
            using (w.PushSequence(Explicit0)) w.WriteInteger(2);
            w.WriteIntegerUnsigned(Hex.SerialBytes(serial));
            w.WriteEncodedValue(_algorithm);
            w.WriteEncodedValue(_issuer);
            using (w.PushSequence())
            {
                WriteTime(w, notBefore);
                WriteTime(w, notAfter);
            }
            using (w.PushSequence()) { } // empty subject, as Consul; hence the critical SAN below
            w.WriteEncodedValue(subjectPublicKeyInfo);
            using (w.PushSequence(Explicit3))
            using (w.PushSequence())
            {
                Extension(w, X509Extensions.BasicConstraints.Id, true, _basicConstraints);
                Extension(w, X509Extensions.KeyUsage.Id, true, _keyUsage);
                Extension(w, X509Extensions.ExtendedKeyUsage.Id, false, _extKeyUsage);
                var ski = new AsnWriter(AsnEncodingRules.DER);
                ski.WriteOctetString(subjectKeyId);
                Extension(w, X509Extensions.SubjectKeyIdentifier.Id, false, ski.Encode());
                Extension(w, X509Extensions.AuthorityKeyIdentifier.Id, false, _authorityKeyId);
                Extension(w, X509Extensions.SubjectAlternativeName.Id, true, AltNames(uri, dnsNames, ips));
            }
        }
        var tbs = w.Encode();
        var signature = _key.Sign(tbs);
        var cert = new AsnWriter(AsnEncodingRules.DER, initialCapacity: tbs.Length + signature.Length + 32);
        using (cert.PushSequence())
        {
            cert.WriteEncodedValue(tbs);
            cert.WriteEncodedValue(_algorithm);
            cert.WriteBitString(signature);
        }
        return cert.Encode();
    }

    // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    private static void WriteTime(AsnWriter w, DateTimeOffset t)
    {
        if (t < UtcTimeLimit) w.WriteUtcTime(t);
        else w.WriteGeneralizedTime(t, omitFractionalSeconds: true);
    }

    private static void Extension(AsnWriter w, string oid, bool critical, byte[] value)
    {
        using (w.PushSequence())
        {
            w.WriteObjectIdentifier(oid);
            if (critical) w.WriteBoolean(true);
            w.WriteOctetString(value);
        }
    }

    private static byte[] AltNames(string uri, IEnumerable<string>? dnsNames, IEnumerable<byte[]>? ips)
    {
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            w.WriteCharacterString(UniversalTagNumber.IA5String, uri, new Asn1Tag(TagClass.ContextSpecific, 6));
            foreach (var d in dnsNames ?? []) w.WriteCharacterString(UniversalTagNumber.IA5String, d, new Asn1Tag(TagClass.ContextSpecific, 2));
            foreach (var ip in ips ?? []) w.WriteOctetString(ip, new Asn1Tag(TagClass.ContextSpecific, 7));
        }
        return w.Encode();
    }
}
