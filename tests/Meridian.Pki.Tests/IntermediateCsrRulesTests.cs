using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Meridian.Core.Validation;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

/// <summary>
/// Issue 12: what the primary refuses to turn into an intermediate CA certificate. Each case is a CSR and the codes
/// (field <c>csr</c>) it must be refused with; the attack of the issue (CN=attacker, no or a foreign URI) is among them.
/// </summary>
[Trait("Category", "Unit")]
public sealed class IntermediateCsrRulesTests
{
    private const string Signing = "spiffe://11111111-2222-3333-4444-555555555555.consul";
    private const string OtherSigning = "spiffe://99999999-8888-7777-6666-555555555555.consul";

    public static TheoryData<string, string[]> Cases => new()
    {
        { "attacker-no-uri", [ValidationCodes.MissingUri] },
        { "attacker-foreign-signing-id", [ValidationCodes.NotSigningId] },
        { "service-uri", [ValidationCodes.NotSigningId] },
        { "https-uri", [ValidationCodes.NotSigningId] },
        { "two-uris", [ValidationCodes.TooMany] },
        { "dns-san", [ValidationCodes.SanNotAllowed] },
        { "ip-san", [ValidationCodes.SanNotAllowed] },
        { "email-san", [ValidationCodes.SanNotAllowed] },
        { "rsa-1024", [ValidationCodes.UnsupportedKey] },
        { "rsa-3072", [ValidationCodes.UnsupportedKey] },
        { "ec-secp256k1", [ValidationCodes.UnsupportedKey] },
        { "everything-wrong", [ValidationCodes.MissingUri, ValidationCodes.SanNotAllowed, ValidationCodes.SanNotAllowed, ValidationCodes.UnsupportedKey] },
        { "not-pem", [ValidationCodes.InvalidFormat] },
        { "tampered", [ValidationCodes.InvalidSignature] },
        { "secondary-ec-256", [] },
        { "secondary-rsa-2048", [] },
        { "secondary-ec-384", [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Check_Csr_ReportsEveryProblemWithItsCode(string csrCase, string[] codes)
    {
        var problems = IntermediateCsrRules.Check(Csr(csrCase), TestPki.Td.SigningId);

        Assert.Equal(codes, problems.Select(p => p.Code));
        Assert.All(problems, p => Assert.Equal("csr", p.Field));
        Assert.All(problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Message)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SignIntermediate_RefusedCsr_IssuesNothing(string csrCase, string[] codes)
    {
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, TestPki.T0);
        var csr = Csr(csrCase);

        if (codes.Length == 0)
        {
            var issued = CertificateInfo.Parse(CaCertificates.SignIntermediate(rootKey, rootPem, csr, 2, TestPki.T0, TestPki.IntermediateTtl));
            Assert.Equal([Signing], issued.Uris);
            Assert.Equal((true, 0), (issued.IsCa, issued.MaxPathLength));
            return;
        }
        var ex = Assert.Throws<DomainValidationException>(() => CaCertificates.SignIntermediate(rootKey, rootPem, csr, 2, TestPki.T0, TestPki.IntermediateTtl));
        Assert.Equal(codes, ex.Problems.Select(p => p.Code));
    }

    [Fact]
    public void Check_Messages_NameWhyInConsulTermsAndQuoteTheValues()
    {
        string Message(string csrCase) => Assert.Single(IntermediateCsrRules.Check(Csr(csrCase), TestPki.Td.SigningId)).Message;

        Assert.Equal($"incoming CSR domain \"{OtherSigning}\" is not valid for our domain \"{Signing}\"", Message("attacker-foreign-signing-id"));
        Assert.Contains($"must carry the signing ID \"{Signing}\"", Message("attacker-no-uri"));
        Assert.Contains("DNS SANs (\"evil.example.com\")", Message("dns-san"));
        Assert.Contains("IP SANs (\"10.0.0.1\")", Message("ip-san"));
        Assert.Contains("rsa/1024", Message("rsa-1024"));
        Assert.Contains("RSA key length must be 2048 or 4096 bits", Message("rsa-1024"));
        Assert.Contains("NIST P-224/P-256/P-384/P-521", Message("ec-secp256k1"));
        Assert.Equal("CSR signature is invalid", Message("tampered"));
    }

    private static string Csr(string csrCase)
    {
        switch (csrCase)
        {
            case "attacker-no-uri": return WithEc(k => RawCsr(k, [], subjectName: "CN=attacker"));
            case "attacker-foreign-signing-id": return WithEc(k => RawCsr(k, [OtherSigning], subjectName: "CN=attacker"));
            case "service-uri": return WithEc(k => RawCsr(k, [Signing + "/ns/default/dc/dc1/svc/web"]));
            case "https-uri": return WithEc(k => RawCsr(k, ["https://example.com/x"]));
            case "two-uris": return WithEc(k => RawCsr(k, [Signing, OtherSigning]));
            case "dns-san": return WithEc(k => RawCsr(k, [Signing], dns: ["evil.example.com"]));
            case "ip-san": return WithEc(k => RawCsr(k, [Signing], ips: ["10.0.0.1"]));
            case "email-san": return WithEc(k => RawCsr(k, [Signing], emails: ["a@example.com"]));
            case "rsa-1024": return WithRsa(1024, k => RawCsr(k, [Signing]));
            case "rsa-3072": return WithRsa(3072, k => RawCsr(k, [Signing]));
            case "ec-secp256k1":
                using (var k1 = ECDsa.Create(ECCurve.CreateFromFriendlyName("secP256k1"))) return RawCsr(k1, [Signing]);
            case "everything-wrong": return WithRsa(1024, k => RawCsr(k, [], dns: ["a.example.com"], ips: ["10.0.0.1"], subjectName: "CN=attacker"));
            case "not-pem": return "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
            case "tampered":
                var csr = CertificateRequests.CreateIntermediateCsr(TestPki.Key("ec-256", slot: 3), TestPki.Td);
                var der = PemEncoding.Find(csr) is var f ? Convert.FromBase64String(csr[f.Base64Data]) : [];
                der[^5] ^= 0x01; // inside the signature BIT STRING
                return PemEncoding.WriteString("CERTIFICATE REQUEST", der);
            case "secondary-ec-256": return CertificateRequests.CreateIntermediateCsr(TestPki.Key("ec-256", slot: 3), TestPki.Td);
            case "secondary-rsa-2048": return CertificateRequests.CreateIntermediateCsr(TestPki.Key("rsa-2048", slot: 3), TestPki.Td);
            case "secondary-ec-384": return CertificateRequests.CreateIntermediateCsr(TestPki.Key("ec-384", slot: 3), TestPki.Td);
            default: throw new ArgumentOutOfRangeException(nameof(csrCase), csrCase, "unknown case");
        }
    }

    // .NET's SubjectAlternativeNameBuilder normalises a URI (spiffe://x.consul becomes spiffe://x.consul/), so the SANs
    // are written here exactly as given.
    private static string RawCsr(AsymmetricAlgorithm key, string[] uris, string[]? emails = null, string[]? dns = null,
        string[]? ips = null, string subjectName = "")
    {
        var req = key switch
        {
            ECDsa ec => new CertificateRequest(subjectName, ec, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subjectName, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("key"),
        };
        var w = new AsnWriter(AsnEncodingRules.DER);
        using (w.PushSequence())
        {
            foreach (var e in emails ?? []) w.WriteCharacterString(UniversalTagNumber.IA5String, e, new Asn1Tag(TagClass.ContextSpecific, 1));
            foreach (var d in dns ?? []) w.WriteCharacterString(UniversalTagNumber.IA5String, d, new Asn1Tag(TagClass.ContextSpecific, 2));
            foreach (var u in uris) w.WriteCharacterString(UniversalTagNumber.IA5String, u, new Asn1Tag(TagClass.ContextSpecific, 6));
            foreach (var ip in ips ?? []) w.WriteOctetString(System.Net.IPAddress.Parse(ip).GetAddressBytes(), new Asn1Tag(TagClass.ContextSpecific, 7));
        }
        if (uris.Length + (emails?.Length ?? 0) + (dns?.Length ?? 0) + (ips?.Length ?? 0) > 0)
            req.CertificateExtensions.Add(new X509Extension("2.5.29.17", w.Encode(), critical: false));
        return req.CreateSigningRequestPem();
    }

    private static string WithEc(Func<ECDsa, string> build)
    {
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return build(k);
    }

    private static string WithRsa(int bits, Func<RSA, string> build)
    {
        using var k = RSA.Create(bits);
        return build(k);
    }
}
