using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using Meridian.Core.Identity;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class LeafSignerTests
{
    private const string TdHost = "11111111-2222-3333-4444-555555555555.consul";
    private const string OtherHost = "99999999-8888-7777-6666-555555555555.consul";

    [Fact]
    public void Sign_FastPath_HasSpecFields()
    {
        var key = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(key, TestPki.T0);
        var serials = new SerialCounter(13);
        var signer = TestPki.PrimarySigner(key, rootPem, serials);
        var leafKey = TestPki.NewLeafPublicKey();
        var now = TestPki.T0.AddHours(1).AddMilliseconds(250);

        var leaf = signer.Sign(new LeafRequest(TestPki.Web(), leafKey, ["web.service.consul"], [IPAddress.Parse("10.0.0.7"), IPAddress.IPv6Loopback]), now);
        var c = CertificateInfo.Parse(leaf.LeafPem);

        var validAfter = TestPki.T0.AddHours(1) - TimeSpan.FromMinutes(1);
        Assert.Equal("0e", leaf.SerialNumber);
        Assert.Equal("0e", c.SerialNumber);
        Assert.Equal(14UL, serials.Last);
        Assert.Equal((validAfter, validAfter + TestPki.LeafTtl), (leaf.ValidAfter, leaf.ValidBefore));
        Assert.Equal((c.NotBefore, c.NotAfter), (leaf.ValidAfter, leaf.ValidBefore));
        Assert.False(c.IsCa);
        Assert.Equal("", c.Subject);
        Assert.Equal(CertificateInfo.Parse(rootPem).Subject, c.Issuer);
        Assert.Equal([$"spiffe://{TdHost}/ns/default/dc/dc1/svc/web"], c.Uris);
        Assert.Equal(["web.service.consul"], c.DnsNames);
        Assert.Equal([IPAddress.Parse("10.0.0.7"), IPAddress.IPv6Loopback], c.IpAddresses);
        Assert.Equal(SHA256.HashData(leafKey), c.SubjectKeyIdBytes);
        Assert.Equal(key.KeyId.ToArray(), c.AuthorityKeyIdBytes);
        Assert.Equal(signer.SigningKeyId, c.AuthorityKeyId);
        Assert.Equal(signer.SigningKeyId, leaf.AuthorityKeyId);
        Assert.Equal(leaf.LeafPem, leaf.CertPem);
        Assert.Equal(TestPki.Web(), leaf.Id);
    }

    [Fact]
    public void Sign_OpenSsl_SeesLeafExtensions_AndVerifies()
    {
        var now = TestPki.RealNow;
        var key = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(key, now);
        var leaf = TestPki.PrimarySigner(key, rootPem).Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), now);
        using var ssl = new OpenSsl();

        var text = ssl.Text(leaf.LeafPem);

        Assert.Contains("X509v3 Basic Constraints: critical\n                CA:FALSE", text);
        Assert.Contains("X509v3 Key Usage: critical\n                Digital Signature, Key Encipherment, Data Encipherment, Key Agreement", text);
        Assert.Contains("X509v3 Extended Key Usage: \n                TLS Web Client Authentication, TLS Web Server Authentication", text);
        Assert.Contains("X509v3 Subject Alternative Name: critical\n                URI:spiffe://" + TdHost + "/ns/default/dc/dc1/svc/web", text);
        Assert.Contains("X509v3 Authority Key Identifier: \n                " + key.KeyIdHex.ToUpperInvariant() + "\n", text);
        Assert.Contains("X509v3 Subject Key Identifier: \n", text);
        ssl.AssertVerifies(rootPem, null, leaf.LeafPem);
        Assert.Equal("", ssl.RunOk("verify", "-purpose", "sslclient", "-CAfile", ssl.Write("r.pem", rootPem), ssl.Write("l.pem", leaf.LeafPem))
            .Replace("l.pem: OK", "").Trim());
        Assert.Contains("l.pem: OK", ssl.RunOk("verify", "-purpose", "sslserver", "-CAfile", "r.pem", "l.pem"));
    }

    public static TheoryData<string, string> SignerLeafCombinations()
    {
        var data = new TheoryData<string, string>();
        foreach (var ca in new[] { "ec-224", "ec-256", "ec-384", "ec-521", "rsa-2048", "rsa-4096" })
            foreach (var leaf in new[] { "ec-256", "ec-384", "rsa-2048" })
                data.Add(ca, leaf);
        return data;
    }

    [Theory]
    [MemberData(nameof(SignerLeafCombinations))]
    public void SignCsr_EveryCaAndLeafKeyType_UsesSignersAlgorithm_AndOpenSslVerifies(string caSpec, string leafSpec)
    {
        var now = TestPki.RealNow;
        var key = TestPki.Key(caSpec);
        var rootPem = TestPki.Root(key, now);
        var leafKey = TestPki.Key(leafSpec, slot: 7);
        var csr = CertificateRequests.CreateLeafCsr(leafKey, TestPki.Web(), ["web.local"], [IPAddress.Loopback]);

        var leaf = TestPki.PrimarySigner(key, rootPem).SignCsr(csr, now);
        var c = CertificateInfo.Parse(leaf.LeafPem);

        Assert.Equal(TestPki.SigOidFor(key), c.SignatureAlgorithmOid);
        Assert.Equal(leafKey.PublicKeyDer, c.PublicKeyDer);
        Assert.Equal(["web.local"], c.DnsNames);
        Assert.Equal([IPAddress.Loopback], c.IpAddresses);
        using var ssl = new OpenSsl();
        Assert.Contains("verify OK", string.Concat(ssl.Run("req", "-verify", "-noout", "-in", ssl.Write("c.pem", csr)) is var r ? r.Out + r.Err : ""));
        ssl.AssertVerifies(rootPem, null, leaf.LeafPem);
    }

    [Fact]
    public void SignCsr_DotNetBuiltCsr_IsSignedWithItsSans()
    {
        var key = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(key, TestPki.T0);
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = TestPki.DotNetCsr(k, [$"spiffe://{TdHost}/gateway/mesh/dc/dc1"], dns: ["gw.example"]);

        var leaf = TestPki.PrimarySigner(key, rootPem).SignCsr(csr, TestPki.T0);

        var c = CertificateInfo.Parse(leaf.LeafPem);
        Assert.Equal([$"spiffe://{TdHost}/gateway/mesh/dc/dc1"], c.Uris);
        Assert.Equal(["gw.example"], c.DnsNames);
        Assert.IsType<MeshGatewaySpiffeId>(leaf.Id);
    }

    [Theory]
    [InlineData(new string[0], new string[0], "CSR SAN contains an invalid number of URIs: 0")]
    [InlineData(new[] { $"spiffe://{TdHost}/ns/default/dc/dc1/svc/web", $"spiffe://{TdHost}/ns/default/dc/dc1/svc/db" }, new string[0],
        "CSR SAN contains an invalid number of URIs: 2")]
    [InlineData(new[] { $"spiffe://{TdHost}/ns/default/dc/dc1/svc/web" }, new[] { "web@example.com" },
        "CSR SAN does not allow specifying email addresses")]
    [InlineData(new[] { $"spiffe://{TdHost}/ns/default/dc/dc2/svc/web" }, new string[0],
        "SPIFFE ID in CSR from a different datacenter: dc2, we are dc1")]
    [InlineData(new[] { $"spiffe://{TdHost}/gateway/mesh/dc/dc3" }, new string[0],
        "SPIFFE ID in CSR from a different datacenter: dc3, we are dc1")]
    [InlineData(new[] { $"spiffe://{TdHost}/agent/server/dc/dc2" }, new string[0],
        "SPIFFE ID in CSR from a different datacenter: dc2, we are dc1")]
    [InlineData(new[] { $"spiffe://{TdHost}/agent/client/dc/dc2/id/node1" }, new string[0],
        "SPIFFE ID in CSR from a different datacenter: dc2, we are dc1")]
    [InlineData(new[] { $"spiffe://{OtherHost}/ns/default/dc/dc1/svc/web" }, new string[0],
        $"SPIFFE ID in CSR from a different trust domain: {OtherHost}, we are {TdHost}")]
    [InlineData(new[] { $"spiffe://{OtherHost}/ns/default/dc/dc2/svc/web" }, new string[0],
        $"SPIFFE ID in CSR from a different trust domain: {OtherHost}, we are {TdHost}")]
    [InlineData(new[] { $"spiffe://{OtherHost}/gateway/mesh/dc/dc1" }, new string[0],
        $"SPIFFE ID in CSR from a different trust domain: {OtherHost}, we are {TdHost}")]
    [InlineData(new[] { $"spiffe://{TdHost}/foo/bar" }, new string[0], $"SPIFFE ID is not in the expected format: spiffe://{TdHost}/foo/bar")]
    public void SignCsr_RuleViolation_ThrowsConsulMessage(string[] uris, string[] emails, string message)
    {
        var key = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(key, TestPki.T0);
        var serials = new SerialCounter(5);
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var ex = Assert.Throws<PkiException>(() => TestPki.PrimarySigner(key, rootPem, serials).SignCsr(TestPki.DotNetCsr(k, uris, emails), TestPki.T0));

        Assert.Equal((PkiErrorCode.InvalidCsr, message), (ex.Code, ex.Message));
        Assert.Equal(5UL, serials.Last); // refused requests consume no serial
    }

    [Fact]
    public void SignCsr_OverTheSizeCap_RefusedBeforeParsing()
    {
        var key = TestPki.Key("ec-256");
        var serials = new SerialCounter(5);
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // A valid CSR with 16 KiB of padding text after it: the cap holds whatever the PEM block inside.
        var csr = TestPki.DotNetCsr(k, [$"spiffe://{TdHost}/ns/default/dc/dc1/svc/web"], []) + new string(' ', 16 * 1024);

        var ex = Assert.Throws<PkiException>(() => TestPki.PrimarySigner(key, TestPki.Root(key, TestPki.T0), serials).SignCsr(csr, TestPki.T0));

        Assert.Equal(PkiErrorCode.MalformedInput, ex.Code);
        Assert.Equal($"csr is {csr.Length} bytes; at most 16384 are accepted", ex.Message);
        Assert.Equal(5UL, serials.Last);
    }

    [Fact]
    public void SignCsr_SigningIdUri_IsNotALeafKind()
    {
        // Built with our CSR builder: System.Uri would turn "spiffe://host" into "spiffe://host/", which is no signing ID.
        var key = TestPki.Key("ec-256");
        var csr = CertificateRequests.CreateLeafCsr(TestPki.Key("ec-256", 7), TestPki.Td.SigningId);

        var ex = Assert.Throws<PkiException>(() => TestPki.PrimarySigner(key, TestPki.Root(key, TestPki.T0)).SignCsr(csr, TestPki.T0));

        Assert.Equal("SPIFFE ID in CSR must be a service, mesh-gateway, or agent ID", ex.Message);
    }

    [Fact]
    public void SignCsr_AgentFromUnknownTrustDomain_IsRewrittenToOurs()
    {
        var key = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(key, TestPki.T0);
        using var k = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = TestPki.DotNetCsr(k, ["spiffe://dummy.consul/agent/client/dc/dc1/id/node-1"], dns: ["localhost"]);

        var leaf = TestPki.PrimarySigner(key, rootPem).SignCsr(csr, TestPki.T0);

        Assert.Equal([$"spiffe://{TdHost}/agent/client/dc/dc1/id/node-1"], CertificateInfo.Parse(leaf.LeafPem).Uris);
        Assert.Equal(new AgentSpiffeId(TdHost, "dc1", "node-1"), leaf.Id);
    }

    [Fact]
    public void Sign_FastPath_AppliesTheSameIdentityChecks()
    {
        var key = TestPki.Key("ec-256");
        var signer = TestPki.PrimarySigner(key, TestPki.Root(key, TestPki.T0));
        var pub = TestPki.NewLeafPublicKey();

        Assert.Equal("SPIFFE ID in CSR from a different datacenter: dc2, we are dc1",
            Assert.Throws<PkiException>(() => signer.Sign(new LeafRequest(TestPki.Web("dc2"), pub), TestPki.T0)).Message);
        Assert.Equal($"SPIFFE ID in CSR from a different trust domain: {OtherHost}, we are {TdHost}",
            Assert.Throws<PkiException>(() => signer.Sign(new LeafRequest(TestPki.Web(td: TestPki.OtherTd), pub), TestPki.T0)).Message);
        Assert.Equal("SPIFFE ID in CSR must be a service, mesh-gateway, or agent ID",
            Assert.Throws<PkiException>(() => signer.Sign(new LeafRequest(TestPki.Td.SigningId, pub), TestPki.T0)).Message);
    }

    [Fact]
    public void SignCsr_TamperedSignature_IsRefused()
    {
        var key = TestPki.Key("ec-256");
        var csr = CertificateRequests.CreateLeafCsr(TestPki.Key("ec-256", 7), TestPki.Web());
        var f = PemEncoding.Find(csr);
        var der = Convert.FromBase64String(csr[f.Base64Data]);
        der[^3] ^= 0x40;

        var ex = Assert.Throws<PkiException>(() =>
            TestPki.PrimarySigner(key, TestPki.Root(key, TestPki.T0)).SignCsr(PemEncoding.WriteString("CERTIFICATE REQUEST", der), TestPki.T0));

        Assert.Equal("CSR signature is invalid", ex.Message);
    }

    [Fact]
    public void Sign_RootExpired_ThrowsConsulMessage()
    {
        var key = TestPki.Key("ec-256");
        var rootPem = CaCertificates.CreateRoot(key, TestPki.Td, 1, TestPki.T0, TimeSpan.FromDays(10));
        var signer = TestPki.PrimarySigner(key, rootPem);

        signer.Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), TestPki.T0.AddDays(10)); // NotAfter itself is still valid
        var ex = Assert.Throws<PkiException>(() => signer.Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), TestPki.T0.AddDays(10).AddSeconds(1)));

        Assert.Equal(PkiErrorCode.SignerExpired, ex.Code);
        Assert.Equal("root expired: certificate expired, expiration date: 2026-03-11 12:00:00 +0000 UTC ", ex.Message);
    }

    [Fact]
    public void Sign_IntermediateExpired_ThrowsConsulMessage()
    {
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, TestPki.T0);
        var secKey = TestPki.Key("ec-256", slot: 3);
        var interPem = CaCertificates.SignIntermediate(rootKey, rootPem, CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td), 2,
            TestPki.T0, TimeSpan.FromDays(30));
        var signer = new LeafSigner(secKey, interPem, rootPem, [interPem], TestPki.Dc1, TestPki.LeafTtl, new SerialCounter().Next);

        var ex = Assert.Throws<PkiException>(() => signer.Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), TestPki.T0.AddDays(31)));

        Assert.Equal((PkiErrorCode.SignerExpired, "intermediate expired: certificate expired, expiration date: 2026-03-31 11:59:00 +0000 UTC "),
            (ex.Code, ex.Message));
    }

    [Fact]
    public void Sign_ChainIsAppendedInOrder_ExpiredEntriesDropped()
    {
        var rootKey = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(rootKey, TestPki.T0);
        var oldKey = TestPki.Key("ec-256", slot: 8);
        var oldRoot = TestPki.Root(oldKey, TestPki.T0.AddDays(-30));
        var cross = CaCertificates.CrossSign(oldKey, oldRoot, rootPem, 3, TestPki.T0, TestPki.LeafTtl); // lives 7 days
        var secKey = TestPki.Key("ec-256", slot: 3);
        var interPem = CaCertificates.SignIntermediate(rootKey, rootPem, CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td), 4,
            TestPki.T0, TestPki.IntermediateTtl);
        var signer = new LeafSigner(secKey, interPem, rootPem, [cross, interPem], TestPki.Dc1, TestPki.LeafTtl, new SerialCounter().Next);

        var early = signer.Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), TestPki.T0.AddDays(1));
        var late = signer.Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), TestPki.T0.AddDays(8));

        Assert.Equal(early.LeafPem + cross + interPem, early.CertPem);
        Assert.Equal(late.LeafPem + interPem, late.CertPem);
    }

    [Fact]
    public void Sign_ManyThreads_UniqueSerials_AllValid()
    {
        var key = TestPki.Key("ec-256");
        var rootPem = TestPki.Root(key, TestPki.T0);
        var serials = new SerialCounter();
        var signer = TestPki.PrimarySigner(key, rootPem, serials);
        var pub = TestPki.NewLeafPublicKey();
        var leaves = new ConcurrentBag<SignedLeaf>();

        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => leaves.Add(signer.Sign(new LeafRequest(new ServiceSpiffeId(TdHost, "default", "dc1", $"svc-{i}"), pub), TestPki.T0)));

        Assert.Equal(2000UL, serials.Last);
        Assert.Equal(2000, leaves.Select(l => l.SerialNumber).Distinct().Count());
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(key.PublicKeyDer, out _);
        foreach (var l in leaves)
        {
            var c = CertificateInfo.Parse(l.LeafPem);
            var tbs = c.Structure.TbsCertificate.GetDerEncoded();
            Assert.True(ecdsa.VerifyData(tbs, c.Structure.Signature.GetOctets(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        }
        Assert.True(ChainVerifier.Verify(leaves.First().CertPem, [rootPem], TestPki.T0).IsValid);
    }

    [Fact]
    public void Sign_FastPath_MalformedPublicKey_ThrowsArgumentException()
    {
        var key = TestPki.Key("ec-256");
        var signer = TestPki.PrimarySigner(key, TestPki.Root(key, TestPki.T0));
        var pub = TestPki.NewLeafPublicKey();

        Assert.Throws<ArgumentException>(() => signer.Sign(new LeafRequest(TestPki.Web(), [.. pub, 0x00]), TestPki.T0));
        Assert.Throws<ArgumentException>(() => signer.Sign(new LeafRequest(TestPki.Web(), pub[..^4]), TestPki.T0));
    }

    [Fact]
    public void Sign_ValidityAcross2050_UsesGeneralizedTime_AndRoundTrips()
    {
        var key = TestPki.Key("ec-256");
        var t = new DateTimeOffset(2049, 12, 30, 0, 0, 0, TimeSpan.Zero);
        var signer = TestPki.PrimarySigner(key, CaCertificates.CreateRoot(key, TestPki.Td, 1, t.AddDays(-1), TestPki.RootTtl));

        var leaf = signer.Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), t);

        var c = CertificateInfo.Parse(leaf.LeafPem);
        Assert.Equal(new DateTimeOffset(2050, 1, 1, 23, 59, 0, TimeSpan.Zero), c.NotAfter);
        Assert.Equal(leaf.ValidBefore, c.NotAfter);
        using var ssl = new OpenSsl();
        Assert.Contains("Not After : Jan  1 23:59:00 2050 GMT", ssl.Text(leaf.LeafPem));
    }

    [Fact]
    public void Constructor_KeyNotMatchingSigningCert_Throws()
    {
        var rootPem = TestPki.Root(TestPki.Key("ec-256"), TestPki.T0);
        Assert.Throws<ArgumentException>(() => TestPki.PrimarySigner(TestPki.Key("ec-256", slot: 1), rootPem));
    }
}
