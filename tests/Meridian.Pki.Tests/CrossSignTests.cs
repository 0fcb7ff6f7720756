using Meridian.Pki.Tests.Support;

namespace Meridian.Pki.Tests;

[Trait("Category", "Unit")]
public sealed class CrossSignTests
{
    [Theory]
    [InlineData("ec-256", "ec-256")]
    [InlineData("rsa-2048", "ec-256")]
    [InlineData("ec-256", "rsa-2048")]
    [InlineData("rsa-2048", "rsa-4096")]
    [InlineData("ec-384", "ec-521")]
    public void CrossSign_MixedKeyTypes_CopiesNewRootUnderOldIssuer_AndOpenSslVerifiesNewLeafAgainstOldRoot(string oldSpec, string newSpec)
    {
        var now = TestPki.RealNow;
        var oldKey = TestPki.Key(oldSpec, slot: 10);
        var newKey = TestPki.Key(newSpec, slot: 11);
        var oldRootPem = TestPki.Root(oldKey, now.AddDays(-100), serial: 1);
        var newRootPem = TestPki.Root(newKey, now, serial: 20);

        var crossPem = CaCertificates.CrossSign(oldKey, oldRootPem, newRootPem, 21, now, TestPki.LeafTtl);

        var (oldRoot, newRoot, cross) = (CertificateInfo.Parse(oldRootPem), CertificateInfo.Parse(newRootPem), CertificateInfo.Parse(crossPem));
        Assert.Equal(newRoot.Subject, cross.Subject);
        Assert.Equal(oldRoot.Subject, cross.Issuer);
        Assert.Equal(newRoot.PublicKeyDer, cross.PublicKeyDer);
        Assert.Equal(newRoot.SubjectKeyIdBytes, cross.SubjectKeyIdBytes);
        Assert.Equal(oldKey.KeyId.ToArray(), cross.AuthorityKeyIdBytes);
        Assert.Equal(newRoot.Uris, cross.Uris);
        Assert.True(cross.IsCa);
        Assert.Null(cross.MaxPathLength);
        Assert.Equal("15", cross.SerialNumber);
        Assert.Equal(TestPki.SigOidFor(oldKey), cross.SignatureAlgorithmOid);
        var nowSec = newRoot.NotBefore;
        Assert.Equal(nowSec - TimeSpan.FromMinutes(1), cross.NotBefore);
        Assert.Equal(nowSec + TimeSpan.FromDays(7), cross.NotAfter);

        var newLeaf = TestPki.PrimarySigner(newKey, newRootPem, intermediates: [crossPem])
            .Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), now);
        Assert.Equal(newLeaf.LeafPem + crossPem, newLeaf.CertPem);
        using var ssl = new OpenSsl();
        var text = ssl.Text(crossPem);
        Assert.Contains("X509v3 Basic Constraints: critical\n                CA:TRUE\n", text);
        Assert.Contains("X509v3 Authority Key Identifier: \n                " + oldKey.KeyIdHex.ToUpperInvariant() + "\n", text);
        ssl.AssertVerifies(oldRootPem, null, crossPem);
        ssl.AssertVerifies(oldRootPem, crossPem, newLeaf.LeafPem);      // old-root trusters accept new leaves via the cross-sign
        ssl.AssertVerifies(newRootPem, null, newLeaf.LeafPem);          // new-root trusters need nothing extra
        Assert.False(ssl.Verify(oldRootPem, null, newLeaf.LeafPem).Ok); // without the cross-sign there is no path
    }

    [Theory]
    [InlineData(72, 7 * 24)]           // default leaf TTL: the 7-day floor wins
    [InlineData(24 * 30, 24 * 30 + 1)] // 30-day leaves: the cross-sign outlives the last old-root leaf by 1 h
    [InlineData(1, 7 * 24)]
    public void CrossSign_Lifetime_IsMaxOfLeafTtlPlusHourAndSevenDays(int leafTtlHours, int expectedHours)
    {
        var oldKey = TestPki.Key("ec-256", slot: 10);
        var newKey = TestPki.Key("ec-256", slot: 11);
        var cross = CertificateInfo.Parse(CaCertificates.CrossSign(oldKey, TestPki.Root(oldKey, TestPki.T0.AddDays(-1)),
            TestPki.Root(newKey, TestPki.T0), 3, TestPki.T0, TimeSpan.FromHours(leafTtlHours)));

        Assert.Equal(TestPki.T0 + TimeSpan.FromHours(expectedHours), cross.NotAfter);
    }

    [Fact]
    public void Rotation_ChainVerifier_OldLeafNeedsOldRootInBundle_NewLeafWorksForBothTrusters()
    {
        var now = TestPki.T0;
        var oldKey = TestPki.Key("rsa-2048", slot: 10);
        var newKey = TestPki.Key("ec-256", slot: 11);
        var oldRootPem = TestPki.Root(oldKey, now.AddDays(-100));
        var newRootPem = TestPki.Root(newKey, now, serial: 9);
        var crossPem = CaCertificates.CrossSign(oldKey, oldRootPem, newRootPem, 10, now, TestPki.LeafTtl);
        var oldLeaf = TestPki.PrimarySigner(oldKey, oldRootPem).Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), now.AddHours(-1));
        var newLeaf = TestPki.PrimarySigner(newKey, newRootPem, intermediates: [crossPem]).Sign(new LeafRequest(TestPki.Web(), TestPki.NewLeafPublicKey()), now);
        var oldId = CertificateInfo.Parse(oldRootPem).Id;
        var newId = CertificateInfo.Parse(newRootPem).Id;

        var newViaOld = ChainVerifier.Verify(newLeaf.CertPem, [oldRootPem], now);
        Assert.True(newViaOld.IsValid, newViaOld.Error);
        Assert.Equal(oldId, newViaOld.RootId);
        Assert.Equal(3, newViaOld.Chain.Count);
        Assert.Equal(newId, ChainVerifier.Verify(newLeaf.CertPem, [newRootPem], now).RootId);
        // The cross-sign only links new -> old. A leaf of the old root has no path to the new root (that would need
        // the new key to cross-sign the old root, which Consul never does), so Consul's design guarantees old leaves
        // only through the bundle of all non-pruned roots.
        Assert.False(ChainVerifier.Verify(oldLeaf.CertPem, [newRootPem], now, [crossPem]).IsValid);
        Assert.Equal(oldId, ChainVerifier.Verify(oldLeaf.CertPem, [newRootPem, oldRootPem], now).RootId);
        // Once the cross-sign has expired it is dropped, and old-root-only trusters no longer accept new leaves.
        var after = now.AddDays(8);
        Assert.False(ChainVerifier.Verify(newLeaf.CertPem, [oldRootPem], after).IsValid);
        Assert.True(ChainVerifier.Verify(newLeaf.CertPem, [newRootPem], now.AddHours(70)).IsValid);
    }

    // Issue 12 §3: a secondary follows a new root only on this proof. Columns: who signed the candidate, whose key it
    // carries, which root it is checked against → vouched for.
    [Theory]
    [InlineData("old", "new", "old", "new", true)]    // what `ca rotate` makes
    [InlineData("old", "new", "rogue", "new", false)] // checked against a root that did not sign it
    [InlineData("rogue", "new", "old", "new", false)] // a copy of the new root signed by someone else
    [InlineData("old", "new", "old", "rogue", false)] // a genuine cross-sign, but of another root's key
    [InlineData("self", "new", "old", "new", false)]  // the new root itself is no cross-signature
    public void IsCrossSignedBy_OnlyTheOldRootsSignatureOverTheNewRootsKey(string signer, string copied, string checkedAgainst, string root, bool vouched)
    {
        var now = TestPki.RealNow;
        var keys = new Dictionary<string, CaKeyPair> { ["old"] = TestPki.Key("ec-256", slot: 30), ["new"] = TestPki.Key("ec-256", slot: 31), ["rogue"] = TestPki.Key("ec-256", slot: 32) };
        var roots = new Dictionary<string, string>
        {
            ["old"] = TestPki.Root(keys["old"], now.AddDays(-100), serial: 1),
            ["new"] = TestPki.Root(keys["new"], now, serial: 2),
            ["rogue"] = TestPki.Root(keys["rogue"], now, serial: 3),
        };
        var candidate = signer == "self" ? roots[copied] : CaCertificates.CrossSign(keys[signer], roots[signer], roots[copied], 9, now, TestPki.LeafTtl);
        Assert.Equal(vouched, CaCertificates.IsCrossSignedBy(candidate, roots[root], roots[checkedAgainst]));
    }

    [Fact]
    public void IsCrossSignedBy_MalformedCandidate_IsNoProof()
    {
        var root = TestPki.Root(TestPki.Key("ec-256", slot: 33), TestPki.RealNow, serial: 1);
        Assert.False(CaCertificates.IsCrossSignedBy("-----BEGIN CERTIFICATE-----\nbm90\n-----END CERTIFICATE-----\n", root, root));
    }
}
