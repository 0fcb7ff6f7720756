using Meridian.Grains.Hosting;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>
/// Watches the primary's roots for one secondary; see <see cref="IRootWatcherGrain"/>. Each round long-polls the
/// primary's CA (the shared loop has checked that the primary still is the primary: a second primary is a role
/// mismatch, never a silent second trust domain, and a primary of another trust domain than the pinned one is not
/// followed), hands the roots to the local CA, and reports how far this datacenter's certificates have moved to the
/// active root. Every call to the primary is made here, never inside the CA's turn (issue 12 §1): the CA's single
/// activation only stages a key and makes the CSR (<see cref="ICertificateAuthorityGrain.PrepareSyncAsync"/>), then installs
/// the primary's answer (<see cref="ICertificateAuthorityGrain.InstallIntermediateAsync"/>): two short turns around the
/// round trip, so status, serial reservations and signing go on while the primary is slow or stalled.
/// </summary>
public sealed class RootWatcherGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<RootWatcherGrain> logger)
    : PrimaryFollowerGrain(datacenter, link, settings, clock, lifetime, logger), IRootWatcherGrain
{
    // How long the primary may take to sign, on top of the link's connect wait: it generates no key, only signs.
    private static readonly TimeSpan SignWait = TimeSpan.FromSeconds(10);

    private ulong _lastIndex;

    /// <inheritdoc />
    protected override string ReplicationType => ReplicatedTypes.CaRoots;

    /// <inheritdoc />
    protected override async Task<(ulong Index, int Changes)> FollowAsync(IGrainFactory primary, CancellationToken ct)
    {
        var primaryCa = primary.GetGrain<ICertificateAuthorityGrain>(Datacenter.PrimaryDatacenter);
        // Renewal checks need a round at least hourly even when the primary is idle.
        var pollWait = Settings.PollWait < TimeSpan.FromHours(1) ? Settings.PollWait : TimeSpan.FromHours(1);
        var roots = await PollPrimaryAsync(t => primaryCa.WaitForRootsChangeAsync(_lastIndex, pollWait, t), pollWait, ct);
        RecordPrimaryIndex(roots.Index);
        if (roots.Index < _lastIndex) _lastIndex = 0;
        var localCa = GrainFactory.GetGrain<ICertificateAuthorityGrain>(Datacenter.Datacenter);
        var step = await localCa.PrepareSyncAsync(roots, ct);
        var status = step.Status;
        if (step.StagedKeyId.Length > 0)
        {
            string intermediate;
            try
            {
                // Bounded (SignWait plus the connect wait and a margin) and by the connection: a stalled primary fails
                // this round, never the CA, whose turn is not held across the call.
                intermediate = await PollPrimaryAsync(t => primaryCa.SignIntermediateAsync(step.Csr, Datacenter.Datacenter, t), SignWait, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var reason = e is MeridianValidationException v ? string.Join("; ", v.Problems) : e.Message;
                throw new MeridianException(
                    $"Primary datacenter {Datacenter.PrimaryDatacenter} refused to sign our intermediate CA certificate ({step.Action}): {reason}");
            }
            status = await localCa.InstallIntermediateAsync(roots, step.StagedKeyId, intermediate, ct);
        }
        _lastIndex = roots.Index;
        var progress = await GrainFactory.GetGrain<ICertificateInventoryGrain>(Datacenter.Datacenter).GetProgressAsync(ct);
        await primaryCa.ReportRotationProgressAsync(progress with { Datacenter = Datacenter.Datacenter }, ct);
        return (roots.Index, status.ActiveRootID == roots.ActiveRootID ? 0 : 1);
    }

    /// <inheritdoc />
    protected override Task OnRoundFailedAsync(string reason, CancellationToken cancellationToken)
    {
        _lastIndex = 0;
        return GrainFactory.GetGrain<ICertificateAuthorityGrain>(Datacenter.Datacenter).ReportDegradedAsync(reason, cancellationToken);
    }
}
