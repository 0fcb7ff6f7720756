using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Meridian.Core.Certificates;
using Meridian.Core.Identity;
using Meridian.Pki;

namespace Meridian.Grains.Certificates;

/// <summary>
/// This silo's leaf signer for its datacenter: the signing key held in memory, rebuilt whenever the CA's roots index
/// moves. Signing runs on the caller's thread with no lock and no grain call (serials come from a reserved block),
/// so every core signs in parallel.
/// </summary>
public sealed class LocalSigner(
    IGrainFactory grains,
    [FromKeyedServices(MeridianStorage.Name)] IGrainStorage storage,
    SerialAllocator serials,
    DatacenterContext datacenter,
    IKeySealer sealer,
    TimeProvider clock,
    Diagnostics.MeridianInstruments instruments)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly SemaphoreSlim _leasing = new(1, 1);
    // A lease covers a tenth of a second of the rate; its tokens stay usable that long after their time.
    private static readonly TimeSpan LeasePeriod = TimeSpan.FromMilliseconds(100);

    private readonly LeasedSlots _slots = new(LeasePeriod);
    private readonly Lock _installLock = new();
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
            // The key is read from this datacenter's own storage, never through a grain call (which any client of the
            // cluster could make). The CA grain persists before it announces a change, so storage is current.
            var ca = grains.GetGrain<ICertificateAuthorityGrain>(datacenter.Datacenter);
            await ca.InitializeAsync(cancellationToken);
            var stored = await CaStateStore.ReadAsync(storage, ca.GetGrainId(), sealer, datacenter.Datacenter);
            var material = stored is { } state ? SigningMaterial.From(state) : null;
            Replace(material ?? throw new CaNotInitializedException("CA is uninitialized and unable to sign certificates yet: no root certificate"));
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>
    /// Installs material the CA grain of this silo just committed (rotation, new intermediate), so a certificate
    /// requested right after a rotation in this silo is never signed under the old root. Older material is ignored.
    /// </summary>
    internal void Install(SigningMaterial material)
    {
        ArgumentNullException.ThrowIfNull(material);
        lock (_installLock)
        {
            if (_current is { } cur && cur.RootsIndex >= material.RootsIndex) return;
            Replace(material);
        }
    }

    private void Replace(SigningMaterial material)
    {
        var next = Build(material);
        lock (_installLock)
        {
            if (_current is { } cur && cur.RootsIndex > next.RootsIndex) return; // never go back to older material
            _current = next;
            instruments.SetSigner(datacenter.Datacenter, next.ActiveRootId, NotAfter(material.RootCertPem), NotAfter(material.SigningCertPem));
        }
        Interlocked.Exchange(ref _replaced, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Issues a leaf for a key generated in this silo (a service certificate), within the datacenter's CSR limits.</summary>
    public Task<(SignedLeaf Leaf, Signer Signer)> SignAsync(SpiffeId id, byte[] publicKeyDer, CancellationToken cancellationToken = default)
        => CountedAsync(async () =>
        {
            var signer = await GetAsync(cancellationToken);
            using var admitted = await AdmitAsync(signer, cancellationToken);
            await serials.ReserveAsync(cancellationToken);
            return (signer.Leaves.Sign(new LeafRequest(id, publicKeyDer), clock.GetUtcNow()), signer);
        });

    /// <summary>Signs a workload's CSR within the datacenter's CSR limits, after Consul's checks.</summary>
    public Task<(SignedLeaf Leaf, Signer Signer)> SignCsrAsync(string csrPem, CancellationToken cancellationToken = default)
        => CountedAsync(async () =>
        {
            var signer = await GetAsync(cancellationToken);
            using var admitted = await AdmitAsync(signer, cancellationToken);
            await serials.ReserveAsync(cancellationToken);
            return (signer.Leaves.SignCsr(csrPem, clock.GetUtcNow()), signer);
        });

    // Every signing of this silo goes through here: issued, rate-limited or failed (a cancelled caller is none of them).
    private async Task<(SignedLeaf Leaf, Signer Signer)> CountedAsync(Func<Task<(SignedLeaf Leaf, Signer Signer)>> sign)
    {
        try
        {
            var signed = await sign();
            instruments.OnLeafIssued(datacenter.Datacenter);
            return signed;
        }
        catch (RateLimitedException)
        {
            instruments.OnLeafRateLimited(datacenter.Datacenter);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            instruments.OnLeafFailed(datacenter.Datacenter, invalid: e is Core.Validation.DomainValidationException or MeridianValidationException);
            throw;
        }
    }

    // Consul's CA limits, for the whole datacenter (issue 12 §5): CSRMaxPerSecond through tokens leased in batches
    // from the datacenter's ICsrLimiterGrain (the steady state is a local take, no call), else CSRMaxConcurrent through
    // the same grain's permits. A caller waits at most Consul's 500 ms, then gets RateLimitedException with a hint.
    private async Task<Admission> AdmitAsync(Signer signer, CancellationToken ct)
    {
        if (signer.CsrMaxPerSecond > 0)
        {
            var wait = _slots.TryTake(clock.GetUtcNow()) ?? await LeaseAsync(signer.CsrMaxPerSecond, ct);
            if (wait > TimeSpan.Zero) await Task.Delay(wait, clock, ct);
            return default;
        }
        if (signer.CsrMaxConcurrent > 0)
        {
            var limiter = Limiter;
            var permit = await limiter.AcquireAsync(signer.CsrMaxConcurrent, TokenBucket.MaxWait)
                ?? throw new RateLimitedException(TokenBucket.MaxWait);
            return new Admission(limiter, permit);
        }
        return default;
    }

    private async Task<TimeSpan> LeaseAsync(double ratePerSecond, CancellationToken ct)
    {
        // One lease in flight per silo: callers that queued behind it take from the run it brought.
        await _leasing.WaitAsync(ct);
        try
        {
            if (_slots.TryTake(clock.GetUtcNow()) is { } wait) return wait;
            var lease = await Limiter.LeaseAsync(ratePerSecond, BatchSize(ratePerSecond), TokenBucket.MaxWait);
            var now = clock.GetUtcNow();
            if (lease.Count == 0) throw new RateLimitedException(lease.First - now);
            _slots.Add(new SlotRun(lease.First, lease.Interval, lease.Count));
            return _slots.TryTake(now) ?? throw new RateLimitedException(lease.Interval);
        }
        finally
        {
            _leasing.Release();
        }
    }

    // LeasePeriod's worth of tokens per lease (at least 1, at most 1,000): at Consul's default of 50/s a silo asks
    // for 5, so a busy silo calls the limiter about ten times a second and an idle one lets at most 4 tokens lapse.
    private static int BatchSize(double ratePerSecond) => (int)Math.Clamp(Math.Ceiling(ratePerSecond * LeasePeriod.TotalSeconds), 1, 1000);

    private ICsrLimiterGrain Limiter => grains.GetGrain<ICsrLimiterGrain>(datacenter.Datacenter);

    /// <summary>A concurrency permit to give back when the signing is done (none under a rate limit).</summary>
    private readonly struct Admission(ICsrLimiterGrain? limiter, Guid permit) : IDisposable
    {
        public void Dispose() => limiter?.ReleaseAsync(permit).Ignore();
    }

    private static DateTimeOffset NotAfter(string certificatePem)
    {
        using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(certificatePem);
        return new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    }

    private Signer Build(SigningMaterial m)
    {
        // NOTE: the key is not disposed when a newer signer replaces this one: in-flight signs may still use it.
        var key = CaKeyPair.FromPem(m.SigningKeyPem);
        var leaves = new LeafSigner(key, m.SigningCertPem, m.RootCertPem, m.ChainPems, DatacenterName.Parse(datacenter.Datacenter),
            m.LeafCertTtl, serials.Next);
        return new Signer(leaves, m.ActiveRootId, m.RootsIndex, TrustDomain.Parse(m.TrustDomain), m.CsrMaxPerSecond, m.CsrMaxConcurrent);
    }

    /// <summary>One generation of signing material.</summary>
    public sealed record Signer(LeafSigner Leaves, string ActiveRootId, ulong RootsIndex, TrustDomain TrustDomain, double CsrMaxPerSecond, int CsrMaxConcurrent);
}

/// <summary>How a root change is spread over this silo's certificates. Registered by the silo (<c>Meridian:Ca:Reissue*</c>).</summary>
/// <param name="Window">Jitter window for re-issuing after a root change (Consul: 30 s).</param>
/// <param name="MaxPerSecond">Cap on re-issues per second per silo, so the signer is never flooded.</param>
public sealed record ReissueSettings(TimeSpan Window, double MaxPerSecond)
{
    /// <summary>30 s window, at most 2,000 re-issues per second per silo.</summary>
    public static ReissueSettings Default { get; } = new(TimeSpan.FromSeconds(30), 2000);
}

/// <summary>
/// Keeps <see cref="LocalSigner"/> current: long-polls the CA's roots and reloads on every change (rotation, TTL
/// change, a secondary's new intermediate). When the active root changed, puts every certificate activation of this
/// silo on the <see cref="CertificateRenewals"/> schedule at its slot of a rate-limited, jittered re-issue window.
/// </summary>
public sealed partial class LocalSignerSync(
    IGrainFactory grains, LocalSigner signer, CertificateActivations activations, CertificateRenewals renewals,
    ReissueSettings reissue, DatacenterContext datacenter, TimeProvider clock,
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
            var status = await ca.InitializeAsync(cancellationToken);
            if (string.IsNullOrEmpty(status.ActiveRootID))
            {
                // A secondary before its first intermediate: wait for the CA's roots to change.
                await ca.WaitForRootsChangeAsync(0, TimeSpan.FromMinutes(1)).WaitAsync(cancellationToken);
                return;
            }
            await signer.RefreshAsync(0, cancellationToken);
            LogSignerLoaded(logger, datacenter.Datacenter, signer.Current!.RootsIndex, signer.Current.ActiveRootId, Pki.LeafKey.Generator);
        }
        var before = signer.Current!;
        // The stop cancels the wait here, not in the grain: a cancellation sent to a grain of a stopping silo fails and
        // logs an error; the poll itself ends at the stop (SiloStopping).
        var roots = await ca.WaitForRootsChangeAsync(before.RootsIndex, TimeSpan.FromMinutes(5)).WaitAsync(cancellationToken);
        if (roots.Index == before.RootsIndex) return;
        await signer.RefreshAsync(roots.Index, cancellationToken);
        LogSignerLoaded(logger, datacenter.Datacenter, signer.Current!.RootsIndex, signer.Current.ActiveRootId, Pki.LeafKey.Generator);
        if (signer.Current!.ActiveRootId != before.ActiveRootId) ScheduleReissue();
    }

    private void ScheduleReissue()
    {
        var keys = activations.Snapshot();
        if (keys.Count == 0) return;
        var schedule = new Meridian.Core.Certificates.ReissueSchedule(keys.Count, reissue.Window, reissue.MaxPerSecond);
        var now = Clock.GetUtcNow();
        for (var k = 0; k < keys.Count; k++)
            renewals.Schedule(keys[k], now + schedule.DelayFor(k, Random.Shared.NextDouble()));
        LogReissueScheduled(logger, keys.Count, signer.Current!.ActiveRootId, schedule.TotalDuration);
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = MeridianEventIds.SignerRefreshed, Level = Microsoft.Extensions.Logging.LogLevel.Information,
        Message = "Leaf signer of {Datacenter} loaded: roots index {RootsIndex}, active root {ActiveRootId}; leaf keys from {LeafKeyGenerator}")]
    private static partial void LogSignerLoaded(Microsoft.Extensions.Logging.ILogger logger, string datacenter, ulong rootsIndex, string activeRootId, string leafKeyGenerator);

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = MeridianEventIds.ReissueScheduled, Level = Microsoft.Extensions.Logging.LogLevel.Information,
        Message = "Root changed to {ActiveRootId}: {Count} certificates of this silo scheduled for re-issue within {Window}")]
    private static partial void LogReissueScheduled(Microsoft.Extensions.Logging.ILogger logger, int count, string activeRootId, TimeSpan window);
}
