using Meridian.Core.Certificates;
using Meridian.Core.Identity;
using Meridian.Core.Validation;
using Meridian.Pki.Internal;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;

namespace Meridian.Pki;

/// <summary>
/// What a secondary's intermediate CSR must be before the primary signs it (issue 12; README, "Intermediate signing"): a valid
/// signature; exactly one URI SAN, the trust domain's signing ID <c>spiffe://&lt;cluster&gt;.consul</c> (what Consul's
/// secondaries put there); no DNS, IP or email SAN; and a key of a type and size the CA configuration allows
/// (<c>PrivateKeyType</c>/<c>PrivateKeyBits</c>: EC P-224/256/384/521, RSA 2048/4096).
/// </summary>
/// <remarks>
/// Stricter than Consul, whose <c>validateSignIntermediate</c> tolerates a CSR without URI (for AWS PCA, a provider
/// Meridian does not have) and never looks at DNS/IP SANs or the key: such a CSR gave any caller a CA certificate
/// for an arbitrary name. The key is not required to equal the primary's own type: Consul federates a secondary with
/// an RSA intermediate under an EC root and the other way round, and a primary that changes its key type in
/// <c>ca set-config</c> keeps secondaries whose configuration still names the old one.
/// </remarks>
public static class IntermediateCsrRules
{
    /// <summary>The field every problem names.</summary>
    public const string Field = "csr";

    /// <summary>Every reason <paramref name="csrPem"/> may not become an intermediate under <paramref name="signingId"/>; empty when it may.</summary>
    public static IReadOnlyList<ValidationProblem> Check(string csrPem, SigningSpiffeId signingId) => Check(csrPem, signingId, out _);

    internal static IReadOnlyList<ValidationProblem> Check(string csrPem, SigningSpiffeId signingId, out ParsedCsr? csr)
    {
        ArgumentNullException.ThrowIfNull(signingId);
        csr = null;
        try
        {
            csr = ParsedCsr.ParseAndVerify(csrPem ?? "");
        }
        catch (PkiException e)
        {
            var code = e.Code == PkiErrorCode.MalformedInput ? ValidationCodes.InvalidFormat : ValidationCodes.InvalidSignature;
            return [new(Field, code, e.Message)];
        }
        List<ValidationProblem> problems = [];
        CheckUris(csr.Uris, signingId, problems);
        if (csr.DnsNames.Count > 0)
            problems.Add(SanProblem("DNS", csr.DnsNames));
        if (csr.IpAddresses.Count > 0)
            problems.Add(SanProblem("IP", csr.IpAddresses.Select(a => a.ToString())));
        if (csr.Emails.Count > 0)
            problems.Add(SanProblem("email", csr.Emails));
        if (KeyProblem(csr.PublicKey) is { } key) problems.Add(key);
        return problems;
    }

    private static void CheckUris(List<string> uris, SigningSpiffeId signingId, List<ValidationProblem> problems)
    {
        switch (uris.Count)
        {
            case 0:
                problems.Add(new(Field, ValidationCodes.MissingUri,
                    $"incoming CSR has no URI; an intermediate CSR must carry the signing ID \"{signingId.Uri}\" as its only URI SAN"));
                break;
            case 1:
                // Consul's text; stricter than its CanSign, which would also accept a service URI of the trust domain.
                if (!SpiffeId.TryParse(uris[0], out var id, out _) || id is not SigningSpiffeId || !signingId.CanSign(id))
                    problems.Add(new(Field, ValidationCodes.NotSigningId,
                        $"incoming CSR domain {ValidationText.Quote(uris[0])} is not valid for our domain \"{signingId.Uri}\""));
                break;
            default:
                problems.Add(new(Field, ValidationCodes.TooMany,
                    $"incoming CSR has more than one URI ({uris.Count}); an intermediate CSR carries only the signing ID \"{signingId.Uri}\""));
                break;
        }
    }

    private static ValidationProblem SanProblem(string kind, IEnumerable<string> values)
        => new(Field, ValidationCodes.SanNotAllowed,
            $"incoming CSR has {kind} SANs ({string.Join(", ", values.Select(ValidationText.Quote))}); an intermediate CA certificate may name only the signing ID");

    private static ValidationProblem? KeyProblem(SubjectPublicKeyInfo key)
    {
        var spec = KeySpec(key);
        if (spec is null)
            return new(Field, ValidationCodes.UnsupportedKey,
                $"incoming CSR key ({Describe(key)}) is not an EC key on NIST P-224/P-256/P-384/P-521 or an RSA key; the CA configuration allows only those (PrivateKeyType ec or rsa)");
        return CaKeyPair.Validate(spec.Value) is [var problem, ..]
            ? new(Field, ValidationCodes.UnsupportedKey, $"incoming CSR key is {spec.Value}, which the CA configuration does not allow: {problem.Message}")
            : null;
    }

    // The type and size as the CA configuration names them; null for anything it cannot name (other algorithms,
    // EC keys on curves other than the four NIST ones, explicit curve parameters).
    private static CaKeySpec? KeySpec(SubjectPublicKeyInfo key)
    {
        var alg = key.Algorithm.Algorithm;
        if (alg.Equals(X9ObjectIdentifiers.IdECPublicKey))
            return key.Algorithm.Parameters is DerObjectIdentifier curve && NistCurves.TryGetValue(curve.Id, out var bits)
                ? new CaKeySpec(CaKeyType.Ec, bits) : null;
        if (alg.Equals(PkcsObjectIdentifiers.RsaEncryption))
            return new CaKeySpec(CaKeyType.Rsa, RsaPublicKeyStructure.GetInstance(key.ParsePublicKey()).Modulus.BitLength);
        return null;
    }

    private static string Describe(SubjectPublicKeyInfo key)
        => key.Algorithm.Parameters is DerObjectIdentifier p ? $"algorithm {key.Algorithm.Algorithm.Id}, parameters {p.Id}" : $"algorithm {key.Algorithm.Algorithm.Id}";

    private static readonly Dictionary<string, int> NistCurves = new()
    {
        [SecObjectIdentifiers.SecP224r1.Id] = 224,
        [X9ObjectIdentifiers.Prime256v1.Id] = 256,
        [SecObjectIdentifiers.SecP384r1.Id] = 384,
        [SecObjectIdentifiers.SecP521r1.Id] = 521,
    };
}
