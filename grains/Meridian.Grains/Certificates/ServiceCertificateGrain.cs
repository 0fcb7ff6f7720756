using Meridian.Core.Certificates;
using Meridian.Core.Identity;
using Meridian.Pki;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>
/// A service's certificate in one datacenter; see <see cref="IServiceCertificateGrain"/>. The private key is generated
/// here and kept only in memory: after a restart (or deactivation) the service gets a fresh key and certificate.
/// A timer re-issues at a random point in 60-90 % of the lifetime (SPEC §3.12), which spreads CA load.
/// </summary>
public sealed partial class ServiceCertificateGrain(
    LocalSigner signer, CertificateActivations activations, CertificateInventoryReporter inventory, TimeProvider clock,
    ILogger<ServiceCertificateGrain> logger)
    : Grain, IServiceCertificateGrain
{
    private readonly ChangeSignal _changed = new();
    private IssuedCertificateDto? _current;
    private DateTimeOffset _renewAt;
    private IGrainTimer? _renewal;

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
    public Task ReissueAfterAsync(TimeSpan delay)
    {
        // Only certificates still on an old root move; the delay spreads a rotation's re-issues over the jitter window.
        if (_current is null || !IsStale(_current)) return Task.CompletedTask;
        _renewal?.Dispose();
        _renewal = this.RegisterGrainTimer(RenewAsync, new GrainTimerCreationOptions
        {
            DueTime = Max(delay, TimeSpan.Zero), Period = Timeout.InfiniteTimeSpan, KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<IssuedCertificateDto> GetAsync(CancellationToken cancellationToken = default)
    {
        if (_current is null || IsStale(_current)) await IssueAsync(cancellationToken);
        return _current!;
    }

    /// <inheritdoc />
    public async Task<IssuedCertificateDto> WaitForNewerAsync(string serial, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        var deadline = clock.GetUtcNow() + ChangeSignal.Clamp(maxWait);
        while (true)
        {
            // Taken before GetAsync: a signer replaced in between (root rotation) ends the wait at once.
            var signerReplaced = signer.Replaced;
            var current = await GetAsync(cancellationToken);
            var remaining = deadline - clock.GetUtcNow();
            if (current.SerialNumber != serial || remaining <= TimeSpan.Zero) return current;
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
        var now = clock.GetUtcNow();
        _renewAt = RenewalSchedule.PickRenewalTime(now, leaf.ValidAfter, leaf.ValidBefore, Random.Shared.NextDouble());
        _renewal?.Dispose();
        _renewal = this.RegisterGrainTimer(RenewAsync, new GrainTimerCreationOptions
        {
            DueTime = Max(_renewAt - now, TimeSpan.Zero), Period = Timeout.InfiniteTimeSpan, KeepAlive = true,
        });
        LogIssued(logger, key.ToString(), leaf.SerialNumber, _renewAt);
        inventory.Record(key.Service.Value, used.ActiveRootId);
        _changed.Notify();
    }

    private async Task RenewAsync(CancellationToken ct)
    {
        try
        {
            await IssueAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Keep serving the current certificate; try again in a minute.
            LogRenewalFailed(logger, this.GetPrimaryKeyString(), e);
            _renewal?.Dispose();
            _renewal = this.RegisterGrainTimer(RenewAsync, new GrainTimerCreationOptions
            {
                DueTime = TimeSpan.FromMinutes(1), Period = Timeout.InfiniteTimeSpan, KeepAlive = true,
            });
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(EventId = MeridianEventIds.LeafIssued, Level = LogLevel.Debug,
        Message = "Issued certificate for {Service}, serial {Serial}, renewal at {RenewAt}")]
    private static partial void LogIssued(ILogger logger, string service, string serial, DateTimeOffset renewAt);

    [LoggerMessage(EventId = MeridianEventIds.LeafRenewalFailed, Level = LogLevel.Warning,
        Message = "Renewing the certificate of {Service} failed; retrying in a minute")]
    private static partial void LogRenewalFailed(ILogger logger, string service, Exception exception);
}
