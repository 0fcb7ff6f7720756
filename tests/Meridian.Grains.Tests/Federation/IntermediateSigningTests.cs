using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// Issue 12's attack, replayed: a plain client of the primary's gateway asks <c>SignIntermediateAsync</c> for a CA
/// certificate for its own key. CSRs are made with openssl, as an attacker would make them.
/// </summary>
[Collection(FederationCollection.Name), Trait("Category", "Cluster")]
public sealed class IntermediateSigningTests(TwoDatacenterFixture fx)
{
    [Theory]
    [InlineData("dc2", "", "csr=missing_uri")]                                          // the CSR: CN=attacker, no URI
    [InlineData("dc2", "URI:spiffe://99999999-8888-7777-6666-555555555555.consul", "csr=not_signing_id")]
    [InlineData("dc2", "URI:{signing},DNS:evil.example.com", "csr=san_not_allowed")]
    [InlineData("dc2", "URI:{signing},IP:10.0.0.1", "csr=san_not_allowed")]
    [InlineData("attacker", "URI:{signing}", "datacenter=not_federation_member")]
    [InlineData("dc9", "URI:{signing}", "datacenter=not_federation_member")]
    [InlineData("dc1", "URI:{signing}", "datacenter=own_datacenter")]
    [InlineData("Not A Name", "", "datacenter=invalid_format,csr=missing_uri")]
    public async Task SignIntermediate_AttackerCsrOrDatacenter_IsRefusedWithReason_AndNothingIsIssued(string datacenter, string san, string expected)
    {
        var roots = await fx.Dc1.Ca.GetRootsAsync();
        var csr = OpenSslCsr("/CN=attacker", san.Replace("{signing}", $"spiffe://{roots.TrustDomain}", StringComparison.Ordinal));
        var writesBefore = fx.Dc1.Store.Writes.Count;

        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => fx.Dc1.Ca.SignIntermediateAsync(csr, datacenter));

        Assert.Equal(expected, string.Join(",", ex.Problems.Select(p => $"{p.Field}={p.Code}")));
        Assert.All(ex.Problems, p => Assert.False(string.IsNullOrWhiteSpace(p.Message)));
        Assert.DoesNotContain("BEGIN CERTIFICATE", ex.Message, StringComparison.Ordinal);
        // Nothing was recorded for the claimed datacenter either (it would gate root pruning).
        Assert.DoesNotContain(fx.Dc1.Store.Writes.Skip(writesBefore), w => w.Text.Contains("attacker", StringComparison.Ordinal)
            || w.Text.Contains("dc9", StringComparison.Ordinal) || w.Text.Contains("Not A Name", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SignIntermediate_NonMember_NamesTheOptionToSet()
    {
        var roots = await fx.Dc1.Ca.GetRootsAsync();
        var csr = OpenSslCsr("/CN=sec", $"URI:spiffe://{roots.TrustDomain}");

        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() => fx.Dc1.Ca.SignIntermediateAsync(csr, "dc9"));

        var problem = Assert.Single(ex.Problems);
        Assert.Contains("Meridian:Federation:Datacenters", problem.Message, StringComparison.Ordinal);
        Assert.Contains("members: dc2, dc3", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIntermediate_MemberWithSigningIdCsr_GetsAPathLen0IntermediateThatOpenSslVerifies()
    {
        var roots = await fx.Dc1.Ca.GetRootsAsync();
        var signingId = $"spiffe://{roots.TrustDomain}";

        var pem = await fx.Dc1.Ca.SignIntermediateAsync(OpenSslCsr("/CN=sec", $"URI:{signingId}"), "dc3");

        using var cert = X509Certificate2.CreateFromPem(pem);
        var constraints = cert.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.Equal((true, true, 0), (constraints.CertificateAuthority, constraints.HasPathLengthConstraint, constraints.PathLengthConstraint));
        Assert.True(CertAssert.HasUriSan(cert, signingId), "the intermediate carries the signing id");
        CertAssert.OpenSslVerifies(cert, [], [roots.Roots.Single(r => r.Active).RootCert]);
    }

    [Fact]
    public async Task Secondary_NotListedByThePrimary_GetsNoIntermediate_AndItsStatusNamesTheOption()
    {
        await using var dc4 = await DatacenterCluster.StartSecondaryAsync("dc4", fx.Dc1);

        CaStatusDto status = new();
        await Poll.UntilAsync(async () => (status = await dc4.Ca.GetStatusAsync()).Degraded.Contains("not_federation_member", StringComparison.Ordinal)
                || status.Degraded.Contains("Meridian:Federation:Datacenters", StringComparison.Ordinal),
            () => Task.FromResult($"dc4 CA status: state {status.State}, degraded '{status.Degraded}'"));
        Assert.Contains("\"dc4\" is not a member of the federation of primary datacenter dc1", status.Degraded, StringComparison.Ordinal);
        Assert.Equal("", status.ActiveRootID);
        Assert.Empty((await dc4.Ca.GetRootsAsync()).Roots);
    }

    [Fact]
    public async Task ReportRotationProgress_FromNonMember_IsRefused_AndRecordsNothing()
    {
        var writesBefore = fx.Dc1.Store.Writes.Count;

        var ex = await Assert.ThrowsAsync<MeridianValidationException>(() =>
            fx.Dc1.Ca.ReportRotationProgressAsync(new RotationProgressDto { Datacenter = "dc9", ActiveRootID = "old", Total = 1 }));

        Assert.Equal("datacenter=not_federation_member", string.Join(",", ex.Problems.Select(p => $"{p.Field}={p.Code}")));
        Assert.DoesNotContain(fx.Dc1.Store.Writes.Skip(writesBefore), w => w.Text.Contains("dc9", StringComparison.Ordinal));
    }

    // openssl req -new with a fresh P-256 key, the given subject and (when not empty) subjectAltName.
    private static string OpenSslCsr(string subject, string san)
    {
        var dir = Directory.CreateTempSubdirectory("meridian-csr-");
        try
        {
            var psi = new ProcessStartInfo("openssl") { WorkingDirectory = dir.FullName, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                         "-keyout", "key.pem", "-out", "csr.pem", "-subj", subject })
                psi.ArgumentList.Add(a);
            if (san.Length > 0)
            {
                psi.ArgumentList.Add("-addext");
                psi.ArgumentList.Add("subjectAltName=" + san);
            }
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEndAsync();
            Assert.True(p.WaitForExit(30_000), "openssl req did not finish in 30 s");
            Assert.True(p.ExitCode == 0, $"openssl req failed: {err.Result}");
            return File.ReadAllText(Path.Combine(dir.FullName, "csr.pem"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
