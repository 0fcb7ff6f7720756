using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Meridian.Grains.Tests;

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class LeafSignerGrainTests(ClusterFixture fx)
{
    private ILeafSignerGrain Signer => fx.Client.GetGrain<ILeafSignerGrain>(fx.PrimaryDatacenter);

    private static string Fresh() => $"svc-{Guid.NewGuid():N}";

    private async Task<CaRootListDto> ReadyRootsAsync()
    {
        var ca = fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter);
        await ca.InitializeAsync();
        await fx.WaitForSignersAsync();
        return await ca.GetRootsAsync();
    }

    private static string Csr(ECDsa key, params string[] uris)
    {
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var uri in uris) san.AddUri(new Uri(uri));
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }

    [Fact]
    public async Task SignCsr_ForTheService_IsSignedAndVerifies()
    {
        var roots = await ReadyRootsAsync();
        var service = Fresh();
        var uri = $"spiffe://{roots.TrustDomain}/ns/default/dc/dc1/svc/{service}";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var cert = await Signer.SignCsrAsync(service, Csr(key, uri));

        Assert.Equal(uri, cert.ServiceURI);
        Assert.Equal(service, cert.Service);
        Assert.Equal("", cert.PrivateKeyPEM); // the workload keeps its key
        Assert.Equal(roots.ActiveRootID, cert.RootID);
        using var leaf = X509Certificate2.CreateFromPem(cert.CertPEM);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), leaf.PublicKey.ExportSubjectPublicKeyInfo());
        CertAssert.ChainsTo(cert.CertPEM, [.. roots.Roots.Select(r => r.RootCert)]);
    }

    [Fact]
    public async Task SignCsr_OtherDatacenter_IsRejectedWithConsulText()
    {
        var roots = await ReadyRootsAsync();
        var service = Fresh();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ex = await Assert.ThrowsAsync<MeridianValidationException>(
            () => Signer.SignCsrAsync(service, Csr(key, $"spiffe://{roots.TrustDomain}/ns/default/dc/dc9/svc/{service}")));
        var problem = Assert.Single(ex.Problems);
        Assert.Equal(("csr", "SPIFFE ID in CSR from a different datacenter: dc9, we are dc1"), (problem.Field, problem.Message));
    }

    [Fact]
    public async Task SignCsr_ForAnotherService_IsRejected()
    {
        var roots = await ReadyRootsAsync();
        var (asked, named) = (Fresh(), Fresh());
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var uri = $"spiffe://{roots.TrustDomain}/ns/default/dc/dc1/svc/{named}";
        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => Signer.SignCsrAsync(asked, Csr(key, uri)));
        var problem = Assert.Single(ex.Problems);
        Assert.Equal(("csr", $"CSR identity {uri} is not the service \"{asked}\""), (problem.Field, problem.Message));
    }

    [Fact]
    public async Task SignCsr_TwoUris_IsRejectedWithConsulText()
    {
        var roots = await ReadyRootsAsync();
        var service = Fresh();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => Signer.SignCsrAsync(service, Csr(key,
            $"spiffe://{roots.TrustDomain}/ns/default/dc/dc1/svc/{service}",
            $"spiffe://{roots.TrustDomain}/ns/default/dc/dc1/svc/{Fresh()}")));
        Assert.Equal(("csr", "CSR SAN contains an invalid number of URIs: 2"), (ex.Problems[0].Field, ex.Problems[0].Message));
    }

    [Fact]
    public async Task SignCsr_EmptyOrGarbage_IsValidationError()
    {
        var service = Fresh();
        var empty = await Assert.ThrowsAsync<MeridianValidationException>(() => Signer.SignCsrAsync(service, ""));
        Assert.Equal(("csr", "csr must be a PEM certificate request"), (empty.Problems[0].Field, empty.Problems[0].Message));
        var garbage = await Assert.ThrowsAsync<MeridianValidationException>(() => Signer.SignCsrAsync(service, "not a csr"));
        Assert.Equal("csr", garbage.Problems[0].Field);
    }
}
