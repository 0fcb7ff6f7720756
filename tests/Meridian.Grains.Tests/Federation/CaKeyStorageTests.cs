using System.Text;
using Meridian.Core.Certificates;
using Meridian.Grains.Certificates;
using Meridian.Pki;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace Meridian.Grains.Tests.Federation;

/// <summary>How the CA's private keys are stored: sealed, apart from the often written CA state, leaves never.</summary>
public sealed class CaKeyStorageTests
{
    private static Action<IServiceCollection> Sealed(byte[] kek) => s => s.AddSingleton(KeySealers.Create(kek));

    [Fact]
    public async Task ReserveSerials_ManyBlocks_NeverWritesAKey()
    {
        await using var dc = await DatacenterCluster.StartAsync("dc1", "dc1", services: Sealed(KeySealers.NewKeyEncryptionKey()));
        await dc.Ca.InitializeAsync();
        var before = dc.Store.Writes.Count;

        for (var i = 0; i < 5; i++) await dc.Ca.ReserveSerialsAsync(100);

        var writes = dc.Store.Writes.Skip(before).ToList();
        Assert.Equal(5, writes.Count);
        Assert.All(writes, w => Assert.Equal(CertificateAuthorityGrain.StateName, w.StateName));
        Assert.All(writes, w => Assert.All(((CertificateAuthorityState)w.State).Roots, r => Assert.Null(r.SigningKeyPem)));
        Assert.All(writes, w => Assert.DoesNotContain("PRIVATE KEY", w.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task SealedKeys_InitialiseRotateAndIssue_StoreHoldsNoKeyAndOneSealedBlobPerKey()
    {
        var kek = KeySealers.NewKeyEncryptionKey();
        await using var dc = await DatacenterCluster.StartAsync("dc1", "dc1", services: Sealed(kek));
        await dc.Ca.InitializeAsync();
        var leaf1 = await dc.Certificate("web").GetAsync();
        var rotated = await dc.Ca.RotateAsync();
        await dc.WaitForSignersOnRootAsync(rotated.ActiveRootID);
        var leaf2 = await dc.Certificate("api").GetAsync();

        Assert.Equal(rotated.ActiveRootID, leaf2.RootID);
        Assert.All(dc.Store.Writes, w => Assert.DoesNotContain("PRIVATE KEY", w.Text, StringComparison.Ordinal));
        // Leaf keys are handed to the caller and never stored (README: "leaf private keys are never stored").
        foreach (var leaf in new[] { leaf1, leaf2 })
        {
            var body = Assert.Single(FederationText.PrivateKeyBodies(leaf.PrivateKeyPEM));
            Assert.DoesNotContain(dc.Store.Writes, w => FederationText.Normalize(w.Text).Contains(body, StringComparison.Ordinal));
        }
        // Each key was written sealed once when it was made (and once more when the old one was dropped).
        var keyWrites = dc.Store.Writes.Where(w => w.StateName == CertificateAuthorityGrain.KeysStateName).Select(w => (CaKeyState)w.State).ToList();
        Assert.Equal(3, keyWrites.Count);
        var blobs = keyWrites.SelectMany(k => k.Keys).GroupBy(k => k.Key).ToList();
        Assert.Equal(2, blobs.Count);
        Assert.All(blobs.SelectMany(g => g), b => Assert.True(SealedKeyFormat.IsSealed(b.Value)));
        Assert.Single(keyWrites[^1].Keys);
        var sealer = KeySealers.Create(kek);
        var (name, blob) = keyWrites[^1].Keys.Single();
        var pem = Encoding.UTF8.GetString(sealer.Unseal(blob, $"meridian.ca.key/dc1/{name}"));
        Assert.Contains("PRIVATE KEY", pem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StateWithKeyInside_WrittenByAnOlderVersion_IsSealedAtActivationAndStillSigns()
    {
        var store = new DatacenterStore("dc1");
        var kek = KeySealers.NewKeyEncryptionKey();
        string rootId;
        await using (var old = await DatacenterCluster.StartAsync("dc1", "dc1", store: store))
        {
            rootId = (await old.Ca.InitializeAsync()).ActiveRootID;
        }
        // What an older version stored: the key inside the CA state and no key record.
        var ca = store.Writes.Last(w => w.StateName == CertificateAuthorityGrain.StateName);
        var keyBlob = ((CaKeyState)store.Writes.Last(w => w.StateName == CertificateAuthorityGrain.KeysStateName).State).Keys.Single();
        var legacy = (CertificateAuthorityState)ca.State;
        legacy.Roots.Single().SigningKeyPem = Encoding.UTF8.GetString(KeySealers.Unsealed.Unseal(keyBlob.Value, ""));
        var legacyStore = new DatacenterStore("dc1");
        await using (var writer = await DatacenterCluster.StartAsync("dcx", "dcx"))
        {
            var serializer = writer.SiloServices.First().GetRequiredKeyedService<IGrainStorageSerializer>(MeridianStorage.Name);
            legacyStore.Write(CertificateAuthorityGrain.StateName, ca.GrainId, null, serializer.Serialize(legacy).ToArray(), typeof(CertificateAuthorityState), legacy);
        }

        await using var dc = await DatacenterCluster.StartAsync("dc1", "dc1", store: legacyStore, services: Sealed(kek));
        var leaf = await dc.Certificate("web").GetAsync();

        Assert.Equal(rootId, leaf.RootID);
        var after = legacyStore.Writes.Skip(1).ToList();
        Assert.Contains(after, w => w.StateName == CertificateAuthorityGrain.KeysStateName);
        Assert.All(after, w => Assert.DoesNotContain("PRIVATE KEY", w.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongKeyEncryptionKey_Activation_FailsNamingTheOption()
    {
        var store = new DatacenterStore("dc1");
        await using (var first = await DatacenterCluster.StartAsync("dc1", "dc1", store: store, services: Sealed(KeySealers.NewKeyEncryptionKey())))
        {
            await first.Ca.InitializeAsync();
        }
        var wrong = KeySealers.NewKeyEncryptionKey();

        await using var dc = await DatacenterCluster.StartAsync("dc1", "dc1", store: store, services: Sealed(wrong));
        var e = await Assert.ThrowsAnyAsync<Exception>(() => dc.Ca.GetStatusAsync());

        Assert.Contains("Meridian:Ca:KeyEncryptionKeyFile", e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(wrong), e.ToString(), StringComparison.Ordinal);
    }
}
