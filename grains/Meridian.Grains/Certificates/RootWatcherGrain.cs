using Meridian.Grains.Hosting;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Certificates;

/// <summary>
/// Watches the primary's roots for one secondary; see <see cref="IRootWatcherGrain"/>. Each round long-polls the
/// primary's CA (the shared loop has checked that the primary still is the primary: a second primary is a role
/// mismatch, never a silent second trust domain), hands the roots to the local CA (re-key + new intermediate on a new
/// active root, half-life renewal) and reports how far this datacenter's certificates have moved to the active root.
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
    private ulong _lastIndex;

    /// <inheritdoc />
    protected override string ReplicationType => "ca-roots";

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
        var status = await localCa.SyncWithPrimaryAsync(roots, ct);
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
