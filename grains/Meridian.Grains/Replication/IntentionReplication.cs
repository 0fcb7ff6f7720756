using Meridian.Core.Federation;

namespace Meridian.Grains.Replication;

/// <summary>Intentions as a replicated type: the registry of the primary is polled, the local registry applies.</summary>
public sealed class IntentionReplication(DatacenterContext datacenter) : IReplicatedType<IntentionChangesDto>
{
    /// <inheritdoc />
    public string Name => ReplicatedTypes.Intentions;

    /// <inheritdoc />
    public Task<ReplicationProgressDto> ReadProgressAsync(IGrainFactory local, CancellationToken cancellationToken)
        => Local(local).GetReplicationProgressAsync(cancellationToken);

    /// <inheritdoc />
    public Task<IntentionChangesDto> FetchSinceAsync(IGrainFactory primary, ReplicationPosition after, TimeSpan wait, CancellationToken cancellationToken)
        => primary.GetGrain<IIntentionRegistryGrain>(datacenter.PrimaryDatacenter)
            .WaitForChangesAsync(new IntentionPositionDto(after.Index, after.Epoch), wait, cancellationToken);

    /// <inheritdoc />
    public ReplicationPosition PositionOf(IntentionChangesDto changes) => new(changes.Index, changes.Epoch);

    /// <inheritdoc />
    public bool IsSnapshot(IntentionChangesDto changes) => changes.IsSnapshot;

    /// <inheritdoc />
    public bool IsFiltered(IntentionChangesDto changes) => changes.FilteredByAcls;

    /// <inheritdoc />
    public string FilteredPermission => "intention:read on some destination services";

    /// <inheritdoc />
    public Task<ReplicationApplyResultDto> ApplyAsync(IGrainFactory local, IntentionChangesDto changes, bool adopt, CancellationToken cancellationToken)
        => Local(local).ApplyReplicatedAsync(changes, adopt, cancellationToken);

    private IIntentionRegistryGrain Local(IGrainFactory local) => local.GetGrain<IIntentionRegistryGrain>(datacenter.Datacenter);
}
