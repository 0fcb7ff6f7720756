using System.Security.Cryptography.X509Certificates;

namespace Meridian.Grains.Tests;

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class ServiceCertificateGrainTests(ClusterFixture fx)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private ICertificateAuthorityGrain Ca => fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter);

    private static string Fresh() => $"svc-{Guid.NewGuid():N}";

    private IServiceCertificateGrain Cert(string service) => fx.Client.GetGrain<IServiceCertificateGrain>($"{fx.PrimaryDatacenter}/{service}");

    private async Task<CaRootListDto> ReadyRootsAsync()
    {
        await Ca.InitializeAsync();
        await fx.WaitForSignersAsync(); // another test may just have rotated the root
        return await Ca.GetRootsAsync();
    }

    [Fact]
    public async Task Get_IssuesAVerifiableLeaf_AndKeepsIt()
    {
        var roots = await ReadyRootsAsync();
        var service = Fresh();
        var cert = await Cert(service).GetAsync();

        Assert.Equal($"spiffe://{roots.TrustDomain}/ns/default/dc/dc1/svc/{service}", cert.ServiceURI);
        Assert.Equal(service, cert.Service);
        Assert.Equal(roots.ActiveRootID, cert.RootID);
        Assert.Contains("-----BEGIN EC PRIVATE KEY-----", cert.PrivateKeyPEM);
        Assert.True(cert.ValidBefore > cert.ValidAfter);
        Assert.InRange(cert.ValidBefore - cert.ValidAfter, TimeSpan.FromHours(72) - TimeSpan.FromMinutes(5), TimeSpan.FromHours(72) + TimeSpan.FromMinutes(5));

        using var withKey = X509Certificate2.CreateFromPem(cert.CertPEM, cert.PrivateKeyPEM); // key matches the leaf
        Assert.True(withKey.HasPrivateKey);
        Assert.Equal(cert.SerialNumber.Replace(":", "", StringComparison.Ordinal).ToUpperInvariant().TrimStart('0'),
            withKey.SerialNumber.TrimStart('0'));
        Assert.True(CertAssert.HasUriSan(withKey, cert.ServiceURI), "leaf URI SAN is the service URI");
        CertAssert.ChainsTo(cert.CertPEM, [.. roots.Roots.Select(r => r.RootCert)]);

        var again = await Cert(service).GetAsync();
        Assert.Equal(cert.SerialNumber, again.SerialNumber);
        Assert.Equal(cert.PrivateKeyPEM, again.PrivateKeyPEM);
    }

    [Fact]
    public async Task Get_DistinctServices_GetDistinctSerials()
    {
        await ReadyRootsAsync();
        var certs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Cert(Fresh()).GetAsync()));
        Assert.Equal(certs.Length, certs.Select(c => c.SerialNumber).Distinct().Count());
        Assert.Equal(certs.Length, certs.Select(c => c.ServiceURI).Distinct().Count());
    }

    [Fact]
    public async Task WaitForNewer_WithoutChange_ReturnsTheSameCertificateAfterTheWait()
    {
        await ReadyRootsAsync();
        var grain = Cert(Fresh());
        var cert = await grain.GetAsync();
        var same = await grain.WaitForNewerAsync(cert.SerialNumber, TimeSpan.FromMilliseconds(300)).WaitAsync(Deadline);
        Assert.Equal(cert.SerialNumber, same.SerialNumber);

        var other = await grain.WaitForNewerAsync("00:11", TimeSpan.FromMinutes(10)).WaitAsync(Deadline);
        Assert.Equal(cert.SerialNumber, other.SerialNumber); // a different serial answers at once
    }

    [Fact]
    public async Task WaitForNewer_RotationMeanwhile_ReturnsACertificateOfTheNewRoot()
    {
        await ReadyRootsAsync();
        var grain = Cert(Fresh());
        var old = await grain.GetAsync();

        var waiting = grain.WaitForNewerAsync(old.SerialNumber, TimeSpan.FromMinutes(10));
        var rotated = await Ca.RotateAsync();
        var fresh = await waiting.WaitAsync(Deadline);

        Assert.NotEqual(old.SerialNumber, fresh.SerialNumber);
        Assert.Equal(rotated.ActiveRootID, fresh.RootID);
        var newRoot = rotated.Roots.Single(r => r.Active).RootCert;
        CertAssert.ChainsTo(fresh.CertPEM, newRoot);
        // Peers that still trust only the old root accept it through the cross-signed certificate in the chain.
        CertAssert.ChainsTo(fresh.CertPEM, rotated.Roots.Single(r => r.ID == old.RootID).RootCert);
    }

    [Fact]
    public async Task Get_AfterRotation_ReissuesUnderTheNewRoot()
    {
        await ReadyRootsAsync();
        var grain = Cert(Fresh());
        var old = await grain.GetAsync();
        var rotated = await Ca.RotateAsync();

        // The silo's signer picks the rotation up asynchronously: wait for the grain to notice, bounded.
        var deadline = DateTimeOffset.UtcNow + Deadline;
        var current = await grain.GetAsync();
        while (current.RootID != rotated.ActiveRootID && DateTimeOffset.UtcNow < deadline)
            current = await grain.WaitForNewerAsync(current.SerialNumber, TimeSpan.FromSeconds(5)).WaitAsync(Deadline);

        Assert.Equal(rotated.ActiveRootID, current.RootID);
        Assert.NotEqual(old.SerialNumber, current.SerialNumber);
        CertAssert.ChainsTo(current.CertPEM, rotated.Roots.Single(r => r.Active).RootCert);
        Assert.Equal(current.SerialNumber, (await grain.GetAsync()).SerialNumber);
    }

    [Fact]
    public async Task Get_BadKey_IsValidationError()
    {
        await Assert.ThrowsAsync<MeridianValidationException>(() => fx.Client.GetGrain<IServiceCertificateGrain>("no-slash").GetAsync());
    }

    [Fact]
    public async Task Inventory_CountsEveryIssuedCertificate_FromBatchedReports()
    {
        var roots = await ReadyRootsAsync();
        var inventory = fx.Client.GetGrain<ICertificateInventoryGrain>(fx.PrimaryDatacenter);
        var before = await inventory.GetProgressAsync();

        // Issued on both silos of the cluster; each silo reports its certificates in batches, not one call each.
        var certs = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Cert(Fresh()).GetAsync()));
        Assert.All(certs, c => Assert.Equal(roots.ActiveRootID, c.RootID));

        var progress = before;
        await Federation.Poll.UntilAsync(
            async () => (progress = await inventory.GetProgressAsync()).OnActiveRoot >= before.OnActiveRoot + certs.Length,
            () => Task.FromResult($"inventory: {progress.OnActiveRoot} of {progress.Total} on the active root, expected at least {before.OnActiveRoot + certs.Length}"));
        // At least: reports of certificates issued by earlier tests may still have been on their way when `before` was read.
        Assert.Equal(roots.ActiveRootID, progress.ActiveRootID);
        Assert.True(progress.Total >= before.Total + certs.Length, $"total {progress.Total} < {before.Total} + {certs.Length}");
    }
}
