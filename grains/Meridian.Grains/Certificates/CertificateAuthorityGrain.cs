using System.Collections.Immutable;
using Meridian.Core.Certificates;
using Meridian.Core.Federation;
using Meridian.Core.Identity;
using Meridian.Pki;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>
/// The datacenter's CA manager; see <see cref="ICertificateAuthorityGrain"/>. Consul's state machine (SPEC §3.7)
/// guards initialisation, rotation and reconfiguration. The private key stays in this grain's storage, sealed (see
/// <see cref="CaStateStore"/>), and in this datacenter's silos' memory.
/// </summary>
public sealed partial class CertificateAuthorityGrain(
    [PersistentState(CertificateAuthorityGrain.StateName, MeridianStorage.Name)] IPersistentState<CertificateAuthorityState> stored,
    [PersistentState(CertificateAuthorityGrain.KeysStateName, MeridianStorage.Name)] IPersistentState<CaKeyState> keys,
    IKeySealer sealer,
    Orleans.Serialization.DeepCopier<CertificateAuthorityState> copier,
    DatacenterContext datacenter,
    CaConfiguration bootstrapConfiguration,
    FederationMembers members,
    LocalSigner localSigner,
    Hosting.SiloStopping stopping,
    TimeProvider clock,
    CaMaintenanceSettings maintenance,
    ILogger<CertificateAuthorityGrain> logger) : Grain, ICertificateAuthorityGrain
{
    /// <summary>Name of the grain's persisted state (silos read the signing key from it directly).</summary>
    public const string StateName = "ca";

    /// <summary>Name of the grain's persisted, sealed private keys (<see cref="CaKeyState"/>).</summary>
    public const string KeysStateName = "ca-keys";

    /// <summary>Consul's root name for the built-in provider.</summary>
    public const string RootName = "Consul CA Primary Cert";

    private readonly ChangeSignal _changed = new(stopping);
    private CaStateStore state = null!;
    private CertificateAuthorityState S => state.State;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Opens the sealed keys in memory; a wrong key-encryption key fails the activation here, naming the option.
        state = new CaStateStore(stored, keys, sealer, copier, datacenter.Datacenter);
        await state.LoadAsync(cancellationToken);
        if (!state.RecordExists) S.Config = ToState(bootstrapConfiguration);
        // A crash in the middle of an operation leaves a busy state behind; the operation did not complete.
        if (Parse(S.State).IsBusy()) S.State = Active() is null ? CaManagerState.Uninitialized.WireName() : CaManagerState.Initialized.WireName();
        this.RegisterGrainTimer(PruneRootsAsync, new GrainTimerCreationOptions
        {
            DueTime = maintenance.PruneInterval, Period = maintenance.PruneInterval, KeepAlive = true, Interleave = false,
        });
    }

    /// <inheritdoc />
    public async Task<CaStatusDto> InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (Active() is not null) return Status();
        if (!datacenter.IsPrimary)
        {
            // A secondary initialises from the primary's roots, which its RootWatcherGrain fetches and hands in (PrepareSyncAsync, InstallIntermediateAsync).
            await GrainFactory.GetGrain<IRootWatcherGrain>(datacenter.Datacenter).EnsureRunningAsync(cancellationToken);
            return Status();
        }
        await RunAsync(CaManagerState.Initializing, async () =>
        {
            S.ClusterId = Guid.NewGuid().ToString();
            var config = Config();
            using var key = CaKeyPair.Generate(config.KeySpec);
            var now = clock.GetUtcNow();
            var rootPem = CaCertificates.CreateRoot(key, TrustDomainOf(), NextSerial(), now, config.RootCertTtl);
            S.Index++;
            S.Roots.Add(NewRoot(rootPem, key, []));
            await state.WriteStateAsync(cancellationToken);
            LogInitialized(logger, datacenter.Datacenter, S.Roots[^1].Id);
        });
        return Status();
    }

    /// <inheritdoc />
    public Task<CaRootListDto> GetRootsAsync(CancellationToken cancellationToken = default) => Task.FromResult(Roots());

    /// <inheritdoc />
    public async Task<CaRootListDto> WaitForRootsChangeAsync(ulong afterIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        if (afterIndex == S.Index) await _changed.WaitAsync(ChangeSignal.Clamp(maxWait), clock, cancellationToken);
        return Roots();
    }

    /// <inheritdoc />
    public Task<CaConfigurationDto> GetConfigurationAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigDto());

    /// <inheritdoc />
    public async Task<CaConfigurationDto> SetConfigurationAsync(CaConfigurationDto configuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        EnsurePrimary();
        var requested = CaConfiguration.Create(new CaConfigurationInput(
            GoDuration.Format(configuration.LeafCertTTL), GoDuration.Format(configuration.IntermediateCertTTL),
            GoDuration.Format(configuration.RootCertTTL), configuration.PrivateKeyType, configuration.PrivateKeyBits,
            configuration.CSRMaxPerSecond, configuration.CSRMaxConcurrent));
        var current = Config();
        if (requested == current) return ConfigDto(); // Consul: a deep-equal configuration is a no-op
        await InitializeAsync(cancellationToken);
        if (requested.KeySpec != current.KeySpec)
        {
            // Consul: a different key type or size gives a new root, cross-signed by the old one.
            S.Config = ToState(requested);
            await RotateCoreAsync(cancellationToken);
        }
        else
        {
            await RunAsync(CaManagerState.Reconfiguring, async () =>
            {
                S.Config = ToState(requested);
                S.Index++;
                await state.WriteStateAsync(cancellationToken);
            });
        }
        LogConfigUpdated(logger, datacenter.Datacenter, S.Index);
        _changed.Notify();
        return ConfigDto();
    }

    /// <inheritdoc />
    public async Task<CaRootListDto> RotateAsync(CancellationToken cancellationToken = default)
    {
        EnsurePrimary();
        await InitializeAsync(cancellationToken);
        await RotateCoreAsync(cancellationToken);
        return Roots();
    }

    /// <inheritdoc />
    public Task<CaStatusDto> GetStatusAsync(CancellationToken cancellationToken = default) => Task.FromResult(Status());

    /// <inheritdoc />
    public Task<CaOverviewDto> GetState() =>
        Task.FromResult(new CaOverviewDto { Status = Status(), Roots = Roots(), Configuration = ConfigDto() });

    /// <inheritdoc />
    public async Task<SerialBlockDto> ReserveSerialsAsync(int count, CancellationToken cancellationToken = default)
    {
        if (count is < 1 or > 65_536) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be 1..65536");
        var first = S.SerialHighWater + 1;
        S.SerialHighWater += (ulong)count;
        await state.WriteStateAsync(cancellationToken); // durable first: a serial is never handed out twice
        return new SerialBlockDto(first, count);
    }

    private async Task RotateCoreAsync(CancellationToken ct)
    {
        await RunAsync(CaManagerState.Reconfiguring, async () =>
        {
            var old = Active()!;
            var config = Config();
            var now = clock.GetUtcNow();
            using var oldKey = CaKeyPair.FromPem(old.SigningKeyPem!);
            using var newKey = CaKeyPair.Generate(config.KeySpec);
            var newRootPem = CaCertificates.CreateRoot(newKey, TrustDomainOf(), NextSerial(), now, config.RootCertTtl);
            // The old key vouches for the new root, so peers that still trust only the old root accept new leaves.
            var crossSigned = CaCertificates.CrossSign(oldKey, old.RootCertPem, newRootPem, NextSerial(), now, config.LeafCertTtl);
            S.Index++;
            old.Active = false;
            old.RotatedOutAt = now;
            old.SigningKeyPem = null; // its only remaining job (cross-signing) is done
            old.ModifyIndex = S.Index;
            S.Roots.Add(NewRoot(newRootPem, newKey, [crossSigned]));
            await state.WriteStateAsync(ct);
            LogRotated(logger, datacenter.Datacenter, old.Id, S.Roots[^1].Id);
        });
        _changed.Notify();
    }

    private async Task PruneRootsAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        // Meridian: an old root goes only after 2 x leaf TTL AND once every known secondary reports its certificates
        // on the active root (Linkerd's early prune cut traffic). Secondaries themselves have no secondaries.
        var migrated = !datacenter.IsPrimary || AllSecondariesMigrated(Active()?.Id ?? "");
        var pruned = S.Roots.RemoveAll(r => !r.Active
            && RootRetention.CanPrune(now, r.RotatedOutAt, S.Config.LeafCertTtl, migrated).CanPrune);
        // SPEC §5 item 11 (Consul #8681): an expired cross-signed intermediate is already left out of leaf chains; drop it
        // from the roots list too, so `ca roots` and the secondaries stop serving it before the next rotation. The
        // signing certificate stays even when expired: status reports that (SigningCaExpiry), and the chain stays whole.
        var trimmed = S.Roots.Where(r => r.IntermediateCertPems.Any(p => p != r.SigningCertPem && ChainVerifier.IsExpired(p, now))).ToList();
        if (pruned == 0 && trimmed.Count == 0) return;
        S.Index++;
        foreach (var r in trimmed)
        {
            r.IntermediateCertPems = [.. r.IntermediateCertPems.Where(p => p == r.SigningCertPem || !ChainVerifier.IsExpired(p, now))];
            r.ModifyIndex = S.Index;
        }
        await state.WriteStateAsync(ct);
        if (trimmed.Count > 0) LogIntermediatesPruned(logger, datacenter.Datacenter, trimmed.Count, S.Index);
        // This silo's signer drops the expired certificate from new chains at once; other silos follow through their long-poll.
        if (SigningMaterial.From(S) is { } material) localSigner.Install(material);
        _changed.Notify();
    }

    // Consul's mutual exclusion: one CA operation at a time; a failed one leaves the previous state.
    private async Task RunAsync(CaManagerState operation, Func<Task> body)
    {
        var begun = CaStateMachine.TryBegin(Parse(S.State), operation);
        if (!begun.Succeeded) throw new InvalidOperationException(begun.Error);
        S.State = begun.Current.WireName();
        try
        {
            await body();
            S.State = CaStateMachine.Complete(begun, succeeded: true).WireName();
            // This silo signs with the new material at once; other silos follow through their roots long-poll.
            if (SigningMaterial.From(S) is { } material) localSigner.Install(material);
        }
        catch
        {
            // Drop half-applied changes: memory goes back to what storage holds.
            await state.ReadStateAsync();
            // Nothing stored yet: the reload gave defaults, so put back the configured bootstrap (as activation does);
            // otherwise a failed first initialisation would silently retry with a key type nobody configured.
            if (!state.RecordExists) S.Config = ToState(bootstrapConfiguration);
            S.State = CaStateMachine.Complete(begun, succeeded: false).WireName();
            LogOperationFailed(logger, datacenter.Datacenter, operation.WireName());
            throw;
        }
    }

    // The primary's own root signs leaves itself.
    private CaRootState NewRoot(string rootPem, CaKeyPair key, List<string> intermediates) => ActiveRoot(rootPem, RootName, intermediates, rootPem, key);

    // One active root entry: the root, its chain, and the certificate and key that sign leaves here (the root itself in
    // the primary, this datacenter's intermediate in a secondary). Type and size are the root's key's.
    private CaRootState ActiveRoot(string rootPem, string name, List<string> intermediates, string signingCertPem, CaKeyPair signingKey)
    {
        var root = CertificateInfo.Parse(rootPem);
        return new CaRootState
        {
            Id = root.Id,
            Name = name,
            SerialNumber = (ulong)root.SerialValue,
            RootCertPem = rootPem,
            IntermediateCertPems = intermediates,
            SigningCertPem = signingCertPem,
            SigningKeyPem = signingKey.ToPem(),
            SigningKeyId = CertificateInfo.Parse(signingCertPem).SubjectKeyId,
            Active = true,
            NotBefore = root.NotBefore,
            NotAfter = root.NotAfter,
            ExternalTrustDomain = S.ClusterId,
            PrivateKeyType = root.KeySpec?.TypeName ?? "",
            PrivateKeyBits = root.KeySpec?.Bits ?? 0,
            CreateIndex = S.Index,
            ModifyIndex = S.Index,
        };
    }

    private ulong NextSerial() => ++S.SerialHighWater;

    private CaRootState? Active() => S.Roots.FirstOrDefault(r => r.Active);

    private TrustDomain TrustDomainOf() => new(S.ClusterId);

    private CaConfiguration Config() => new()
    {
        LeafCertTtl = S.Config.LeafCertTtl,
        IntermediateCertTtl = S.Config.IntermediateCertTtl,
        RootCertTtl = S.Config.RootCertTtl,
        PrivateKeyType = CaKeyTypes.TryParse(S.Config.PrivateKeyType, out var t) ? t : CaKeyType.Ec,
        PrivateKeyBits = S.Config.PrivateKeyBits,
        CsrMaxPerSecond = S.Config.CsrMaxPerSecond,
        CsrMaxConcurrent = S.Config.CsrMaxConcurrent,
    };

    private static CaConfigState ToState(CaConfiguration c) => new()
    {
        LeafCertTtl = c.LeafCertTtl,
        IntermediateCertTtl = c.IntermediateCertTtl,
        RootCertTtl = c.RootCertTtl,
        PrivateKeyType = c.PrivateKeyType.ToWireName(),
        PrivateKeyBits = c.PrivateKeyBits,
        CsrMaxPerSecond = c.CsrMaxPerSecond,
        CsrMaxConcurrent = c.CsrMaxConcurrent,
    };

    private CaConfigurationDto ConfigDto() => new()
    {
        Provider = "consul",
        LeafCertTTL = S.Config.LeafCertTtl,
        IntermediateCertTTL = S.Config.IntermediateCertTtl,
        RootCertTTL = S.Config.RootCertTtl,
        PrivateKeyType = S.Config.PrivateKeyType,
        PrivateKeyBits = S.Config.PrivateKeyBits,
        CSRMaxPerSecond = (int)Math.Ceiling(S.Config.CsrMaxPerSecond),
        CSRMaxConcurrent = S.Config.CsrMaxConcurrent,
        ClusterID = S.ClusterId,
        ModifyIndex = S.Index,
    };

    private CaRootListDto Roots() => new()
    {
        ActiveRootID = Active()?.Id ?? "",
        TrustDomain = string.IsNullOrEmpty(S.ClusterId) ? "" : TrustDomainOf().Host,
        Index = S.Index,
        Roots = [.. S.Roots.Select(r => new CaRootDto
        {
            ID = r.Id,
            Name = r.Name,
            SerialNumber = r.SerialNumber,
            SigningKeyID = r.SigningKeyId,
            ExternalTrustDomain = r.ExternalTrustDomain,
            NotBefore = r.NotBefore,
            NotAfter = r.NotAfter,
            RootCert = r.RootCertPem,
            IntermediateCerts = [.. r.IntermediateCertPems],
            Active = r.Active,
            PrivateKeyType = r.PrivateKeyType,
            PrivateKeyBits = r.PrivateKeyBits,
            CreateIndex = r.CreateIndex,
            ModifyIndex = r.ModifyIndex,
            RotatedOutAt = r.RotatedOutAt,
        })],
    };

    private CaStatusDto Status()
    {
        var root = Active();
        return new CaStatusDto
        {
            State = S.State,
            ActiveRootID = root?.Id ?? "",
            TrustDomain = string.IsNullOrEmpty(S.ClusterId) ? "" : TrustDomainOf().Host,
            ActiveRootExpiry = root?.NotAfter,
            SigningCaExpiry = root is null ? null : CertificateInfo.Parse(root.SigningCertPem).NotAfter,
            SigningKeyID = root?.SigningKeyId ?? "",
            Degraded = string.Join("; ", new[] { _degraded, SigningCaProblem(root) }.Where(d => d.Length > 0)),
        };
    }

    // SPEC §5 items 6, 12: a signing CA that is running out (failed intermediate renewal, root due for rotation) is loud.
    private string SigningCaProblem(CaRootState? root)
    {
        if (root is null) return "";
        var signing = CertificateInfo.Parse(root.SigningCertPem);
        var kind = root.SigningCertPem == root.RootCertPem ? SigningCaKind.Root : SigningCaKind.Intermediate;
        return SigningCaExpiry.Problem(clock.GetUtcNow(), signing.NotBefore, signing.NotAfter, kind);
    }

    private void EnsurePrimary()
    {
        if (!datacenter.IsPrimary)
            throw new NotPrimaryDatacenterException(datacenter.PrimaryDatacenter,
                $"the CA root is managed in the primary datacenter {datacenter.PrimaryDatacenter}, not in {datacenter.Datacenter}");
    }

    private static CaManagerState Parse(string wire)
        => Enum.GetValues<CaManagerState>().FirstOrDefault(s => s.WireName() == wire, CaManagerState.Uninitialized);

    [LoggerMessage(EventId = MeridianEventIds.CaInitialized, Level = LogLevel.Information,
        Message = "Initialized the CA of {Datacenter} with root {RootId}")]
    private static partial void LogInitialized(ILogger logger, string datacenter, string rootId);

    [LoggerMessage(EventId = MeridianEventIds.CaRotated, Level = LogLevel.Information,
        Message = "Rotated root in {Datacenter} from {OldRootId} to {NewRootId}")]
    private static partial void LogRotated(ILogger logger, string datacenter, string oldRootId, string newRootId);

    [LoggerMessage(EventId = MeridianEventIds.CaConfigUpdated, Level = LogLevel.Information,
        Message = "CA configuration of {Datacenter} updated at index {Index}")]
    private static partial void LogConfigUpdated(ILogger logger, string datacenter, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.CaIntermediatesPruned, Level = LogLevel.Information,
        Message = "Dropped expired intermediates from {RootCount} root(s) of {Datacenter} at roots index {Index}")]
    private static partial void LogIntermediatesPruned(ILogger logger, string datacenter, int rootCount, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.CaInitializeFailed, Level = LogLevel.Warning,
        Message = "CA operation {Operation} failed in {Datacenter}; the previous state was kept")]
    private static partial void LogOperationFailed(ILogger logger, string datacenter, string operation);
}
