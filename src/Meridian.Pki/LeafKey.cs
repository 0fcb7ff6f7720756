using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace Meridian.Pki;

/// <summary>
/// A leaf's key as a workload receives it: the DER SubjectPublicKeyInfo that goes into the certificate and the
/// private key as an SEC1 <c>EC PRIVATE KEY</c> PEM (what Consul hands out, and what <see cref="ECAlgorithm.ExportECPrivateKeyPem"/>
/// writes). Leaves are always EC P-256, as in Consul.
/// </summary>
/// <param name="SubjectPublicKeyInfo">DER SubjectPublicKeyInfo (id-ecPublicKey, prime256v1, uncompressed point).</param>
/// <param name="PrivateKeyPem">SEC1 ECPrivateKey PEM with the curve OID and the public key, newline-terminated.</param>
public sealed record LeafKey(byte[] SubjectPublicKeyInfo, string PrivateKeyPem)
{
    private const string IdEcPublicKey = "1.2.840.10045.2.1";
    private const string Prime256V1 = "1.2.840.10045.3.1.7";
    private const int FieldBytes = 32;

    /// <summary>
    /// Generates a fresh P-256 key. The key is read out of the platform once (one parameter export) and both encodings
    /// are written here, instead of two exports (SPKI, then PEM): on this path that was a fifth of the key's cost.
    /// </summary>
    public static LeafKey CreateP256()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = key.ExportParameters(includePrivateParameters: true);
        try
        {
            return FromParameters(p);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(p.D);
        }
    }

    /// <summary>Encodes P-256 parameters (with <c>D</c>); exposed for tests that compare against the platform's encoders.</summary>
    public static LeafKey FromParameters(ECParameters p)
    {
        if (p.D is not { Length: FieldBytes } || p.Q.X is not { Length: FieldBytes } || p.Q.Y is not { Length: FieldBytes })
            throw new ArgumentException("Expected P-256 parameters with a 32-byte private scalar and public point.", nameof(p));
        Span<byte> point = stackalloc byte[1 + 2 * FieldBytes];
        point[0] = 0x04; // uncompressed
        p.Q.X.CopyTo(point[1..]);
        p.Q.Y.CopyTo(point[(1 + FieldBytes)..]);

        var spki = new AsnWriter(AsnEncodingRules.DER);
        using (spki.PushSequence())
        {
            using (spki.PushSequence())
            {
                spki.WriteObjectIdentifier(IdEcPublicKey);
                spki.WriteObjectIdentifier(Prime256V1);
            }
            spki.WriteBitString(point);
        }

        // RFC 5915: ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] parameters, [1] publicKey }
        var sec1 = new AsnWriter(AsnEncodingRules.DER);
        using (sec1.PushSequence())
        {
            sec1.WriteInteger(1);
            sec1.WriteOctetString(p.D);
            using (sec1.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                sec1.WriteObjectIdentifier(Prime256V1);
            using (sec1.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1, isConstructed: true)))
                sec1.WriteBitString(point);
        }
        var der = sec1.Encode();
        try
        {
            var pem = new StringBuilder(256).Append(PemEncoding.Write("EC PRIVATE KEY", der)).Append('\n').ToString();
            return new LeafKey(spki.Encode(), pem);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    /// <summary>Never prints the private key.</summary>
    public override string ToString() => $"LeafKey(P-256, {SubjectPublicKeyInfo.Length}-byte SPKI)";
}
