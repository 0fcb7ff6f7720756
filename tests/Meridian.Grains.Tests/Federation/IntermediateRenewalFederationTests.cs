using System.Security.Cryptography.X509Certificates;
using Meridian.Core.Certificates;
using Meridian.Grains.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// A secondary's half-life renewal of its intermediate (SPEC §3.10) in its own datacenters: the primary's clock runs
/// 55 % of an intermediate's life behind, so every intermediate it signs is already past half-life (not yet at the
/// 60 % mark where status turns Degraded) and the secondary re-keys on each root-watch round, under the same root.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class IntermediateRenewalFederationTests
{
    private static string Ski(string pem)
        => Convert.ToHexString(X509Certificate2.CreateFromPem(pem).Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifierBytes.Span);

    private static string Hex(string colonHex) => colonHex.Replace(":", "", StringComparison.Ordinal).ToUpperInvariant();

    [Fact]
    public async Task SecondaryIntermediateRenewal_NewKeySameRoot_ReissuesNoLeaf_SigningKeyIdIsTheNewLocalSigner()
    {
        var primaryClock = new ShiftedClock();
        primaryClock.Advance(-TimeSpan.FromTicks(CaConfiguration.Default.IntermediateCertTtl.Ticks / 100 * 55));
        await using var dc1 = await DatacenterCluster.StartAsync("dc1", "dc1", services: s => s.AddSingleton<TimeProvider>(primaryClock));
        await dc1.Ca.InitializeAsync();
        var roots = await dc1.Ca.GetRootsAsync();
        await using var dc2 = await DatacenterCluster.StartSecondaryAsync("dc2", dc1);
        await dc2.WaitForSignersOnRootAsync(roots.ActiveRootID);

        var service = dc2.Certificate($"svc-{Guid.NewGuid():N}");
        var issued = await service.GetAsync();
        Assert.Equal(roots.ActiveRootID, issued.RootID);
        var signer = dc2.SiloServices.Single().GetRequiredService<LocalSigner>();

        // Two renewals after the leaf was issued, each installed in the silo's signer: a new key, the same root.
        var keys = new List<string> { issued.SigningKeyID };
        while (keys.Count < 3)
        {
            var replaced = signer.Replaced;
            var current = signer.Current!;
            Assert.Equal(roots.ActiveRootID, current.ActiveRootId);
            if (current.Leaves.SigningKeyId != keys[^1]) keys.Add(current.Leaves.SigningKeyId);
            else await replaced.WaitAsync(Poll.Timeout);
        }
        Assert.Equal(keys.Count, keys.Distinct().Count());

        // The roots carry the local signer's key id: the SKI of dc2's current intermediate, not the primary root's.
        var status = await dc2.Ca.GetStatusAsync();
        var local = await dc2.Ca.GetRootsAsync();
        var active = Assert.Single(local.Roots, r => r.Active);
        Assert.Equal((roots.ActiveRootID, roots.ActiveRootID, ""), (status.ActiveRootID, active.ID, status.Degraded));
        Assert.Equal(status.SigningKeyID, active.SigningKeyID);
        Assert.Equal(Ski(active.IntermediateCerts[^1]), Hex(active.SigningKeyID));
        Assert.NotEqual(Hex(active.SigningKeyID), Ski(roots.Roots.Single(r => r.Active).RootCert));
        Assert.DoesNotContain(issued.SigningKeyID, new[] { active.SigningKeyID, signer.Current!.Leaves.SigningKeyId });

        // SPEC §5 item 8 (Consul #6513): the leaf signed under the old intermediate is kept, not re-issued.
        var again = await service.GetAsync();
        Assert.Equal((issued.SerialNumber, issued.SigningKeyID, issued.CertPEM), (again.SerialNumber, again.SigningKeyID, again.CertPEM));
        CertAssert.ChainsTo(again.CertPEM, roots.Roots.Single(r => r.Active).RootCert);
        var newer = await service.WaitForNewerAsync(issued.SerialNumber, TimeSpan.FromSeconds(1));
        Assert.Equal(issued.SerialNumber, newer.SerialNumber);
    }
}
