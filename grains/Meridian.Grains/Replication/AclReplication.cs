using Meridian.Core.Federation;
using Meridian.Grains.Acl;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Replication;

/// <summary>
/// ACL policies, roles and non-local tokens as one replicated type (Consul replicates them as three,
/// agent/consul/acl_replication_types.go; one feed here keeps a token and the policies it links in one round, and one
/// status line). The primary's store is polled with the replication token, the local store applies.
/// </summary>
public sealed class AclReplication(DatacenterContext datacenter) : IReplicatedType<AclChangesDto>
{
    /// <inheritdoc />
    public string Name => ReplicatedTypes.Acl;

    /// <inheritdoc />
    public Task<ReplicationProgressDto> ReadProgressAsync(IGrainFactory local, CancellationToken cancellationToken)
        => Local(local).GetReplicationProgressAsync(cancellationToken);

    /// <inheritdoc />
    public Task<AclChangesDto> FetchSinceAsync(IGrainFactory primary, ReplicationPosition after, TimeSpan wait, CancellationToken cancellationToken)
        => primary.GetGrain<IAclStoreGrain>(datacenter.PrimaryDatacenter).WaitForChangesAsync(after.Index, after.Epoch, wait, cancellationToken);

    /// <inheritdoc />
    public ReplicationPosition PositionOf(AclChangesDto changes) => new(changes.Index, changes.Epoch);

    /// <inheritdoc />
    public bool IsSnapshot(AclChangesDto changes) => changes.IsSnapshot;

    /// <inheritdoc />
    public Task<ReplicationApplyResultDto> ApplyAsync(IGrainFactory local, AclChangesDto changes, bool adopt, CancellationToken cancellationToken)
        => Local(local).ApplyReplicatedAsync(changes, adopt, cancellationToken);

    private IAclStoreGrain Local(IGrainFactory local) => local.GetGrain<IAclStoreGrain>(datacenter.Datacenter);
}

/// <summary>
/// Pulls the primary's ACLs into this secondary; see <see cref="IAclReplicatorGrain"/>. Runs only where ACLs are
/// enabled (Consul replicates ACLs only with ACLs on and token replication enabled).
/// </summary>
public sealed class AclReplicatorGrain(
    DatacenterContext datacenter,
    IPrimaryDatacenterLink link,
    ReplicationSettings settings,
    AclSettings acl,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<AclReplicatorGrain> logger)
    : ReplicatorGrain<AclChangesDto>(new AclReplication(datacenter), datacenter, link, settings, clock, lifetime, logger),
        IAclReplicatorGrain
{
    /// <inheritdoc />
    protected override bool Follows => acl.Enabled;
}
