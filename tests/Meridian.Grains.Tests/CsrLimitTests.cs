using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Meridian.Core.Certificates;
using Meridian.Core.Identity;
using Meridian.Grains.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests;

/// <summary>
/// Consul's CSRMaxPerSecond and CSRMaxConcurrent hold for the datacenter, not per silo, on every signing path: a
/// service certificate (<see cref="LocalSigner.SignAsync"/>) and a workload's CSR (<see cref="ILeafSignerGrain"/>).
/// Two silos; no timing is asserted: a rate of one CSR per 1,000 s leaves exactly one token within reach.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class CsrLimitTests
{
    private const string Dc = CustomCluster.Datacenter;

    private static async Task<(CustomCluster Dc, IReadOnlyList<LocalSigner> Signers, string TrustDomain)> StartAsync(CaConfiguration config)
    {
        var dc = await CustomCluster.StartAsync(s => s.AddSingleton(config), silos: 2);
        await dc.Ca.InitializeAsync();
        var signers = dc.AllSiloServices.Select(sp => sp.GetRequiredService<LocalSigner>()).ToList();
        foreach (var s in signers) await s.GetAsync();
        return (dc, signers, (await dc.Ca.GetRootsAsync()).TrustDomain);
    }

    private static ServiceSpiffeId Id(string trustDomain, string service) => new(trustDomain, "default", Dc, service);

    private static byte[] PublicKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfo();
    }

    private static string Csr(string trustDomain, string service)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(Id(trustDomain, service).Uri));
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSigningRequestPem();
    }

    [Fact]
    public async Task Sign_RateLimit_HoldsForTheDatacenterAcrossSilosAndPaths()
    {
        var (dc, signers, td) = await StartAsync(new CaConfiguration { CsrMaxPerSecond = 0.001 });
        await using var _ = dc;

        // The one token within reach goes to the first silo; the second finds the datacenter's bucket empty.
        await signers[0].SignAsync(Id(td, "web"), PublicKey());
        var csr = await Assert.ThrowsAsync<RateLimitedException>(() => signers[1].SignCsrAsync(Csr(td, "api")));
        var issue = await Assert.ThrowsAsync<RateLimitedException>(() => signers[1].SignAsync(Id(td, "api"), PublicKey()));
        var viaGateway = await Assert.ThrowsAsync<RateLimitedException>(
            () => dc.GatewayClient.GetGrain<ILeafSignerGrain>(Dc).SignCsrAsync("api", Csr(td, "api")));

        Assert.All(new[] { csr, issue, viaGateway }, e =>
        {
            Assert.Equal(MeridianErrorKind.RateLimited, e.Kind);
            Assert.StartsWith("Rate limit reached, try again later", e.Message);
            // The next token frees up 1,000 s after the first: the hint says so (minus the time the test took).
            Assert.InRange(e.RetryAfter!.Value, TimeSpan.FromSeconds(900), TimeSpan.FromSeconds(1000));
        });
    }

    [Fact]
    public async Task Sign_ConcurrencyLimit_HoldsForTheDatacenter()
    {
        var (dc, signers, td) = await StartAsync(new CaConfiguration { CsrMaxPerSecond = 0, CsrMaxConcurrent = 1 });
        await using var _ = dc;
        var limiter = dc.Client.GetGrain<ICsrLimiterGrain>(Dc);

        // The only permit, held as a signing in progress in some silo holds it.
        var held = await limiter.AcquireAsync(1, TimeSpan.Zero);
        Assert.NotNull(held);
        foreach (var signer in signers)
        {
            var refused = await Assert.ThrowsAsync<RateLimitedException>(() => signer.SignAsync(Id(td, "web"), PublicKey()));
            Assert.Equal(MeridianErrorKind.RateLimited, refused.Kind);
        }

        await limiter.ReleaseAsync(held!.Value);
        // Each signing gives its permit back: one after the other, both silos sign.
        foreach (var signer in signers) await signer.SignAsync(Id(td, "web"), PublicKey());
        await signers[1].SignCsrAsync(Csr(td, "api"));
    }

    [Fact]
    public async Task WaitForNewer_RateLimited_WaitsForATokenInsteadOfFailing()
    {
        // 2 per second: a burst of 8 services is refused in part on a first GetAsync (Consul's first fetch), but a
        // caller that asked to wait gets its certificate once a token frees up.
        await using var dc = await CustomCluster.StartAsync(s => s.AddSingleton(new CaConfiguration { CsrMaxPerSecond = 2 }));
        await dc.Ca.InitializeAsync();
        var services = Enumerable.Range(0, 8).Select(i => $"{Dc}/wait-{i}").ToList();

        var certs = await Task.WhenAll(services.Select(
            s => dc.GatewayClient.GetGrain<IServiceCertificateGrain>(s).WaitForNewerAsync("", TimeSpan.FromMinutes(2))));

        Assert.Equal(services.Select(s => s.Split('/')[1]), certs.Select(c => c.Service));
        Assert.All(certs, c => Assert.NotEmpty(c.CertPEM));
    }
}
