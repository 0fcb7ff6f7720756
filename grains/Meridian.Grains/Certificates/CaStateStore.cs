using System.Text;
using Meridian.Core.Certificates;
using Orleans.Serialization;
using Orleans.Storage;

namespace Meridian.Grains.Certificates;

/// <summary>
/// The CA grain's persistence: <see cref="CertificateAuthorityState"/> with each root's signing key in memory
/// (<see cref="CaRootState.SigningKeyPem"/>) on one side, two stored records on the other: the state without keys
/// (<see cref="CertificateAuthorityGrain.StateName"/>, written often) and the sealed keys
/// (<see cref="CertificateAuthorityGrain.KeysStateName"/>, written only when the set of keys changes). Unsealing
/// happens here, in memory, at activation.
/// </summary>
internal sealed class CaStateStore(
    IPersistentState<CertificateAuthorityState> stored,
    IPersistentState<CaKeyState> keys,
    IKeySealer sealer,
    DeepCopier<CertificateAuthorityState> copier,
    string datacenter)
{
    private CertificateAuthorityState _live = stored.State;

    /// <summary>The state with keys in memory.</summary>
    public CertificateAuthorityState State => _live;

    /// <summary>True once the CA state was ever written.</summary>
    public bool RecordExists => stored.RecordExists;

    /// <summary>Name of a root's key in <see cref="CaKeyState.Keys"/>.</summary>
    public static string KeyName(CaRootState root) => $"{root.Id}/{root.SigningKeyId}";

    /// <summary>
    /// Opens the stored keys into <see cref="State"/> and moves what an older version stored differently: keys inside
    /// the CA state, or keys stored unsealed before a key-encryption key was configured.
    /// </summary>
    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        var legacy = stored.State.Roots.Any(r => r.SigningKeyPem is not null);
        _live = stored.State;
        Open(_live, keys.State, sealer, datacenter);
        var unsealed = sealer.Seals && keys.State.Keys.Values.Any(b => !SealedKeyFormat.IsSealed(b));
        if (unsealed)
        {
            foreach (var root in _live.Roots.Where(r => r.SigningKeyPem is not null))
                keys.State.Keys[KeyName(root)] = Seal(root);
            await keys.WriteStateAsync(cancellationToken);
        }
        if (legacy) await WriteStateAsync(cancellationToken);
    }

    /// <summary>Reads both records again (a failed operation drops its half-applied changes).</summary>
    public async Task ReadStateAsync()
    {
        await stored.ReadStateAsync();
        await keys.ReadStateAsync();
        await LoadAsync();
    }

    /// <summary>
    /// Writes the state without keys. A new key is sealed and written first, and a key no root signs with any more is
    /// removed only after the state stops naming it, so a crash between the two writes never loses a key in use.
    /// </summary>
    public async Task WriteStateAsync(CancellationToken cancellationToken = default)
    {
        var inUse = _live.Roots.Where(r => r.SigningKeyPem is not null).ToDictionary(KeyName);
        var added = inUse.Where(k => !keys.State.Keys.ContainsKey(k.Key)).ToList();
        foreach (var (name, root) in added) keys.State.Keys[name] = Seal(root);
        if (added.Count > 0) await keys.WriteStateAsync(cancellationToken);

        var copy = copier.Copy(_live);
        foreach (var root in copy.Roots) root.SigningKeyPem = null;
        stored.State = copy;
        await stored.WriteStateAsync(cancellationToken);

        var removed = keys.State.Keys.Keys.Where(k => !inUse.ContainsKey(k)).ToList();
        foreach (var name in removed) keys.State.Keys.Remove(name);
        if (removed.Count > 0) await keys.WriteStateAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the CA state with its keys opened straight from storage, as a silo's signer does (never through a grain
    /// call, which any client of the cluster could make).
    /// </summary>
    public static async Task<CertificateAuthorityState?> ReadAsync(IGrainStorage storage, GrainId ca, IKeySealer sealer, string datacenter)
    {
        var state = new GrainState<CertificateAuthorityState>();
        await storage.ReadStateAsync(CertificateAuthorityGrain.StateName, ca, state);
        if (state.State is null) return null;
        var sealedKeys = new GrainState<CaKeyState>();
        await storage.ReadStateAsync(CertificateAuthorityGrain.KeysStateName, ca, sealedKeys);
        Open(state.State, sealedKeys.State ?? new(), sealer, datacenter);
        return state.State;
    }

    private static void Open(CertificateAuthorityState state, CaKeyState sealedKeys, IKeySealer sealer, string datacenter)
    {
        foreach (var root in state.Roots)
        {
            if (!sealedKeys.Keys.TryGetValue(KeyName(root), out var blob)) continue;
            try
            {
                root.SigningKeyPem = Encoding.UTF8.GetString(sealer.Unseal(blob, Purpose(datacenter, root)));
            }
            catch (KeySealingException e)
            {
                // A MeridianException so the caller of the failed activation gets the text (Core's type has no codec).
                throw new MeridianException(
                    $"The CA key of root {root.Id} in datacenter {datacenter} cannot be opened: {e.Message}. Set Meridian:Ca:KeyEncryptionKeyFile to the key-encryption key file this datacenter's keys were sealed with.", MeridianErrorKind.Unavailable);
            }
        }
    }

    private byte[] Seal(CaRootState root) => sealer.Seal(Encoding.UTF8.GetBytes(root.SigningKeyPem!), Purpose(datacenter, root));

    // Bound to the blob as associated data: a blob copied to another root or datacenter does not open.
    private static string Purpose(string datacenter, CaRootState root) => $"meridian.ca.key/{datacenter}/{KeyName(root)}";
}
