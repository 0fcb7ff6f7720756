using Meridian.Core.Certificates;
using Meridian.Core.Identity;
using Meridian.Core.Validation;
using Meridian.Grains.Hosting;
using Meridian.Pki;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>CA federation (SPEC §3.4, §3.7, §3.8, §3.10): the primary signs intermediates; a secondary follows the primary's root.</summary>
public sealed partial class CertificateAuthorityGrain
{
    // In memory only: why the CA cannot do its job right now (primary refused or unreachable). Empty when healthy.
    private string _degraded = "";

    /// <inheritdoc />
    public async Task<string> SignIntermediateAsync(string csrPem, string requestingDatacenter, CancellationToken cancellationToken = default)
    {
        if (!datacenter.IsPrimary)
            throw new NotPrimaryDatacenterException(datacenter.PrimaryDatacenter, "not the primary datacenter");
        await InitializeAsync(cancellationToken);
        // Issue 12: a CA certificate goes only to a listed secondary, for the trust domain's signing ID and nothing else;
        // every reason to refuse is reported together, before anything is signed or stored.
        List<ValidationProblem> problems = [
            .. members.CheckRequester("datacenter", requestingDatacenter, datacenter.PrimaryDatacenter),
            .. IntermediateCsrRules.Check(csrPem, TrustDomainOf().SigningId)];
        if (problems.Count > 0)
        {
            // The caller's claimed name is logged quoted (ValidationText), so a control character cannot forge a log line.
            LogIntermediateRefused(logger, datacenter.Datacenter, ValidationText.Quote(requestingDatacenter ?? ""),
                string.Join(",", problems.Select(p => p.Code).Distinct()));
            throw new DomainValidationException(problems);
        }
        var root = Active()!;
        using var key = CaKeyPair.FromPem(root.SigningKeyPem!);
        var pem = CaCertificates.SignIntermediate(key, root.RootCertPem, csrPem, NextSerial(), clock.GetUtcNow(), S.Config.IntermediateCertTtl);
        // Known secondaries gate root pruning: an old root stays until each has moved its certificates off it.
        S.Secondaries[requestingDatacenter] = S.Secondaries.TryGetValue(requestingDatacenter, out var known)
            ? known : new SecondaryProgressState();
        await state.WriteStateAsync(cancellationToken);
        LogIntermediateSigned(logger, datacenter.Datacenter, requestingDatacenter, CertificateInfo.Parse(pem).SerialNumber);
        return pem;
    }

    /// <inheritdoc />
    public async Task ReportRotationProgressAsync(RotationProgressDto progress, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (!datacenter.IsPrimary) return;
        // A datacenter outside the federation would otherwise hold old roots back from pruning for ever.
        DomainValidationException.ThrowIfAny(members.CheckRequester("datacenter", progress.Datacenter, datacenter.PrimaryDatacenter));
        S.Secondaries[progress.Datacenter] = new SecondaryProgressState
        {
            ActiveRootId = progress.ActiveRootID, OnActiveRoot = progress.OnActiveRoot, Total = progress.Total, ReportedAt = clock.GetUtcNow(),
        };
        await state.WriteStateAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<CaStatusDto> SyncWithPrimaryAsync(CaRootListDto primaryRoots, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(primaryRoots);
        if (datacenter.IsPrimary) return Status();
        CaRootDto primaryActive;
        try
        {
            primaryActive = ValidatePrimaryRoots(primaryRoots);
        }
        catch (MeridianException e)
        {
            // Refused before anything changes; the status says why, whoever handed the roots in.
            _degraded = $"Refused the roots of primary datacenter {datacenter.PrimaryDatacenter}: {e.Message}";
            throw;
        }
        var local = Active();
        var now = clock.GetUtcNow();
        // Consul §3.7 step 4, plus the half-life renewal of §3.10 folded into the same check.
        var needsIntermediate = local is null
            || local.Id != primaryActive.ID
            || local.SigningKeyId != CertificateInfo.Parse(local.SigningCertPem).SubjectKeyId
            || NeedsRenewal(local, now);
        if (!needsIntermediate)
        {
            _degraded = "";
            return Status();
        }

        await RunAsync(local is null ? CaManagerState.Initializing : CaManagerState.Reconfiguring, async () =>
        {
            var trustDomain = TrustDomain.Parse(primaryRoots.TrustDomain);
            // The new key is staged in memory: it becomes the signer only once its signed intermediate is installed.
            using var key = CaKeyPair.Generate(Config().KeySpec);
            var csr = CertificateRequests.CreateIntermediateCsr(key, trustDomain);
            string intermediate;
            try
            {
                var primary = await link.GetPrimaryAsync(TimeSpan.FromSeconds(10), cancellationToken);
                intermediate = await primary.GetGrain<ICertificateAuthorityGrain>(datacenter.PrimaryDatacenter)
                    .SignIntermediateAsync(csr, datacenter.Datacenter, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _degraded = $"Primary datacenter {datacenter.PrimaryDatacenter} refused to sign our intermediate CA certificate: {e.Message}";
                throw;
            }
            CaCertificates.ValidateIntermediate(intermediate, key, trustDomain.SigningId, [primaryActive.RootCert], now,
                primaryActive.IntermediateCerts);

            S.ClusterId = trustDomain.ClusterId;
            S.Index++;
            foreach (var r in S.Roots.Where(r => r.Active))
            {
                r.Active = false;
                r.RotatedOutAt ??= now;
                r.SigningKeyPem = null;
                r.ModifyIndex = S.Index;
            }
            S.Roots.RemoveAll(r => r.Id == primaryActive.ID); // an intermediate renewal replaces the entry of the same root
            var info = CertificateInfo.Parse(intermediate);
            S.Roots.Add(new CaRootState
            {
                Id = primaryActive.ID,
                Name = primaryActive.Name,
                SerialNumber = primaryActive.SerialNumber,
                RootCertPem = primaryActive.RootCert,
                // Consul: the primary's intermediates (a cross-signed root during rotation), then our own; expired ones
                // are dropped so chains stay bounded (SPEC §5 item 7).
                IntermediateCertPems = [.. ChainVerifier.PruneExpired(primaryActive.IntermediateCerts, now), intermediate],
                SigningCertPem = intermediate,
                SigningKeyPem = key.ToPem(),
                SigningKeyId = info.SubjectKeyId,
                Active = true,
                NotBefore = primaryActive.NotBefore,
                NotAfter = primaryActive.NotAfter,
                ExternalTrustDomain = trustDomain.ClusterId,
                PrivateKeyType = primaryActive.PrivateKeyType,
                PrivateKeyBits = primaryActive.PrivateKeyBits,
                CreateIndex = S.Index,
                ModifyIndex = S.Index,
            });
            await state.WriteStateAsync(cancellationToken);
            LogRekeyed(logger, datacenter.Datacenter, primaryActive.ID, info.SubjectKeyId);
        });
        _degraded = "";
        _changed.Notify();
        return Status();
    }

    /// <summary>Records why the secondary cannot follow the primary (shown in status) until the next success.</summary>
    public Task ReportDegradedAsync(string reason, CancellationToken cancellationToken = default)
    {
        _degraded = reason;
        return Task.CompletedTask;
    }

    private static bool NeedsRenewal(CaRootState local, DateTimeOffset now)
    {
        var signing = CertificateInfo.Parse(local.SigningCertPem);
        return local.SigningCertPem != local.RootCertPem && IntermediateRenewal.NeedsRenewal(now, signing.NotBefore, signing.NotAfter);
    }

    // SPEC §5 item 15: validate the primary's answer before acting on it, with one authoritative trust-domain field.
    private static CaRootDto ValidatePrimaryRoots(CaRootListDto roots)
    {
        if (string.IsNullOrEmpty(roots.TrustDomain) || !TrustDomain.TryParse(roots.TrustDomain, out _))
            throw new MeridianException("trust domain from primary datacenter is not initialized");
        var active = roots.Roots.FirstOrDefault(r => r.Active && r.ID == roots.ActiveRootID)
            ?? throw new MeridianException("primary datacenter roots have no active root");
        var problems = TrustBundle.Validate([.. roots.Roots.Select(r => r.RootCert)]);
        if (problems.Count > 0)
            throw new MeridianException("primary datacenter roots are invalid: " + string.Join("; ", problems));
        return active;
    }

    // Only members count: a datacenter taken out of Meridian:Federation:Datacenters no longer holds old roots back.
    private bool AllSecondariesMigrated(string activeRootId)
        => S.Secondaries.Where(s => members.Contains(s.Key)).All(s => s.Value.ActiveRootId == activeRootId && s.Value.Total == s.Value.OnActiveRoot);

    [LoggerMessage(EventId = MeridianEventIds.IntermediateSigned, Level = LogLevel.Information,
        Message = "Primary {Datacenter} signed an intermediate CA certificate for secondary {Secondary}, serial {Serial}")]
    private static partial void LogIntermediateSigned(ILogger logger, string datacenter, string secondary, string serial);

    [LoggerMessage(EventId = MeridianEventIds.IntermediateRefused, Level = LogLevel.Warning,
        Message = "Primary {Datacenter} refused to sign an intermediate CA certificate for {Requester}: {Codes}")]
    private static partial void LogIntermediateRefused(ILogger logger, string datacenter, string requester, string codes);

    [LoggerMessage(EventId = MeridianEventIds.SecondaryCaRekeyed, Level = LogLevel.Information,
        Message = "Installed a new intermediate in {Datacenter} under root {RootId}, signing key {SigningKeyId}")]
    private static partial void LogRekeyed(ILogger logger, string datacenter, string rootId, string signingKeyId);
}
