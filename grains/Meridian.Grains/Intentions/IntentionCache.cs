using Meridian.Core.Intentions;
using Meridian.Grains.Replication;

namespace Meridian.Grains.Intentions;

/// <summary>
/// This silo's copy of the datacenter's intentions, indexed per destination for authorize (a
/// <see cref="ReplicaCache{TEntry, TView}"/> whose view is the <see cref="DestinationMatchIndex"/>).
/// </summary>
public sealed class IntentionCache() : ReplicaCache<ServiceIntentionsEntry, DestinationMatchIndex>(DestinationMatchIndex.Empty),
    IReplicaCache<IntentionChangesDto>
{
    /// <summary>Applies a change set from the registry (see <see cref="ReplicaCache{TEntry, TView}"/> for what is ignored).</summary>
    public void Apply(IntentionChangesDto changes)
        => Apply(changes.IsSnapshot, changes.Index, changes.Epoch, changes.Upserts.Select(e => e.ToCore()), changes.DeletedDestinations);

    /// <inheritdoc />
    protected override ulong IndexOf(DestinationMatchIndex view) => view.Index;

    /// <inheritdoc />
    protected override DestinationMatchIndex Create(IEnumerable<ServiceIntentionsEntry> entries, ulong index) => DestinationMatchIndex.Create(entries, index);

    /// <inheritdoc />
    protected override DestinationMatchIndex Apply(DestinationMatchIndex view, IEnumerable<ServiceIntentionsEntry> upserts, IEnumerable<string> deletes, ulong index)
        => view.Apply(upserts, deletes, index);
}
