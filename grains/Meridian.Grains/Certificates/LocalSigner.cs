using Meridian.Core.Certificates;
using Meridian.Core.Identity;
using Meridian.Pki;

namespace Meridian.Grains.Certificates;

/// <summary>
/// This silo's leaf signer for its datacenter: the signing key held in memory, rebuilt whenever the CA's roots index
/// moves. Signing runs on the caller's thread with no lock and no grain call (serials come from a reserved block),
/// so every core signs in parallel.
/// </summary>
public sealed class LocalSigner(IGrainFactory grains, SerialAllocator serials, DatacenterContext datacenter, TimeProvider clock)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Signer? _current;
    private TaskCompletionSource _replaced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The current signer, or null before the first load.</summary>
    public Signer? Current => _current;

    /// <summary>
    /// Completes the next time <see cref="Current"/> is replaced (rotation, configuration change). Take it before
    /// reading <see cref="Current"/> so a replacement in between is not missed.
    /// </summary>
    public Task Replaced => Volatile.Read(ref _replaced).Task;

    /// <summary>Returns the current signer, loading it from the CA grain (which initialises the CA if needed) the first time.</summary>
    public async Task<Signer> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_current is { } s) return s;
        await RefreshAsync(0, cancellationToken);
        return _current!;
    }

    /// <summary>Reloads the signing material unless the current signer already reflects <paramref name="rootsIndex"/>.</summary>
    public async Task RefreshAsync(ulong rootsIndex, CancellationToken cancellationToken = default)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } cur && rootsIndex != 0 && cur.RootsIndex >= rootsIndex) return;
            var material = await grains.GetGrain<ICertificateAuthorityGrain>(datacenter.Datacenter).GetSigningMaterialAsync(cancellationToken);
            _current = Build(material);
            Interlocked.Exchange(ref _replaced, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Issues a leaf for a key generated in this silo (the fast path).</summary>
    public async Task<(SignedLeaf Leaf, Signer Signer)> SignAsync(SpiffeId id, byte[] publicKeyDer, CancellationToken cancellationToken = default)
    {
        var signer = await GetAsync(cancellationToken);
        await serials.ReserveAsync(cancellationToken);
        return (signer.Leaves.Sign(new LeafRequest(id, publicKeyDer), clock.GetUtcNow()), signer);
    }

    /// <summary>Signs a workload's CSR after Consul's rate limit and checks.</summary>
    public async Task<(SignedLeaf Leaf, Signer Signer)> SignCsrAsync(string csrPem, CancellationToken cancellationToken = default)
    {
        var signer = await GetAsync(cancellationToken);
        var wait = signer.CsrLimit.TryTake(clock.GetUtcNow(), TokenBucket.MaxWait) ?? throw new RateLimitedException();
        if (wait > TimeSpan.Zero) await Task.Delay(wait, clock, cancellationToken);
        await serials.ReserveAsync(cancellationToken);
        return (signer.Leaves.SignCsr(csrPem, clock.GetUtcNow()), signer);
    }

    private Signer Build(SigningMaterialDto m)
    {
        if (string.IsNullOrEmpty(m.SigningKeyPem))
            throw new CaNotInitializedException("CA is uninitialized and unable to sign certificates yet: provider is nil");
        // NOTE: the key is not disposed when a newer signer replaces this one: in-flight signs may still use it.
        var key = CaKeyPair.FromPem(m.SigningKeyPem);
        var leaves = new LeafSigner(key, m.SigningCertPem, m.RootCertPem, m.ChainPems, DatacenterName.Parse(datacenter.Datacenter),
            m.LeafCertTTL, serials.Next);
        return new Signer(leaves, m.ActiveRootID, m.RootsIndex, TrustDomain.Parse(m.TrustDomain), new TokenBucket(m.CsrMaxPerSecond));
    }

    /// <summary>One generation of signing material.</summary>
    public sealed record Signer(LeafSigner Leaves, string ActiveRootId, ulong RootsIndex, TrustDomain TrustDomain, TokenBucket CsrLimit);
}

/// <summary>Keeps <see cref="LocalSigner"/> current: long-polls the CA's roots and reloads on every change (rotation, TTL change).</summary>
public sealed class LocalSignerSync(
    IGrainFactory grains, LocalSigner signer, DatacenterContext datacenter, TimeProvider clock,
    Microsoft.Extensions.Logging.ILogger<LocalSignerSync> logger) : Hosting.SiloLoop(clock, logger)
{
    /// <inheritdoc />
    protected override string Name => "ca-signer-sync";

    /// <inheritdoc />
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var ca = grains.GetGrain<ICertificateAuthorityGrain>(datacenter.Datacenter);
        if (signer.Current is null)
        {
            await ca.InitializeAsync(cancellationToken);
            if (datacenter.IsPrimary) await signer.RefreshAsync(0, cancellationToken);
            else { await Task.Delay(TimeSpan.FromSeconds(30), Clock, cancellationToken); return; } // TODO(#5)
        }
        var roots = await ca.WaitForRootsChangeAsync(signer.Current!.RootsIndex, TimeSpan.FromMinutes(5), cancellationToken);
        if (roots.Index != signer.Current.RootsIndex) await signer.RefreshAsync(roots.Index, cancellationToken);
    }
}
