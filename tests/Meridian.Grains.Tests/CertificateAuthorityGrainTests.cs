using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace Meridian.Grains.Tests;

/// <summary>
/// CA state machine tests, on a datacenter of their own: a CA grain answers only under its datacenter's name, and these
/// tests rotate and re-key it, which the certificate tests of the shared cluster must not see. The tests of this class
/// share one datacenter, so each asserts relative to the roots it finds; the first root's shape needs a new datacenter.
/// </summary>
[Trait("Category", "Cluster")]
public sealed partial class CertificateAuthorityGrainTests(CaClusterFixture fx) : IClassFixture<CaClusterFixture>
{
    private ICertificateAuthorityGrain Ca => fx.Cluster.Ca;

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.consul$")]
    private static partial Regex TrustDomainPattern();

    [GeneratedRegex("^[0-9a-f]{2}(:[0-9a-f]{2}){19}$")]
    private static partial Regex Sha1ColonHex();

    [GeneratedRegex("^[0-9a-f]{2}(:[0-9a-f]{2}){31}$")]
    private static partial Regex Sha256ColonHex();

    [Fact]
    public async Task Initialize_IsIdempotent_AndGivesOneActiveRoot()
    {
        await using var dc = await CustomCluster.StartAsync(_ => { });
        var ca = dc.Ca;
        var first = await ca.InitializeAsync();
        var second = await ca.InitializeAsync();
        Assert.Equal("INITIALIZED", first.State);
        Assert.Equal(first.ActiveRootID, second.ActiveRootID);
        Assert.Equal(first.TrustDomain, second.TrustDomain);

        var roots = await ca.GetRootsAsync();
        var root = Assert.Single(roots.Roots);
        Assert.True(root.Active);
        Assert.Null(root.RotatedOutAt);
        Assert.Equal(first.ActiveRootID, roots.ActiveRootID);
        Assert.Matches(TrustDomainPattern(), roots.TrustDomain);
        Assert.Equal(59, roots.ActiveRootID.Length);
        Assert.Matches(Sha1ColonHex(), roots.ActiveRootID);
        Assert.Equal(95, root.SigningKeyID.Length);
        Assert.Matches(Sha256ColonHex(), root.SigningKeyID);
        Assert.Equal(("Consul CA Primary Cert", "ec", 256), (root.Name, root.PrivateKeyType, root.PrivateKeyBits));
        Assert.Equal(roots.TrustDomain, root.ExternalTrustDomain + ".consul");
        Assert.Empty(root.IntermediateCerts);

        using var cert = X509Certificate2.CreateFromPem(root.RootCert);
        Assert.Equal(root.ID, Convert.ToHexString(cert.GetCertHash()).ToLowerInvariant().Chunk(2).Select(c => new string(c)).Aggregate((a, b) => a + ":" + b));
        Assert.True(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.True(CertAssert.HasUriSan(cert, $"spiffe://{roots.TrustDomain}"), "root URI SAN is the trust domain");
        Assert.InRange(root.NotAfter - root.NotBefore, TimeSpan.FromHours(87600) - TimeSpan.FromMinutes(5), TimeSpan.FromHours(87600) + TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task Rotate_AddsCrossSignedActiveRoot_AndRetiresTheOld()
    {
        var ca = Ca;
        await ca.InitializeAsync();
        var before = await ca.GetRootsAsync();
        var old = Assert.Single(before.Roots, r => r.Active);

        var after = await ca.RotateAsync();
        Assert.Equal(before.Roots.Length + 1, after.Roots.Length);
        Assert.True(after.Index > before.Index);
        Assert.Equal(before.TrustDomain, after.TrustDomain);
        var retired = Assert.Single(after.Roots, r => r.ID == old.ID);
        var active = Assert.Single(after.Roots, r => r.Active);
        Assert.False(retired.Active);
        Assert.NotNull(retired.RotatedOutAt);
        Assert.NotEqual(old.ID, active.ID);
        Assert.Equal(active.ID, after.ActiveRootID);
        Assert.Equal(after, await ca.GetRootsAsync() with { Roots = after.Roots });

        // The new root's intermediate list holds it cross-signed by the old root: same subject and key, old issuer.
        var crossPem = Assert.Single(active.IntermediateCerts);
        using var cross = X509Certificate2.CreateFromPem(crossPem);
        using var newRoot = X509Certificate2.CreateFromPem(active.RootCert);
        using var oldRoot = X509Certificate2.CreateFromPem(retired.RootCert);
        Assert.Equal(newRoot.SubjectName.Name, cross.SubjectName.Name);
        Assert.Equal(oldRoot.SubjectName.Name, cross.IssuerName.Name);
        Assert.Equal(newRoot.PublicKey.EncodedKeyValue.RawData, cross.PublicKey.EncodedKeyValue.RawData);
        CertAssert.DotNetVerifies(cross, [], [retired.RootCert]);

        var status = await ca.GetStatusAsync();
        Assert.Equal(("INITIALIZED", active.ID), (status.State, status.ActiveRootID));
    }

    [Fact]
    public async Task SetConfiguration_Invalid_ReportsConsulTexts_AndChangesNothing()
    {
        var ca = Ca;
        await ca.InitializeAsync();
        var config = await ca.GetConfigurationAsync();
        var roots = await ca.GetRootsAsync();

        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => ca.SetConfigurationAsync(config with
        {
            LeafCertTTL = TimeSpan.FromMinutes(30),
            IntermediateCertTTL = TimeSpan.FromHours(1),
            PrivateKeyType = "dsa",
        }));
        Assert.Equal(
            [
                ("LeafCertTTL", "leaf cert TTL must be greater or equal than 1h0m0s"),
                ("IntermediateCertTTL", "Intermediate Cert TTL must be greater or equal than 3h"),
                ("IntermediateCertTTL", "Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=1h30m0s)."),
                ("PrivateKeyType", "private key type must be either 'ec' or 'rsa'"),
            ],
            ex.Problems.Select(p => (p.Field, p.Message)));

        var bits = await Assert.ThrowsAsync<MeridianValidationException>(
            () => ca.SetConfigurationAsync(config with { PrivateKeyType = "ec", PrivateKeyBits = 2048 }));
        Assert.Equal(("PrivateKeyBits", "EC key length must be one of (224, 256, 384, 521) bits"), (bits.Problems[0].Field, bits.Problems[0].Message));

        var rootTtl = await Assert.ThrowsAsync<MeridianValidationException>(
            () => ca.SetConfigurationAsync(config with { RootCertTTL = TimeSpan.FromHours(100) }));
        Assert.Contains(rootTtl.Problems, p => p.Message ==
            "root cert TTL is set and is not greater than intermediate cert ttl. root cert ttl: 100h0m0s, intermediate cert ttl: 8760h0m0s");

        Assert.Equal(config, await ca.GetConfigurationAsync());
        Assert.Equal(roots, await ca.GetRootsAsync() with { Roots = roots.Roots });
        Assert.Equal(roots.Roots.Select(r => r.ID), (await ca.GetRootsAsync()).Roots.Select(r => r.ID));
        Assert.Equal("INITIALIZED", (await ca.GetStatusAsync()).State);
    }

    [Fact]
    public async Task SetConfiguration_KeyTypeChange_RotatesToRsaRoot()
    {
        // The one test of the class that changes the key type: the datacenter's CA is on EC P-256 until it runs.
        var ca = Ca;
        await ca.InitializeAsync();
        var before = await ca.GetRootsAsync();
        var config = await ca.GetConfigurationAsync();
        Assert.Equal(("ec", 256), (config.PrivateKeyType, config.PrivateKeyBits));

        var updated = await ca.SetConfigurationAsync(config with { PrivateKeyType = "rsa", PrivateKeyBits = 2048 });
        Assert.Equal(("rsa", 2048), (updated.PrivateKeyType, updated.PrivateKeyBits));

        var after = await ca.GetRootsAsync();
        Assert.Equal(before.Roots.Length + 1, after.Roots.Length);
        var active = Assert.Single(after.Roots, r => r.Active);
        Assert.NotEqual(before.ActiveRootID, active.ID);
        Assert.Equal(("rsa", 2048), (active.PrivateKeyType, active.PrivateKeyBits));
        Assert.Single(active.IntermediateCerts);
        using var cert = X509Certificate2.CreateFromPem(active.RootCert);
        Assert.NotNull(cert.GetRSAPublicKey());
        Assert.Equal(updated, await ca.GetConfigurationAsync());
    }

    [Fact]
    public async Task SetConfiguration_TtlOnly_KeepsTheRoot()
    {
        var ca = Ca;
        await ca.InitializeAsync();
        var before = await ca.GetRootsAsync();
        var config = await ca.GetConfigurationAsync();

        var updated = await ca.SetConfigurationAsync(config with { LeafCertTTL = TimeSpan.FromHours(96) });
        Assert.Equal(TimeSpan.FromHours(96), updated.LeafCertTTL);
        Assert.True(updated.ModifyIndex > config.ModifyIndex);

        var after = await ca.GetRootsAsync();
        Assert.Equal(before.ActiveRootID, after.ActiveRootID);
        Assert.Equal(before.Roots.Select(r => r.ID), after.Roots.Select(r => r.ID));

        // Setting the same configuration again is a no-op.
        Assert.Equal(updated, await ca.SetConfigurationAsync(updated));
    }

    [Fact]
    public async Task WaitForRootsChange_WakesOnRotation()
    {
        var ca = Ca;
        await ca.InitializeAsync();
        var before = await ca.GetRootsAsync();
        var waiting = ca.WaitForRootsChangeAsync(before.Index, TimeSpan.FromMinutes(10));
        var rotated = await ca.RotateAsync();
        var seen = await waiting.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(rotated.Index, seen.Index);
        Assert.Equal(rotated.ActiveRootID, seen.ActiveRootID);
    }

    [Fact]
    public async Task ReserveSerials_BlocksNeverOverlap()
    {
        var ca = Ca;
        var root = (await ca.InitializeAsync()).ActiveRootID;
        var blocks = await Task.WhenAll(Enumerable.Range(1, 20).Select(i => ca.ReserveSerialsAsync(i * 7)));
        var ordered = blocks.OrderBy(b => b.First).ToList();
        Assert.All(blocks, b => Assert.True(b.First > 0));
        for (var i = 1; i < ordered.Count; i++)
            Assert.True(ordered[i].First >= ordered[i - 1].First + (ulong)ordered[i - 1].Count,
                $"block {ordered[i]} overlaps {ordered[i - 1]}");
        var rootSerial = (await ca.GetRootsAsync()).Roots.Single(r => r.ID == root).SerialNumber;
        Assert.True(ordered[0].First > rootSerial, "leaf serials must not reuse the root's");
        await Assert.ThrowsAnyAsync<Exception>(() => ca.ReserveSerialsAsync(0));
    }
}

/// <summary>One primary datacenter (dc1) for the CA state machine tests of one class.</summary>
public sealed class CaClusterFixture : IAsyncLifetime
{
    private CustomCluster? _cluster;

    public CustomCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not started");

    public async Task InitializeAsync() => _cluster = await CustomCluster.StartAsync(_ => { });

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
