using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;

namespace Meridian.Pki.Internal;

internal static class CsrBuilder
{
    public static string Build(CaKeyPair key, X509Name subject, X509Extensions extensions)
    {
        var attrs = new DerSet(new AttributePkcs(PkcsObjectIdentifiers.Pkcs9AtExtensionRequest, new DerSet(extensions)));
        var info = new CertificationRequestInfo(subject, SubjectPublicKeyInfo.GetInstance(key.PublicKeyDer), attrs);
        var sig = key.Sign(info.GetDerEncoded());
        var der = new CertificationRequest(info, key.SignatureAlgorithm, new DerBitString(sig)).GetDerEncoded();
        return PemEncoding.WriteString("CERTIFICATE REQUEST", der) + "\n";
    }
}
