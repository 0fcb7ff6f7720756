using Meridian.Core.Federation;
using Meridian.Grains.Hosting;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Datacenters;

/// <summary>The datacenter list as a replicated type: the primary's registry is polled, the local registry applies.</summary>
public sealed class DatacenterReplication(DatacenterContext datacenter) : IReplicatedType<DatacenterChangesDto>
{
    /// <inheritdoc />
    public string Name => ReplicatedTypes.Datacenters;

    /// <inheritdoc />
    public Task<ReplicationProgressDto> ReadProgressAsync(IGrainFactory local, CancellationToken cancellationToken)
        => Local(local).GetReplicationProgressAsync(cancellationToken);

    /// <inheritdoc />
    public Task<DatacenterChangesDto> FetchSinceAsync(IGrainFactory primary, ReplicationPosition after, TimeSpan wait, CancellationToken cancellationToken)
        => primary.GetGrain<IDatacenterRegistryGrain>(datacenter.PrimaryDatacenter).WaitForChangesAsync(after.Index, after.Epoch, wait, cancellationToken);

    /// <inheritdoc />
    public ReplicationPosition PositionOf(DatacenterChangesDto changes) => new(changes.Index, changes.Epoch);

    /// <inheritdoc />
    public bool IsSnapshot(DatacenterChangesDto changes) => changes.IsSnapshot;

    /// <inheritdoc />
    public Task<ReplicationApplyResultDto> ApplyAsync(IGrainFactory local, DatacenterChangesDto changes, bool adopt, CancellationToken cancellationToken)
        => Local(local).ApplyReplicatedAsync(changes, cancellationToken);

    private IDatacenterRegistryGrain Local(IGrainFactory local) => local.GetGrain<IDatacenterRegistryGrain>(datacenter.Datacenter);
}

/// <summary>Pulls the primary's datacenter list into this secondary; see <see cref="IDatacenterReplicatorGrain"/>.</summary>
public sealed class DatacenterReplicatorGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<DatacenterReplicatorGrain> logger)
    : ReplicatorGrain<DatacenterChangesDto>(new DatacenterReplication(datacenter), datacenter, link, settings, clock, lifetime, logger),
        IDatacenterReplicatorGrain;

/// <summary>
/// Registers this datacenter in the primary (<see cref="IDatacenterRegistryGrain.RegisterAsync"/>) at start and every
/// <see cref="DatacenterAdvertisement.RegisterInterval"/>: the primary registers itself locally, a secondary over its
/// primary link with the replication token. Idempotent, so every silo of a datacenter may do it; repeating it refills
/// a primary rebuilt empty (no operator step, unlike intentions).
/// </summary>
public sealed partial class DatacenterRegistrar(
    IGrainFactory grains,
    DatacenterContext datacenter,
    DatacenterAdvertisement advertisement,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    IServiceProvider services,
    TimeProvider clock,
    ILogger<DatacenterRegistrar> logger) : SiloLoop(clock, logger)
{
    private readonly Acl.AclReplicationToken? _token = services.GetService(typeof(Acl.AclReplicationToken)) as Acl.AclReplicationToken;

    /// <inheritdoc />
    protected override string Name => "datacenter-registrar";

    /// <inheritdoc />
    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var entry = new DatacenterEntryDto
        {
            Name = datacenter.Datacenter, Gateways = advertisement.Gateways, WanAddress = advertisement.WanAddress, ClusterId = advertisement.ClusterId,
        };
        IGrainFactory target = grains;
        if (!datacenter.IsPrimary) target = await link.GetPrimaryAsync(settings.ConnectWait, cancellationToken);
        using (CallerToken.Use(_token?.Current))
            await target.GetGrain<IDatacenterRegistryGrain>(datacenter.PrimaryDatacenter).RegisterAsync(entry, cancellationToken);
        LogRegistered(logger, datacenter.Datacenter, datacenter.PrimaryDatacenter);
        // Again when the link to the primary is lost and back (the primary may have restarted on an empty store), else
        // after the interval.
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, datacenter.IsPrimary ? CancellationToken.None : link.ConnectionLost);
        try { await Task.Delay(advertisement.RegisterInterval, Clock, lost.Token); }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested) { }
    }

    [LoggerMessage(EventId = MeridianEventIds.DatacenterSelfRegistered, Level = LogLevel.Debug,
        Message = "Registered datacenter {Datacenter} in the primary {Primary}")]
    private static partial void LogRegistered(ILogger logger, string datacenter, string primary);
}
