using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Meridian.Core.Validation;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class IntermediateTests
{
    private static readonly string PrimaryUri = "spiffe://11111111-2222-3333-4444-555555555555.consul";
    private static readonly string OtherUri = "spiffe://99999999-8888-7777-6666-555555555555.consul";

    [Theory]
    [InlineData("ec-256")]
    [InlineData("rsa-2048")]
    public void CreateIntermediateCsr_OpenSslVerifies_WithStableSubjectUriAndCaPathLen0(string spec)
    {
        var key = TestPki.Key(spec, slot: 2);
        var csr = CertificateRequests.CreateIntermediateCsr(key, TestPki.Td);
        using var ssl = new OpenSsl();

        var f = ssl.Write("csr.pem", csr);
        var (code, output, err) = ssl.Run("req", "-in", f, "-verify", "-noout", "-text");

        Assert.True(code == 0, err);
        Assert.Contains("verify OK", output + err);
        Assert.Matches(new Regex(@"Subject: CN ?= ?sec-[0-9a-z]{8}\.consul\.ca\.11111111\.consul"), output);
        Assert.Contains("X509v3 Basic Constraints: critical\n                    CA:TRUE, pathlen:0", output);
        Assert.Contains("URI:" + PrimaryUri, output);
    }

    [Fact]
    public void CreateIntermediateCsr_SameKey_SameSubject()
    {
        var key = TestPki.Key("ec-256", slot: 2);
        using var ssl = new OpenSsl();
        string Subject(string csr) => ssl.RunOk("req", "-in", ssl.Write($"{Guid.NewGuid():N}.pem", csr), "-noout", "-subject");
        Assert.Equal(Subject(CertificateRequests.CreateIntermediateCsr(key, TestPki.Td)),
            Subject(CertificateRequests.CreateIntermediateCsr(key, TestPki.Td)));
    }

    [Theory]
    [InlineData("ec-256", "ec-256")]
    [InlineData("ec-256", "rsa-2048")]
    [InlineData("rsa-2048", "ec-384")]
    [InlineData("ec-384", "ec-224")]
    public void SignIntermediate_HasSpecFields_AndOpenSslVerifiesChain(string rootSpec, string secondarySpec)
    {
        var now = TestPki.RealNow;
        var rootKey = TestPki.Key(rootSpec);
        var rootPem = TestPki.Root(rootKey, now);
        var secKey = TestPki.Key(secondarySpec, slot: 3);
        var csr = CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td);

        var pem = CaCertificates.SignIntermediate(rootKey, rootPem, csr, 42, now, TestPki.IntermediateTtl);
        var inter = CertificateInfo.Parse(pem);
        var root = CertificateInfo.Parse(rootPem);

        var notBefore = CertificateInfo.Parse(rootPem).NotBefore - TimeSpan.FromMinutes(1);
        Assert.Equal(notBefore, inter.NotBefore);
        Assert.Equal(notBefore + TestPki.IntermediateTtl, inter.NotAfter);
        Assert.Equal("2a", inter.SerialNumber);
        Assert.True(inter.IsCa);
        Assert.Equal(0, inter.MaxPathLength);
        Assert.Equal([PrimaryUri], inter.Uris);
        Assert.Equal(SHA256.HashData(secKey.PublicKeyDer), inter.SubjectKeyIdBytes);
        Assert.Equal(root.SubjectKeyIdBytes, inter.AuthorityKeyIdBytes);
        Assert.Equal(root.Subject, inter.Issuer);
        Assert.StartsWith("CN=sec-", inter.Subject);
        Assert.Equal(TestPki.SigOidFor(rootKey), inter.SignatureAlgorithmOid);
        Assert.Equal(secKey.PublicKeyDer, inter.PublicKeyDer);

        using var ssl = new OpenSsl();
        var text = ssl.Text(pem);
        Assert.Contains("X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:0", text);
        Assert.Contains("X509v3 Key Usage: critical\n                Digital Signature, Certificate Sign, CRL Sign", text);
        Assert.Contains("X509v3 Authority Key Identifier: \n                " + root.SubjectKeyId.ToUpperInvariant() + "\n", text);
        ssl.AssertVerifies(rootPem, null, pem);
        CaCertificates.ValidateIntermediate(pem, secKey, TestPki.Td.SigningId, [rootPem], now);
    }

    [Fact]
    public void SignIntermediate_CsrFromOtherTrustDomain_IsRefusedWithConsulMessage()
    {
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, TestPki.T0);
        var csr = CertificateRequests.CreateIntermediateCsr(TestPki.Key("ec-256", slot: 3), TestPki.OtherTd);

        var ex = Assert.Throws<DomainValidationException>(() => CaCertificates.SignIntermediate(rootKey, rootPem, csr, 2, TestPki.T0, TestPki.IntermediateTtl));

        var problem = Assert.Single(ex.Problems);
        Assert.Equal(("csr", "not_signing_id"), (problem.Field, problem.Code));
        Assert.Equal($"incoming CSR domain \"{OtherUri}\" is not valid for our domain \"{PrimaryUri}\"", problem.Message);
    }

    [Theory]
    [InlineData(new[] { "spiffe://11111111-2222-3333-4444-555555555555.consul", "spiffe://11111111-2222-3333-4444-555555555555.consul/x" },
        "incoming CSR has more than one URI (2); an intermediate CSR carries only the signing ID \"spiffe://11111111-2222-3333-4444-555555555555.consul\"")]
    [InlineData(new[] { "spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web" },
        "incoming CSR domain \"spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web\" is not valid for our domain \"spiffe://11111111-2222-3333-4444-555555555555.consul\"")]
    [InlineData(new[] { "https://example.com/x" },
        "incoming CSR domain \"https://example.com/x\" is not valid for our domain \"spiffe://11111111-2222-3333-4444-555555555555.consul\"")]
    public void SignIntermediate_BadUris_AreRefused(string[] uris, string message)
    {
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, TestPki.T0);
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var ex = Assert.Throws<DomainValidationException>(() =>
            CaCertificates.SignIntermediate(rootKey, rootPem, TestPki.DotNetCsr(k, uris), 2, TestPki.T0, TestPki.IntermediateTtl));

        Assert.Equal(message, Assert.Single(ex.Problems).Message);
    }

    // Consul tolerates a CSR without URI (for AWS PCA, which Meridian does not have); issue 12 showed that this hands any
    // caller a CA certificate for its own name (CN=attacker), so Meridian refuses it.
    [Fact]
    public void SignIntermediate_CsrWithoutUris_IsRefused_UnlikeConsul()
    {
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, TestPki.T0);
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var ex = Assert.Throws<DomainValidationException>(() =>
            CaCertificates.SignIntermediate(rootKey, rootPem, TestPki.DotNetCsr(k, []), 2, TestPki.T0, TestPki.IntermediateTtl));

        Assert.Equal(("csr", "missing_uri"), (Assert.Single(ex.Problems).Field, ex.Problems[0].Code));
    }

    [Fact]
    public void SignIntermediate_TamperedCsrSignature_IsRefused()
    {
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, TestPki.T0);
        var csr = CertificateRequests.CreateIntermediateCsr(TestPki.Key("ec-256", slot: 3), TestPki.Td);
        var der = PemEncoding.Find(csr) is var f ? Convert.FromBase64String(csr[f.Base64Data]) : [];
        der[^5] ^= 0x01; // inside the signature BIT STRING
        var tampered = PemEncoding.WriteString("CERTIFICATE REQUEST", der);

        var ex = Assert.Throws<DomainValidationException>(() => CaCertificates.SignIntermediate(rootKey, rootPem, tampered, 2, TestPki.T0, TestPki.IntermediateTtl));

        Assert.Equal(("invalid_signature", "CSR signature is invalid"), (Assert.Single(ex.Problems).Code, ex.Problems[0].Message));
    }

    [Fact]
    public void ValidateIntermediate_ChecksInConsulOrder_WithConsulMessages()
    {
        var now = TestPki.T0;
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, now);
        var secKey = TestPki.Key("ec-256", slot: 3);
        var good = CaCertificates.SignIntermediate(rootKey, rootPem, CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td), 2, now, TestPki.IntermediateTtl);
        var noUri = CaWithoutUri(rootKey, rootPem, now); // SignIntermediate no longer issues one (issue 12)
        var leaf = TestPki.PrimarySigner(rootKey, rootPem).Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), now).LeafPem;
        var otherRootKey = TestPki.Key("ec-256", slot: 4);
        var otherRoot = TestPki.Root(otherRootKey, now);
        var foreign = CaCertificates.SignIntermediate(otherRootKey, otherRoot, CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td), 4, now, TestPki.IntermediateTtl);

        string Fail(string pem, CaKeyPair key, Meridian.Core.Identity.SigningSpiffeId id, string root, DateTimeOffset at)
            => Assert.Throws<PkiException>(() => CaCertificates.ValidateIntermediate(pem, key, id, [root], at)) is { Code: PkiErrorCode.InvalidIntermediate } e
                ? e.Message : "wrong code";

        CaCertificates.ValidateIntermediate(good, secKey, TestPki.Td.SigningId, [rootPem], now);
        Assert.Equal("intermediate is not a CA certificate", Fail(leaf, secKey, TestPki.Td.SigningId, rootPem, now));
        Assert.Equal("incoming intermediate cert has unexpected number of URIs: 0", Fail(noUri, secKey, TestPki.Td.SigningId, rootPem, now));
        Assert.Equal($"incoming cert URI \"{PrimaryUri}\" does not match current URI: \"{OtherUri}\"",
            Fail(good, secKey, TestPki.OtherTd.SigningId, rootPem, now));
        Assert.StartsWith("could not verify intermediate cert against root: ", Fail(foreign, secKey, TestPki.Td.SigningId, rootPem, now));
        Assert.StartsWith("could not verify intermediate cert against root: ", Fail(good, secKey, TestPki.Td.SigningId, rootPem, now.AddDays(400)));
        Assert.Equal("intermediate cert is for a different private key", Fail(good, TestPki.Key("ec-256", slot: 5), TestPki.Td.SigningId, rootPem, now));
        Assert.StartsWith("error parsing intermediate PEM: ", Fail("garbage", secKey, TestPki.Td.SigningId, rootPem, now));
    }

    [Fact]
    public void SecondaryLeafSigner_SigningKeyIdIsTheLocalIntermediate_AndOpenSslVerifiesLeafThroughIt()
    {
        var now = TestPki.RealNow;
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, now);
        var secKey = TestPki.Key("ec-384", slot: 3);
        var interPem = CaCertificates.SignIntermediate(rootKey, rootPem, CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td), 2, now, TestPki.IntermediateTtl);
        var signer = new LeafSigner(secKey, interPem, rootPem, [interPem], TestPki.Dc2, TestPki.LeafTtl, new SerialCounter(10).Next);

        var leaf = signer.Sign(new LeafRequest(TestPki.Web("dc2"), TestPki.NewLeafPublicKey()), now);

        var inter = CertificateInfo.Parse(interPem);
        Assert.Equal(inter.SubjectKeyId, signer.SigningKeyId);
        Assert.NotEqual(CertificateInfo.Parse(rootPem).SubjectKeyId, signer.SigningKeyId);
        Assert.Equal(95, signer.SigningKeyId.Length);
        Assert.Equal(leaf.LeafPem + inter.ToPem(), leaf.CertPem);
        var info = CertificateInfo.Parse(leaf.LeafPem);
        Assert.Equal(inter.SubjectKeyIdBytes, info.AuthorityKeyIdBytes);
        Assert.Equal(inter.Subject, info.Issuer);
        Assert.Equal(TestPki.SigOidFor(secKey), info.SignatureAlgorithmOid);
        using var ssl = new OpenSsl();
        ssl.AssertVerifies(rootPem, interPem, leaf.LeafPem);
        Assert.False(ssl.Verify(rootPem, null, leaf.LeafPem).Ok);
        Assert.True(ChainVerifier.Verify(leaf.CertPem, [rootPem], now).IsValid);
    }

    // A CA certificate without URI SAN, signed by the root through .NET (SignIntermediate refuses to make one).
    private static string CaWithoutUri(CaKeyPair rootKey, string rootPem, DateTimeOffset now)
    {
        using var rootEc = ECDsa.Create();
        rootEc.ImportFromPem(rootKey.ToPem());
        using var issuer = System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.CopyWithPrivateKey(
            System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(rootPem), rootEc);
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=no-uri", k, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, true, 0, true));
        using var cert = req.Create(issuer, now, now + TimeSpan.FromDays(30), [3]);
        return cert.ExportCertificatePem();
    }
}
