using Meridian.Core.Validation;
using Org.BouncyCastle.Security;

namespace Meridian.Pki;

/// <summary>
/// The roots a proxy trusts: every non-pruned root of the datacenter (SPEC §3.9). Validated completely before it is
/// published so a proxy never receives a bundle it cannot load (SPEC §5 item 13).
/// </summary>
public static class TrustBundle
{
    /// <summary>
    /// Every problem with <paramref name="rootPems"/> (field <c>Roots[i]</c>): unparseable PEM, not exactly one certificate,
    /// not a CA, not self-signed (signature checked), duplicate. Empty when the bundle may be published.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> Validate(IReadOnlyList<string> rootPems)
    {
        ArgumentNullException.ThrowIfNull(rootPems);
        var problems = new List<ValidationProblem>();
        if (rootPems.Count == 0)
            problems.Add(new("Roots", ValidationCodes.Required, "Roots must contain at least one root certificate"));
        var seen = new Dictionary<string, int>();
        for (var i = 0; i < rootPems.Count; i++)
        {
            var field = $"Roots[{i}]";
            IReadOnlyList<CertificateInfo> certs;
            try
            {
                certs = CertificateInfo.ParseAll(rootPems[i] ?? "");
            }
            catch (PkiException e)
            {
                problems.Add(new(field, ValidationCodes.InvalidFormat, $"{field}: {e.Message}"));
                continue;
            }
            if (certs.Count != 1)
            {
                problems.Add(new(field, ValidationCodes.InvalidFormat, $"{field} must hold exactly one certificate, found {certs.Count}"));
                continue;
            }
            var c = certs[0];
            if (!c.IsCa) problems.Add(new(field, ValidationCodes.InvalidValue, $"{field} is not a CA certificate"));
            if (!IsSelfSigned(c)) problems.Add(new(field, ValidationCodes.InvalidValue, $"{field} is not a self-signed root"));
            if (seen.TryGetValue(c.Id, out var first))
                problems.Add(new(field, ValidationCodes.InvalidValue, $"{field} duplicates Roots[{first}] ({c.Id})"));
            else
                seen[c.Id] = i;
        }
        return problems;
    }

    /// <summary>Validates, then returns the bundle as one PEM (one certificate per root, in order). Throws <see cref="DomainValidationException"/>.</summary>
    public static string Build(IReadOnlyList<string> rootPems)
    {
        DomainValidationException.ThrowIfAny(Validate(rootPems));
        return string.Concat(rootPems.Select(p => CertificateInfo.Parse(p).ToPem()));
    }

    private static bool IsSelfSigned(CertificateInfo c)
    {
        if (!c.IsSelfIssued) return false;
        try
        {
            new Org.BouncyCastle.X509.X509Certificate(c.Structure).Verify(PublicKeyFactory.CreateKey(c.Structure.SubjectPublicKeyInfo));
            return true;
        }
        catch (Exception e) when (e is GeneralSecurityException or InvalidKeyException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
