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

    // In memory only: the key staged for the next signing slot and what it was staged for (never stored: a restart
    // between the two turns just stages another).
    private (PreparedSlot Slot, CaKeyPair Key)? _next;

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
    public Task<CaSyncStepDto> PrepareSyncAsync(CaRootListDto primaryRoots, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(primaryRoots);
        if (datacenter.IsPrimary) return Task.FromResult(new CaSyncStepDto { Status = Status(), Action = nameof(RootSetAction.Keep) });
        var (decision, _) = Decide(primaryRoots);
        if (!decision.NeedsIntermediate)
        {
            _degraded = "";
            return Task.FromResult(new CaSyncStepDto { Status = Status(), Action = decision.Action.ToString() });
        }
        // SPIRE's next slot: the new key waits in memory while the current one keeps signing; the root watcher takes the
        // CSR to the primary outside this grain's turn, and InstallIntermediateAsync makes the key current.
        var key = CaKeyPair.Generate(Config().KeySpec);
        _next?.Key.Dispose();
        _next = (SecondaryRootSet.Prepare(clock.GetUtcNow(), decision, Guid.NewGuid().ToString("N")), key);
        return Task.FromResult(new CaSyncStepDto
        {
            Status = Status(),
            Action = decision.Action.ToString(),
            Reason = decision.Reason,
            StagedKeyId = _next.Value.Slot.Id,
            Csr = CertificateRequests.CreateIntermediateCsr(key, TrustDomain.Parse(primaryRoots.TrustDomain)),
        });
    }

    /// <inheritdoc />
    public async Task<CaStatusDto> InstallIntermediateAsync(CaRootListDto primaryRoots, string stagedKeyId, string intermediatePem,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(primaryRoots);
        if (datacenter.IsPrimary) return Status();
        var (decision, primaryActive) = Decide(primaryRoots);
        var now = clock.GetUtcNow();
        var stale = SecondaryRootSet.CanActivate(now, _next?.Slot, stagedKeyId ?? "", decision);
        if (stale.Length > 0) throw new MeridianException($"the intermediate from primary datacenter {datacenter.PrimaryDatacenter} was not installed: {stale}");
        var (_, key) = _next!.Value;
        _next = null;
        using (key)
        {
            await RunAsync(Active() is null ? CaManagerState.Initializing : CaManagerState.Reconfiguring, async () =>
            {
                var trustDomain = TrustDomain.Parse(primaryRoots.TrustDomain);
                CaCertificates.ValidateIntermediate(intermediatePem, key, trustDomain.SigningId, [primaryActive.RootCert], now,
                    primaryActive.IntermediateCerts);
                Install(primaryActive, trustDomain, intermediatePem, key, now);
                var pin = decision.PinAfter!;
                var pinned = decision.Action is RootSetAction.Join or RootSetAction.Adopt;
                S.Pin = new FederationPinState
                {
                    TrustDomain = pin.TrustDomain, RootLineage = [.. pin.RootLineage], PinnedAt = pinned ? now : S.Pin?.PinnedAt ?? now,
                };
                if (pin.IsPinned(S.AdoptTrustDomain)) S.AdoptTrustDomain = "";
                await state.WriteStateAsync(cancellationToken);
                if (pinned) LogPinned(logger, datacenter.Datacenter, pin.TrustDomain, primaryActive.ID, decision.Action.ToString());
                LogRekeyed(logger, datacenter.Datacenter, primaryActive.ID, S.Roots[^1].SigningKeyId);
            });
        }
        _degraded = "";
        _changed.Notify();
        return Status();
    }

    /// <inheritdoc />
    public async Task<CaStatusDto> AdoptPrimaryAsync(string trustDomain, CancellationToken cancellationToken = default)
    {
        List<ValidationProblem> problems = [];
        if (datacenter.IsPrimary)
        {
            problems.Add(new("datacenter", ValidationCodes.Forbidden,
                $"{datacenter.Datacenter} is the primary datacenter: it follows no other primary; run adopt-primary in a secondary"));
        }
        if (!TrustDomain.TryParse(trustDomain, out var td))
        {
            problems.Add(new("trust_domain", ValidationCodes.InvalidFormat,
                $"trust domain {ValidationText.Quote(trustDomain ?? "")} is not of the form <cluster-id>.consul (see `meridian status` of the primary)"));
        }
        DomainValidationException.ThrowIfAny(problems);
        if (S.AdoptTrustDomain == td.Host) return Status();
        S.AdoptTrustDomain = td.Host;
        await state.WriteStateAsync(cancellationToken); // durable first: a restart keeps the operator's decision
        LogAdoptRequested(logger, datacenter.Datacenter, td.Host, View().Pin?.TrustDomain ?? "");
        return Status();
    }

    /// <summary>Records why the secondary cannot follow the primary (shown in status) until the next success.</summary>
    public Task ReportDegradedAsync(string reason, CancellationToken cancellationToken = default)
    {
        _degraded = reason;
        return Task.CompletedTask;
    }

    // The primary's roots, checked (pain point 15 in docs/) and then judged against the pin and the current slot. A refusal
    // changes nothing but Degraded (the status says why, whoever handed the roots in) and throws.
    private (RootSetDecision Decision, CaRootDto PrimaryActive) Decide(CaRootListDto primaryRoots)
    {
        try
        {
            var active = ValidatePrimaryRoots(primaryRoots);
            var decision = SecondaryRootSet.Evaluate(clock.GetUtcNow(), View(), Offer(primaryRoots));
            if (decision.Action == RootSetAction.Refuse) throw new MeridianException(decision.Reason);
            return (decision, active);
        }
        catch (MeridianException e)
        {
            var reason = $"Refused the roots of primary datacenter {datacenter.PrimaryDatacenter}: {e.Message}";
            if (reason != _degraded) LogRootsRefused(logger, datacenter.Datacenter, datacenter.PrimaryDatacenter, e.Message);
            _degraded = reason;
            throw;
        }
    }

    private SecondaryRootView View()
    {
        var active = Active();
        var joinedBefore = active is not null && active.SigningCertPem != active.RootCertPem;
        var stored = S.Pin is { } p ? new FederationPin(p.TrustDomain, [.. p.RootLineage]) : null;
        var pin = SecondaryRootSet.PinOf(stored, string.IsNullOrEmpty(S.ClusterId) ? "" : TrustDomainOf().Host,
            S.Roots.Select(r => r.Id), joinedBefore);
        SigningSlot? current = null;
        if (active is not null)
        {
            var signing = CertificateInfo.Parse(active.SigningCertPem);
            current = new SigningSlot(active.Id, signing.NotBefore, signing.NotAfter,
                active.SigningKeyPem is not null && active.SigningKeyId == signing.SubjectKeyId);
        }
        return new SecondaryRootView(pin, current, S.AdoptTrustDomain);
    }

    // The cross-signatures among the primary's roots and ours: a rotation's new root carries the old root's signature.
    private RootOffer Offer(CaRootListDto roots)
    {
        var signers = roots.Roots.Select(r => (Id: r.ID, Pem: r.RootCert)).Concat(S.Roots.Select(r => (r.Id, Pem: r.RootCertPem)))
            .DistinctBy(r => r.Id).ToList();
        var endorsements = (from r in roots.Roots
                            from candidate in r.IntermediateCerts
                            from signer in signers
                            where signer.Id != r.ID && CaCertificates.IsCrossSignedBy(candidate, r.RootCert, signer.Pem)
                            select new RootEndorsement(signer.Id, r.ID)).Distinct().ToList();
        return new RootOffer(roots.TrustDomain, roots.ActiveRootID, endorsements);
    }

    // The primary's active root with our new intermediate becomes the active root here; the previous one is rotated out.
    private void Install(CaRootDto primaryActive, TrustDomain trustDomain, string intermediate, CaKeyPair key, DateTimeOffset now)
    {
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
        // Consul: the primary's intermediates (a cross-signed root during rotation), then our own; expired ones are
        // dropped so chains stay bounded (pain point 7 in docs/). The root's ID is its certificate's (ValidatePrimaryRoots).
        S.Roots.Add(ActiveRoot(primaryActive.RootCert, primaryActive.Name,
            [.. ChainVerifier.PruneExpired(primaryActive.IntermediateCerts, now), intermediate], intermediate, key));
    }

    // docs/consul-pain-points.md row 15: validate the primary's answer before acting on it, with one authoritative trust-domain field. A
    // root's ID must be its certificate's (SHA-1 of the DER): the pin trusts root IDs, so a root claiming a trusted ID
    // with another certificate must never pass.
    private static CaRootDto ValidatePrimaryRoots(CaRootListDto roots)
    {
        if (string.IsNullOrEmpty(roots.TrustDomain) || !TrustDomain.TryParse(roots.TrustDomain, out _))
            throw new MeridianException("trust domain from primary datacenter is not initialized");
        var active = roots.Roots.FirstOrDefault(r => r.Active && r.ID == roots.ActiveRootID)
            ?? throw new MeridianException("primary datacenter roots have no active root");
        var problems = TrustBundle.Validate([.. roots.Roots.Select(r => r.RootCert)]);
        if (problems.Count > 0)
            throw new MeridianException("primary datacenter roots are invalid: " + string.Join("; ", problems));
        var mislabelled = roots.Roots.Where(r => CertificateInfo.Parse(r.RootCert).Id != r.ID).Select(r => r.ID).ToList();
        if (mislabelled.Count > 0)
            throw new MeridianException("primary datacenter roots are invalid: the ID of root(s) " + string.Join(", ", mislabelled) + " is not their certificate's");
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

    [LoggerMessage(EventId = MeridianEventIds.PrimaryRootsRefused, Level = LogLevel.Warning,
        Message = "Secondary {Datacenter} refused the roots of primary {Primary}; nothing was changed: {Reason}")]
    private static partial void LogRootsRefused(ILogger logger, string datacenter, string primary, string reason);

    [LoggerMessage(EventId = MeridianEventIds.FederationPinned, Level = LogLevel.Information,
        Message = "Secondary {Datacenter} pinned trust domain {TrustDomain} with root {RootId} ({Action})")]
    private static partial void LogPinned(ILogger logger, string datacenter, string trustDomain, string rootId, string action);

    [LoggerMessage(EventId = MeridianEventIds.AdoptPrimaryRequested, Level = LogLevel.Warning,
        Message = "Operator of {Datacenter} accepted a primary of trust domain {TrustDomain} (pinned: {PinnedTrustDomain}); the next root-watch round re-pins")]
    private static partial void LogAdoptRequested(ILogger logger, string datacenter, string trustDomain, string pinnedTrustDomain);

    [LoggerMessage(EventId = MeridianEventIds.SecondaryCaRekeyed, Level = LogLevel.Information,
        Message = "Installed a new intermediate in {Datacenter} under root {RootId}, signing key {SigningKeyId}")]
    private static partial void LogRekeyed(ILogger logger, string datacenter, string rootId, string signingKeyId);
}
