using Meridian.Core.Identity;
using Meridian.Core.Validation;
using Meridian.Pki.Internal;
using Org.BouncyCastle.Asn1.X509;

namespace Meridian.Pki;

/// <summary>
/// CA certificates of the built-in provider: the primary's root (SPEC §3.3), a secondary's intermediate (§3.4) and the
/// cross-signed new root of a rotation (§3.9). All functions are pure apart from the key: time and serials are inputs.
/// </summary>
public static class CaCertificates
{
    /// <summary>Back-dating of intermediates, leaves and cross-signs, tolerating clock skew between servers (Consul: 1 min).</summary>
    public static readonly TimeSpan Backdate = TimeSpan.FromMinutes(1);

    /// <summary>Minimum lifetime of a cross-signed root (Consul's fixed value; here a floor, see <see cref="CrossSign"/>).</summary>
    public static readonly TimeSpan MinCrossSignLifetime = TimeSpan.FromDays(7);

    /// <summary>
    /// Self-signed root: CN <c>pri-&lt;8 base36&gt;.consul.ca.&lt;cluster8&gt;.consul</c>, URI SAN = the signing ID,
    /// critical BasicConstraints CA without path length, KeyUsage CertSign|CRLSign|DigitalSignature, SKI = AKI =
    /// SHA-256 of the public key, NotBefore = now, NotAfter = now + <paramref name="ttl"/>. Returns PEM.
    /// </summary>
    public static string CreateRoot(CaKeyPair key, TrustDomain trustDomain, ulong serial, DateTimeOffset now, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (ttl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ttl), "Root TTL must be positive.");
        now = CertBuilder.Seconds(now);
        var name = CertBuilder.CommonName(CaNames.CommonName("pri", key, trustDomain));
        var keyId = key.KeyId.ToArray();
        var g = CertBuilder.SelfSignedCaExtensions(keyId);
        g.AddExtension(X509Extensions.SubjectAlternativeName, false, CertBuilder.AltNames([trustDomain.SigningId.Uri], null, null));
        var der = CertBuilder.Build(key, name, name, SubjectPublicKeyInfo.GetInstance(key.PublicKeyDer), serial, now, now + ttl, g.Generate());
        return PemBlocks.Certificate(der);
    }

    /// <summary>
    /// Primary side of Consul's intermediate signing (its built-in provider's SignIntermediate, agent/connect/ca/provider_consul.go): checks the CSR with <see cref="IntermediateCsrRules"/> (signature; exactly one URI,
    /// the signer's signing ID; no DNS/IP/email SAN; an allowed key) and issues a CA pathlen-0 intermediate: subject
    /// and the URI SAN from the CSR, KeyUsage CertSign|CRLSign|DigitalSignature,
    /// NotBefore = now - 1 min, NotAfter = NotBefore + <paramref name="ttl"/>, SKI = SHA-256 of the CSR key,
    /// keyid-only AKI of the signer. Throws <see cref="DomainValidationException"/> with every problem of the CSR
    /// (field <c>csr</c>), <see cref="ArgumentException"/> when the signer's key and certificate do not belong together.
    /// </summary>
    public static string SignIntermediate(CaKeyPair signerKey, string signerCertPem, string csrPem, ulong serial,
        DateTimeOffset now, TimeSpan ttl)
    {
        var signer = SignerCert(signerKey, signerCertPem, out var signingId);
        // Every rule at once (IntermediateCsrRules): no path signs a CA certificate for a name or key it did not check.
        var problems = IntermediateCsrRules.Check(csrPem, signingId, out var parsed);
        DomainValidationException.ThrowIfAny(problems);
        var csr = parsed!;

        var notBefore = CertBuilder.Seconds(now) - Backdate;
        var g = new X509ExtensionsGenerator();
        g.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(0));
        g.AddExtension(X509Extensions.KeyUsage, true, CertBuilder.CaKeyUsage);
        g.AddExtension(X509Extensions.SubjectKeyIdentifier, false, new SubjectKeyIdentifier(Sha256(csr.PublicKeyDer)));
        g.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(SignerKeyId(signer, signerKey)));
        g.AddExtension(X509Extensions.SubjectAlternativeName, CertBuilder.SanCritical(csr.Subject),
            CertBuilder.AltNames([signingId.Uri], null, null));
        var der = CertBuilder.Build(signerKey, signer.Structure.TbsCertificate.Subject, csr.Subject, csr.PublicKey, serial,
            notBefore, notBefore + ttl, g.Generate());
        return PemBlocks.Certificate(der);
    }

    /// <summary>
    /// Secondary side of SPEC §3.4, before installing a signed intermediate: it must be a CA, carry exactly one URI equal
    /// to <paramref name="signingId"/>, verify at <paramref name="now"/> against <paramref name="primaryRootPems"/>
    /// (with <paramref name="untrustedChainPems"/> as helpers, e.g. a cross-signed root), and be for
    /// <paramref name="secondaryKey"/>. Throws <see cref="PkiException"/> (<see cref="PkiErrorCode.InvalidIntermediate"/>).
    /// </summary>
    public static void ValidateIntermediate(string intermediatePem, CaKeyPair secondaryKey, SigningSpiffeId signingId,
        IEnumerable<string> primaryRootPems, DateTimeOffset now, IEnumerable<string>? untrustedChainPems = null)
    {
        ArgumentNullException.ThrowIfNull(secondaryKey);
        ArgumentNullException.ThrowIfNull(signingId);
        CertificateInfo inter;
        try
        {
            inter = CertificateInfo.Parse(intermediatePem);
        }
        catch (PkiException e)
        {
            throw new PkiException(PkiErrorCode.InvalidIntermediate, $"error parsing intermediate PEM: {e.Message}", e);
        }
        if (!inter.IsCa)
            throw new PkiException(PkiErrorCode.InvalidIntermediate, "intermediate is not a CA certificate");
        if (inter.Uris.Count != 1)
            throw new PkiException(PkiErrorCode.InvalidIntermediate, $"incoming intermediate cert has unexpected number of URIs: {inter.Uris.Count}");
        if (inter.Uris[0] != signingId.Uri)
            throw new PkiException(PkiErrorCode.InvalidIntermediate, $"incoming cert URI \"{inter.Uris[0]}\" does not match current URI: \"{signingId.Uri}\"");
        var result = ChainVerifier.Verify(intermediatePem, primaryRootPems, now, untrustedChainPems);
        if (!result.IsValid)
            throw new PkiException(PkiErrorCode.InvalidIntermediate, $"could not verify intermediate cert against root: {result.Error}");
        if (!secondaryKey.MatchesPublicKey(inter.PublicKeyDer))
            throw new PkiException(PkiErrorCode.InvalidIntermediate, "intermediate cert is for a different private key");
    }

    /// <summary>
    /// Root rotation (SPEC §3.9): the old root's key issues a copy of <paramref name="newRootPem"/> (same subject, key,
    /// SKI and extensions) with a new serial, keyid-only AKI = the old key id, the old key's signature algorithm and
    /// NotBefore = now - 1 min. Leaves of the new root carry it so peers that trust only the old root accept them.
    /// <para>
    /// NotAfter departs from Consul's fixed 7 days (SPEC §5 item 11): max(now + leafTtl + 1 h, now + 7 days), so the
    /// cross-sign outlives every leaf signed before the rotation (whose holders may trust only the old root) with an hour
    /// of slack for renewal and clock skew, and never less than Consul's 7 days.
    /// </para>
    /// </summary>
    public static string CrossSign(CaKeyPair oldKey, string oldRootPem, string newRootPem, ulong serial,
        DateTimeOffset now, TimeSpan leafTtl)
    {
        var oldRoot = SignerCert(oldKey, oldRootPem, out _);
        var newRoot = CertificateInfo.Parse(newRootPem);
        if (!newRoot.IsCa) throw new ArgumentException("The new root must be a CA certificate.", nameof(newRootPem));
        now = CertBuilder.Seconds(now);
        var notAfter = Max(now + leafTtl + TimeSpan.FromHours(1), now + MinCrossSignLifetime);

        var tbs = newRoot.Structure.TbsCertificate;
        var g = new X509ExtensionsGenerator();
        var hadAki = false;
        foreach (var oid in tbs.Extensions.ExtensionOids)
        {
            var ext = tbs.Extensions.GetExtension(oid);
            if (oid.Equals(X509Extensions.AuthorityKeyIdentifier))
            {
                g.AddExtension(oid, ext.IsCritical, new AuthorityKeyIdentifier(SignerKeyId(oldRoot, oldKey)));
                hadAki = true;
            }
            else
            {
                g.AddExtension(oid, ext.IsCritical, ext.Value.GetOctets());
            }
        }
        if (!hadAki) g.AddExtension(X509Extensions.AuthorityKeyIdentifier, false, new AuthorityKeyIdentifier(SignerKeyId(oldRoot, oldKey)));
        var der = CertBuilder.Build(oldKey, oldRoot.Structure.TbsCertificate.Subject, tbs.Subject, tbs.SubjectPublicKeyInfo,
            serial, now - Backdate, notAfter, g.Generate());
        return PemBlocks.Certificate(der);
    }

    /// <summary>
    /// True when <paramref name="candidatePem"/> is a cross-signed copy of <paramref name="rootPem"/> (same public key)
    /// whose signature verifies under the key of <paramref name="signerRootPem"/>, another root: what <see cref="CrossSign"/>
    /// makes in a rotation. Validity dates are not checked: the old key vouched for the new one when it signed. A
    /// malformed certificate is simply not a cross-signature.
    /// </summary>
    public static bool IsCrossSignedBy(string candidatePem, string rootPem, string signerRootPem)
    {
        try
        {
            var candidate = CertificateInfo.Parse(candidatePem);
            var root = CertificateInfo.Parse(rootPem);
            var signer = CertificateInfo.Parse(signerRootPem);
            if (signer.Id == root.Id || !candidate.PublicKeyDer.AsSpan().SequenceEqual(root.PublicKeyDer)) return false;
            new Org.BouncyCastle.X509.X509Certificate(candidate.Structure)
                .Verify(Org.BouncyCastle.Security.PublicKeyFactory.CreateKey(signer.Structure.SubjectPublicKeyInfo));
            return true;
        }
        catch (Exception e) when (e is PkiException or Org.BouncyCastle.Security.GeneralSecurityException or Org.BouncyCastle.Crypto.CryptoException
            or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    internal static CertificateInfo SignerCert(CaKeyPair key, string certPem, out SigningSpiffeId signingId)
    {
        ArgumentNullException.ThrowIfNull(key);
        var cert = CertificateInfo.Parse(certPem);
        if (!key.MatchesPublicKey(cert.PublicKeyDer))
            throw new ArgumentException("The signing key does not match the signing certificate's public key.", nameof(key));
        if (!cert.IsCa)
            throw new ArgumentException("The signing certificate is not a CA certificate.", nameof(certPem));
        if (cert.Uris.Count != 1 || !SpiffeId.TryParse(cert.Uris[0], out var id, out _) || id is not SigningSpiffeId s)
            throw new ArgumentException("The signing certificate must carry exactly one URI SAN, a SPIFFE signing ID.", nameof(certPem));
        signingId = s;
        return cert;
    }

    /// <summary>The AKI children get: the signer's SKI (keeps the chain linkable even for an imported root with a SHA-1 SKI).</summary>
    internal static byte[] SignerKeyId(CertificateInfo signer, CaKeyPair key)
        => signer.SubjectKeyIdBytes.Length > 0 ? signer.SubjectKeyIdBytes : key.KeyId.ToArray();

    internal static byte[] Sha256(byte[] data) => System.Security.Cryptography.SHA256.HashData(data);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
