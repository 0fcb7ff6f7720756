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
    /// Generates a fresh P-256 key: through the system's OpenSSL directly where that works (Linux; about twice as fast,
    /// see <see cref="Generator"/>), otherwise through .NET (<see cref="CreateP256WithDotNet"/>). Both give the same
    /// encodings.
    /// </summary>
    public static LeafKey CreateP256()
    {
        if (!Internal.OpenSslP256.IsAvailable) return CreateP256WithDotNet();
        var (spki, sec1) = Internal.OpenSslP256.Generate();
        try
        {
            return new LeafKey(spki, Pem(sec1));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(sec1);
        }
    }

    /// <summary>
    /// Generates a fresh P-256 key through .NET's <see cref="ECDsa"/>. The key is read out of the platform once (one
    /// parameter export) and both encodings are written here, instead of two exports (SPKI, then PEM): on this path
    /// that was a fifth of the key's cost.
    /// </summary>
    public static LeafKey CreateP256WithDotNet()
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

    /// <summary>
    /// How <see cref="CreateP256"/> generates keys in this process, for a start-up log line: OpenSSL directly, or .NET
    /// (other platforms, or <c>MERIDIAN_LEAF_KEYGEN=dotnet</c>).
    /// </summary>
    public static string Generator => Internal.OpenSslP256.Description;

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
            return new LeafKey(spki.Encode(), Pem(der));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(der);
        }
    }

    private static string Pem(byte[] ecPrivateKeyDer)
        => new StringBuilder(256).Append(PemEncoding.Write("EC PRIVATE KEY", ecPrivateKeyDer)).Append('\n').ToString();

    /// <summary>Never prints the private key.</summary>
    public override string ToString() => $"LeafKey(P-256, {SubjectPublicKeyInfo.Length}-byte SPKI)";
}
