using Meridian.Core.Federation;
using Meridian.Core.Intentions;
using Meridian.Grains.Replication;

namespace Meridian.Grains.Intentions;

/// <summary>Replication into a secondary (the shared <see cref="ReplicatedRegistry{TEntry, TKey}"/>) and forwarding of its writes to the primary.</summary>
public sealed partial class IntentionRegistryGrain
{
    /// <inheritdoc />
    public Task<ulong> GetReplicatedIndexAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(_registry.ReplicatedPosition.Index);

    /// <inheritdoc />
    public Task<IntentionPositionDto> GetReplicatedPositionAsync(CancellationToken cancellationToken = default)
    {
        var p = _registry.ReplicatedPosition;
        return Task.FromResult(new IntentionPositionDto(p.Index, p.Epoch));
    }

    /// <inheritdoc />
    public Task<ReplicationProgressDto> GetReplicationProgressAsync(CancellationToken cancellationToken = default)
    {
        var p = _registry.ReplicatedPosition;
        return Task.FromResult(new ReplicationProgressDto { Index = p.Index, Epoch = p.Epoch, Held = _registry.Hold, Filtered = _registry.Filtered });
    }

    /// <inheritdoc />
    public Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
        => _registry.WaitForReplicatedAsync(primaryIndex, maxWait, cancellationToken);

    /// <inheritdoc />
    public Task<ReplicationApplyResultDto> ApplyReplicatedAsync(IntentionChangesDto fromPrimary, bool adoptPrimaryState, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fromPrimary);
        if (datacenter.IsPrimary)
            throw new InvalidOperationException("the primary datacenter does not replicate intentions from anyone");
        var answer = new ReplicatedAnswer<ServiceIntentionsEntry>(
            new ReplicationPosition(fromPrimary.Index, fromPrimary.Epoch), fromPrimary.IsSnapshot, fromPrimary.FilteredByAcls,
            [.. fromPrimary.Upserts.Select(e => e.ToCore())], fromPrimary.DeletedDestinations);
        return _registry.ApplyAsync(answer, adoptPrimaryState, cancellationToken);
    }

    // Writes made in a secondary go to the primary; the answer carries the primary's index (docs/consul-pain-points.md row 3).
    private async Task<IIntentionRegistryGrain> PrimaryRegistryAsync(CancellationToken ct)
    {
        var primary = await link.GetPrimaryAsync(TimeSpan.FromSeconds(10), ct);
        return primary.GetGrain<IIntentionRegistryGrain>(datacenter.PrimaryDatacenter);
    }
}
