using Meridian.Core.Certificates;
using Meridian.Core.Identity;
using Meridian.Pki;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>
/// A service's certificate in one datacenter; see <see cref="IServiceCertificateGrain"/>. The private key is generated
/// here and kept only in memory: after a restart (or deactivation) the service gets a fresh key and certificate.
/// It re-issues at a random point in 60-90 % of the lifetime (SPEC §3.12, spreads CA load) and after a root change,
/// driven by the silo's <see cref="CertificateRenewals"/> rather than a timer per activation. Always active: collecting
/// an idle activation would throw its key away and leave the service without a renewal.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class ServiceCertificateGrain(
    LocalSigner signer, CertificateActivations activations, CertificateInventoryReporter inventory,
    CertificateRenewals renewals, Hosting.SiloStopping stopping, TimeProvider clock, ILogger<ServiceCertificateGrain> logger)
    : Grain, IServiceCertificateGrain
{
    // After a failed renewal the current certificate is kept and the renewal tried again this much later.
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);

    private readonly ChangeSignal _changed = new(stopping);
    private IssuedCertificateDto? _current;
    private DateTimeOffset _renewAt;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        activations.Add(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        activations.Remove(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task RenewIfDueAsync()
    {
        // Nothing to renew before the first issue; superseded schedule entries find a current certificate.
        if (_current is null || !IsStale(_current)) return;
        try
        {
            await IssueAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Keep serving the current certificate (a caller of GetAsync retries at once); try again in a minute.
            LogRenewalFailed(logger, this.GetPrimaryKeyString(), RetryAfterFailure, e);
            renewals.Schedule(this.GetPrimaryKeyString(), clock.GetUtcNow() + RetryAfterFailure);
        }
    }

    /// <inheritdoc />
    public async Task<IssuedCertificateDto> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_current is null || IsStale(_current)) await IssueAsync(cancellationToken);
        return _current!;
    }

    /// <inheritdoc />
    public Task<IssuedCertificateDto?> GetState() => Task.FromResult(_current is null ? null : _current with { PrivateKeyPEM = "" });

    /// <inheritdoc />
    public async Task<IssuedCertificateDto> WaitForNewerAsync(string serial, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var deadline = clock.GetUtcNow() + ChangeSignal.Clamp(maxWait);
        while (true)
        {
            // Taken before GetAsync: a signer replaced in between (root rotation) ends the wait at once.
            var signerReplaced = signer.Replaced;
            IssuedCertificateDto current;
            try
            {
                current = await GetAsync(cancellationToken);
            }
            catch (RateLimitedException limited) when (limited.RetryAfter is { } retryAfter && clock.GetUtcNow() + retryAfter < deadline)
            {
                // The caller asked to wait: the datacenter's CSR limit is one more reason to, as Consul's agent retries a
                // rate-limited renewal. Spread over [hint, 2 x hint] so that the callers refused together do not all
                // come back in the same instant.
                await Task.Delay(retryAfter * (1 + Random.Shared.NextDouble()), clock, cancellationToken);
                continue;
            }
            var remaining = deadline - clock.GetUtcNow();
            if (current.SerialNumber != serial || remaining <= TimeSpan.Zero || _changed.Stopping) return current;
            // Wake on our own re-issue or on a new signer; GetAsync then re-issues when the root changed (#10871).
            await _changed.WaitAsync(remaining, clock, cancellationToken, signerReplaced);
        }
    }

    // Stale = due for renewal, or signed under a root that is no longer active (Consul #10871: never serve a
    // certificate of the old CA after a rotation).
    private bool IsStale(IssuedCertificateDto cert)
        => clock.GetUtcNow() >= _renewAt || (signer.Current is { } s && s.ActiveRootId != cert.RootID);

    private async Task IssueAsync(CancellationToken ct)
    {
        var key = ServiceKey.Parse(this.GetPrimaryKeyString(), "service");
        var current = await signer.GetAsync(ct);
        var id = key.ToSpiffeId(current.TrustDomain);
        var leafKey = LeafKey.CreateP256(); // Consul: leaves are always EC P-256
        var (leaf, used) = await signer.SignAsync(id, leafKey.SubjectPublicKeyInfo, ct);
        _current = new IssuedCertificateDto
        {
            SerialNumber = leaf.SerialNumber,
            CertPEM = leaf.CertPem,
            PrivateKeyPEM = leafKey.PrivateKeyPem,
            Service = key.Service.Value,
            ServiceURI = leaf.Id.Uri,
            ValidAfter = leaf.ValidAfter,
            ValidBefore = leaf.ValidBefore,
            RootID = used.ActiveRootId,
            SigningKeyID = leaf.AuthorityKeyId,
        };
        _renewAt = RenewalSchedule.PickRenewalTime(clock.GetUtcNow(), leaf.ValidAfter, leaf.ValidBefore, Random.Shared.NextDouble());
        renewals.Schedule(this.GetPrimaryKeyString(), _renewAt);
        LogIssued(logger, key.ToString(), leaf.SerialNumber, _renewAt);
        inventory.Record(key.Service.Value, used.ActiveRootId);
        _changed.Notify();
    }

    [LoggerMessage(EventId = MeridianEventIds.LeafIssued, Level = LogLevel.Debug,
        Message = "Issued certificate for {Service}, serial {Serial}, renewal at {RenewAt}")]
    private static partial void LogIssued(ILogger logger, string service, string serial, DateTimeOffset renewAt);

    [LoggerMessage(EventId = MeridianEventIds.LeafRenewalFailed, Level = LogLevel.Warning,
        Message = "Renewing the certificate of {Service} failed; keeping the current one and retrying in {RetryIn}")]
    private static partial void LogRenewalFailed(ILogger logger, string service, TimeSpan retryIn, Exception exception);
}
