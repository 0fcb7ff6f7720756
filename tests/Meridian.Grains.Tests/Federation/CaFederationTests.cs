using System.Security.Cryptography.X509Certificates;
using Meridian.Core.Certificates;
using Meridian.Grains.Certificates;
using Orleans.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests.Federation;

[Collection(FederationCollection.Name), Trait("Category", "Cluster")]
public sealed class CaFederationTests(TwoDatacenterFixture fx)
{
    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private static string Ski(string pem)
        => Convert.ToHexString(X509Certificate2.CreateFromPem(pem).Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifierBytes.Span);

    private static string Hex(string colonHex) => colonHex.Replace(":", "", StringComparison.Ordinal).ToUpperInvariant();

    [Fact]
    public async Task SecondaryInitialisation_SameTrustDomainAndRoot_OwnIntermediateSignedByPrimary()
    {
        var roots = await fx.FollowedRootsAsync();
        var primary = await fx.Dc1.Ca.GetStatusAsync();
        var primaryRoot = roots.Roots.Single(r => r.Active);
        Assert.Equal(Hex(primary.SigningKeyID), Ski(primaryRoot.RootCert)); // the primary signs with its root

        var keyIds = new HashSet<string> { primary.SigningKeyID };
        foreach (var dc in fx.Secondaries)
        {
            var status = await dc.Ca.GetStatusAsync();
            Assert.Equal(("INITIALIZED", roots.TrustDomain, roots.ActiveRootID, ""), (status.State, status.TrustDomain, status.ActiveRootID, status.Degraded));
            var local = await dc.Ca.GetRootsAsync();
            var active = local.Roots.Single(r => r.Active);
            Assert.Equal((primaryRoot.ID, primaryRoot.RootCert), (active.ID, active.RootCert));
            var intermediate = active.IntermediateCerts[^1];
            // SigningKeyID is this datacenter's own signer (SPEC §5 item 8), not the primary root's key id.
            Assert.Equal(Ski(intermediate), Hex(status.SigningKeyID));
            Assert.Equal(status.SigningKeyID, active.SigningKeyID);
            Assert.True(keyIds.Add(status.SigningKeyID), $"{dc.Name} signs with a key id already used elsewhere: {status.SigningKeyID}");
            using var cert = X509Certificate2.CreateFromPem(intermediate);
            Assert.True(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority, $"{dc.Name} intermediate is a CA");
            Assert.True(CertAssert.HasUriSan(cert, $"spiffe://{roots.TrustDomain}"), $"{dc.Name} intermediate carries the signing id URI");
            CertAssert.OpenSslVerifies(cert, [], [primaryRoot.RootCert]);
            Assert.NotNull(status.SigningCaExpiry);
        }
    }

    [Fact]
    public async Task LeavesFromSecondaries_VerifyAgainstThePrimaryRootAlone()
    {
        var roots = await fx.FollowedRootsAsync();
        var dc1Root = roots.Roots.Single(r => r.Active).RootCert;
        foreach (var dc in fx.Secondaries)
        {
            var service = Fresh("svc");
            var cert = await dc.Certificate(service).GetAsync();
            var uri = $"spiffe://{roots.TrustDomain}/ns/default/dc/{dc.Name}/svc/{service}";
            Assert.Equal(uri, cert.ServiceURI);
            Assert.Equal(roots.ActiveRootID, cert.RootID);
            Assert.Equal((await dc.Ca.GetStatusAsync()).SigningKeyID, cert.SigningKeyID);
            var chain = CertAssert.Parse(cert.CertPEM);
            Assert.True(CertAssert.HasUriSan(chain[0], uri), $"{dc.Name} leaf carries {uri}");
            CertAssert.ChainsTo(cert.CertPEM, dc1Root); // openssl verify -CAfile dc1root.pem -untrusted chain leaf, and .NET
        }
    }

    [Fact]
    public async Task RotationInPrimary_SecondariesRekey_CertificatesMoveToNewRoot_ProgressGatesPruning()
    {
        var before = await fx.FollowedRootsAsync();
        var oldRoot = before.Roots.Single(r => r.Active);
        var service = Fresh("svc");
        var grain = fx.Dc2.Certificate(service);
        var old = await grain.GetAsync();
        var keyBefore = (await fx.Dc2.Ca.GetStatusAsync()).SigningKeyID;

        var waiting = grain.WaitForNewerAsync(old.SerialNumber, Poll.Timeout);
        var rotated = await fx.Dc1.Ca.RotateAsync();
        var newRoot = rotated.Roots.Single(r => r.Active);
        Assert.NotEqual(oldRoot.ID, newRoot.ID);

        var fresh = await waiting.WaitAsync(Poll.Timeout);
        while (fresh.RootID != newRoot.ID) // a re-issue racing the re-key may still be on the old root: wait for the next
            fresh = await grain.WaitForNewerAsync(fresh.SerialNumber, Poll.Timeout).WaitAsync(Poll.Timeout);
        var status = await fx.Dc2.Ca.GetStatusAsync();
        Assert.Equal(newRoot.ID, status.ActiveRootID);
        Assert.NotEqual(keyBefore, status.SigningKeyID);
        Assert.Equal(status.SigningKeyID, fresh.SigningKeyID);
        CertAssert.ChainsTo(fresh.CertPEM, newRoot.RootCert);
        CertAssert.ChainsTo(fresh.CertPEM, oldRoot.RootCert); // via the cross-signed new root in its chain

        // dc2's bundle keeps the old root (rotated out) next to the new one.
        var dc2Roots = await fx.Dc2.Ca.GetRootsAsync();
        Assert.Contains(dc2Roots.Roots, r => r.ID == oldRoot.ID && !r.Active && r.RotatedOutAt is not null);
        Assert.Contains(dc2Roots.Roots, r => r.ID == newRoot.ID && r.Active);

        // Each secondary reports its progress to the primary, which records it (gates root pruning).
        CertificateAuthorityState? recorded = null;
        await Poll.UntilAsync(
            () => Task.FromResult((recorded = fx.Dc1.Store.Latest<CertificateAuthorityState>("dc1")) is { } s
                && fx.Secondaries.All(dc => s.Secondaries.TryGetValue(dc.Name, out var p) && p.ActiveRootId == newRoot.ID && p.OnActiveRoot == p.Total)
                && s.Secondaries["dc2"].Total >= 1),
            () => Task.FromResult("recorded progress in dc1: " + string.Join("; ", recorded?.Secondaries.Select(kv =>
                $"{kv.Key}: {kv.Value.OnActiveRoot}/{kv.Value.Total} on {kv.Value.ActiveRootId} at {kv.Value.ReportedAt:O}") ?? ["none"])));
        var progress = await fx.Dc2.Client.GetGrain<ICertificateInventoryGrain>("dc2").GetProgressAsync();
        Assert.Equal((newRoot.ID, progress.Total), (progress.ActiveRootID, progress.OnActiveRoot));

        // Not pruned now; prunable only after 2 x leaf TTL and with every secondary migrated (the state just recorded).
        var primaryRoots = await fx.Dc1.Ca.GetRootsAsync();
        var rotatedOut = primaryRoots.Roots.Single(r => r.ID == oldRoot.ID).RotatedOutAt!.Value;
        var ttl = (await fx.Dc1.Ca.GetConfigurationAsync()).LeafCertTTL;
        var migrated = recorded!.Secondaries.Values.All(s => s.ActiveRootId == newRoot.ID && s.OnActiveRoot == s.Total);
        Assert.True(migrated);
        Assert.Equal(RootPruneReason.RetentionNotElapsed, RootRetention.CanPrune(rotatedOut + ttl, rotatedOut, ttl, migrated).Reason);
        Assert.True(RootRetention.CanPrune(rotatedOut + 2 * ttl + TimeSpan.FromMinutes(1), rotatedOut, ttl, migrated).CanPrune);
        var lagging = recorded.Secondaries.ToDictionary(kv => kv.Key, kv => kv.Value.ActiveRootId == oldRoot.ID);
        Assert.DoesNotContain(true, lagging.Values);
    }

    // SPEC §5 items 13 and 15 (Consul #10682, #14888): one field of the primary's real answer broken at a time.
    public static TheoryData<string> MalformedPrimaryRoots => ["empty trust domain", "no active root", "active root id not listed", "active root pem unparseable",
        "active root pem swapped, id kept", "unrelated root in the pinned trust domain", "another trust domain"];

    // A root nobody in the federation made: a fresh key, self-signed, in the given trust domain.
    private static CaRootDto ForeignRoot(string trustDomainHost)
    {
        using var key = Meridian.Pki.CaKeyPair.Generate(CaConfiguration.Default.KeySpec);
        var pem = Meridian.Pki.CaCertificates.CreateRoot(key, Meridian.Core.Identity.TrustDomain.Parse(trustDomainHost), 7, DateTimeOffset.UtcNow, TimeSpan.FromDays(30));
        var info = Meridian.Pki.CertificateInfo.Parse(pem);
        return new CaRootDto { ID = info.Id, Name = "foreign", RootCert = pem, Active = true, NotBefore = info.NotBefore, NotAfter = info.NotAfter };
    }

    private static (CaRootListDto Roots, string Reason) Break(CaRootListDto roots, string how) => how switch
    {
        "empty trust domain" => (roots with { TrustDomain = "" }, "trust domain from primary datacenter is not initialized"),
        "no active root" => (roots with { Roots = [.. roots.Roots.Select(r => r with { Active = false })] }, "primary datacenter roots have no active root"),
        "active root id not listed" => (roots with { ActiveRootID = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33" },
            "primary datacenter roots have no active root"),
        "active root pem unparseable" => (roots with
        {
            Roots = [.. roots.Roots.Select(r => r.Active ? r with { RootCert = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n" } : r)],
        }, "primary datacenter roots are invalid: "),
        // The pin trusts root IDs: a root that claims a trusted ID with another certificate never passes.
        "active root pem swapped, id kept" => (roots with
        {
            Roots = [.. roots.Roots.Select(r => r.Active ? r with { RootCert = ForeignRoot(roots.TrustDomain).RootCert } : r)],
        }, "is not their certificate's"),
        // Issue 12 §3: same trust domain, but no trusted root cross-signed the new active root (not what `ca rotate` makes).
        "unrelated root in the pinned trust domain" => ForeignRoot(roots.TrustDomain) is var foreign
            ? (roots with { ActiveRootID = foreign.ID, Roots = [.. roots.Roots.Select(r => r with { Active = false }), foreign] },
                $"the primary's active root {foreign.ID} is not cross-signed by a root this datacenter trusts")
            : default,
        "another trust domain" => ForeignRoot("0badc0de-0000-4000-8000-000000000000.consul") is var rogue
            ? (roots with { TrustDomain = "0badc0de-0000-4000-8000-000000000000.consul", ActiveRootID = rogue.ID, Roots = [rogue] },
                $"trust domain mismatch: this datacenter is pinned to trust domain {roots.TrustDomain}")
            : default,
        _ => throw new ArgumentOutOfRangeException(nameof(how), how, null),
    };

    // What a secondary publishes: its roots listing (with its intermediates and SigningKeyID) and every silo's signer.
    private static string Published(DatacenterCluster dc, CaRootListDto roots)
        => string.Join("\n", new[] { $"{roots.Index} {roots.ActiveRootID} {roots.TrustDomain}" }
            .Concat(roots.Roots.Select(r => $"{r.ID} {r.Active} {r.SigningKeyID} {r.ModifyIndex} {string.Join(",", r.IntermediateCerts.Select(Ski))}"))
            .Concat(dc.SiloServices.Select(sp => sp.GetRequiredService<LocalSigner>().Current is { } s
                ? $"signer {s.ActiveRootId} {s.RootsIndex} {s.Leaves.SigningKeyId}" : "signer none")));

    [Theory]
    [MemberData(nameof(MalformedPrimaryRoots))]
    public async Task PrepareSync_MalformedPrimaryRoots_IsRefused_NothingPublished_DegradedWithReason(string how)
    {
        var primaryRoots = await fx.FollowedRootsAsync();
        var dc = fx.Dc2; // two silos: both signers must stay as they are
        var (malformed, reason) = Break(primaryRoots, how);
        var before = Published(dc, await dc.Ca.GetRootsAsync());
        var caWrites = dc.Store.Writes.Count(w => w.StateName == CertificateAuthorityGrain.StateName);

        // The root watcher's next healthy round clears Degraded (it polls every PollWait): read the status right after the
        // refusal, and try again should a round land in between.
        var status = new CaStatusDto();
        for (var attempt = 0; attempt < 3 && !status.Degraded.Contains(reason, StringComparison.Ordinal); attempt++)
        {
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => dc.Ca.PrepareSyncAsync(malformed));
            Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
            status = await dc.Ca.GetStatusAsync();
        }
        Assert.Contains(reason, status.Degraded, StringComparison.Ordinal);
        Assert.Equal(("INITIALIZED", primaryRoots.ActiveRootID, primaryRoots.TrustDomain), (status.State, status.ActiveRootID, status.TrustDomain));

        // Nothing was installed, stored or handed to the signers.
        Assert.Equal(before, Published(dc, await dc.Ca.GetRootsAsync()));
        Assert.Equal(caWrites, dc.Store.Writes.Count(w => w.StateName == CertificateAuthorityGrain.StateName));
        var cert = await dc.Certificate(Fresh("svc")).GetAsync();
        Assert.Equal((primaryRoots.ActiveRootID, status.SigningKeyID), (cert.RootID, cert.SigningKeyID));

        // The primary's real answer is accepted again and clears the refusal (the shared datacenter is left healthy).
        var healthy = await dc.Ca.PrepareSyncAsync(primaryRoots);
        Assert.Equal(("Keep", "", "", primaryRoots.ActiveRootID), (healthy.Action, healthy.StagedKeyId, healthy.Status.Degraded, healthy.Status.ActiveRootID));
        Assert.Equal(before, Published(dc, await dc.Ca.GetRootsAsync()));
    }

    [Fact]
    public async Task CaPrivateKeys_NeverLeaveTheirDatacenter()
    {
        // Initialisation (fixture), a rotation and leaf issuance in every datacenter.
        await fx.FollowedRootsAsync();
        foreach (var dc in new[] { fx.Dc1, fx.Dc2, fx.Dc3 }) await dc.Certificate(Fresh("svc")).GetAsync();
        var rotated = await fx.Dc1.Ca.RotateAsync();
        await fx.FollowedRootsAsync();
        foreach (var dc in new[] { fx.Dc1, fx.Dc2, fx.Dc3 }) await dc.Certificate(Fresh("svc")).GetAsync();

        var datacenters = new[] { fx.Dc1, fx.Dc2, fx.Dc3 };
        var keys = datacenters.ToDictionary(dc => dc.Name, dc => dc.OwnPrivateKeys());
        Assert.True(keys["dc1"].Count >= 2, $"dc1 stored {keys["dc1"].Count} CA keys; expected its roots' keys");
        Assert.True(keys["dc2"].Count >= 2 && keys["dc3"].Count >= 2, $"secondaries stored {keys["dc2"].Count} and {keys["dc3"].Count} intermediate keys");

        foreach (var dc in datacenters)
        {
            var rows = dc.Store.Writes.Select(w => (Row: $"{w.StateName} of {w.GrainId}", Text: FederationText.Normalize(w.Text))).ToList();
            foreach (var (owner, owned) in keys.Where(k => k.Key != dc.Name))
            {
                Assert.Empty(owned.Intersect(keys[dc.Name]));
                foreach (var key in owned)
                    Assert.DoesNotContain(rows, r => r.Text.Contains(key, StringComparison.Ordinal));
            }
        }

        // What crossed dc1's client (the secondaries' links): roots, CSRs, signed intermediates, progress reports.
        var serializer = fx.Dc1.GatewayClient.ServiceProvider.GetRequiredService<Serializer>();
        var calls = fx.Dc1.ClientCalls.Where(c => c.Interface.Contains("ICertificateAuthorityGrain", StringComparison.Ordinal)
            || c.Interface.Contains("IIntentionRegistryGrain", StringComparison.Ordinal) || c.Interface.Contains("IDatacenterGrain", StringComparison.Ordinal)).ToList();
        Assert.Contains(calls, c => c.Method.StartsWith("SignIntermediate", StringComparison.Ordinal));
        Assert.Contains(calls, c => c.Method.StartsWith("WaitForRootsChange", StringComparison.Ordinal));
        Assert.Contains(calls, c => c.Method.StartsWith("ReportRotationProgress", StringComparison.Ordinal));
        var allKeys = keys.Values.SelectMany(k => k).ToList();
        foreach (var call in calls)
        {
            var text = string.Join("\n", call.Arguments.Append(call.Result).Where(o => o is not null and not CancellationToken)
                .Select(o => System.Text.Encoding.UTF8.GetString(serializer.SerializeToArray<object>(o!))));
            Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);
            var normalized = FederationText.Normalize(text);
            Assert.DoesNotContain(allKeys, k => normalized.Contains(k, StringComparison.Ordinal));
        }
        Assert.NotEmpty(rotated.Roots);
    }
}
