using Meridian.Core.Federation;

namespace Meridian.Core.Replication;

/// <summary>What one round may apply once the primary's answer is known to be whole or filtered.</summary>
/// <param name="Upserts">Entries to write (a filtered answer's entries are real: the caller may read them).</param>
/// <param name="Deletes">Entries to delete.</param>
/// <param name="Withheld">Deletes not applied because the answer was filtered (0 otherwise).</param>
public sealed record RoundChanges<TEntry>(IReadOnlyList<TEntry> Upserts, IReadOnlyList<TEntry> Deletes, int Withheld);

/// <summary>
/// "A filtered round deletes nothing". The primary answers a replication token that cannot read everything with a
/// filtered view (Consul marks such answers <c>ResultsFilteredByACLs</c>, header X-Consul-Results-Filtered-By-ACLs).
/// Consul's replicators (agent/consul/replication.go, acl_replication_types.go) ignore the mark and diff the
/// filtered list against the full local one, so every entry the token cannot read is deleted in the secondary: a
/// token missing one permission silently wipes what it cannot see. Here an entry absent from a filtered snapshot is
/// not known to be deleted, only unseen, so such deletes are withheld (and counted, for status and logs); a delta's
/// deletes are named by the primary, which removed those keys from its store, so they apply whether or not the answer
/// was filtered. Upserts always apply: the token could read them.
/// </summary>
public static class FilteredRound
{
    /// <summary>
    /// The changes to apply from an answer: a snapshot's deletes (<paramref name="deletes"/>, inferred from absence)
    /// are dropped when <paramref name="filtered"/>; everything else passes.
    /// </summary>
    public static RoundChanges<TEntry> Apply<TEntry>(bool isSnapshot, bool filtered, IReadOnlyList<TEntry> upserts, IReadOnlyList<TEntry> deletes)
    {
        ArgumentNullException.ThrowIfNull(upserts);
        ArgumentNullException.ThrowIfNull(deletes);
        return isSnapshot && filtered && deletes.Count > 0
            ? new RoundChanges<TEntry>(upserts, [], deletes.Count)
            : new RoundChanges<TEntry>(upserts, deletes, 0);
    }

    /// <summary>The longest a secondary whose last answer was filtered waits before asking for the whole state again.</summary>
    public static readonly TimeSpan MaxResyncWait = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where the next poll asks from. After a filtered answer the secondary's position is not a complete view: entries
    /// the token could not read were skipped, and a delta from that position would bring them only when they change
    /// (Consul's replicators have the same gap). So while the last applied answer was filtered the secondary asks for
    /// a snapshot (index 0 of the applied epoch: the primary answers its whole readable state), and a fixed token
    /// converges within one round; once an answer is whole, deltas resume.
    /// </summary>
    public static ReplicationPosition NextRequest(ReplicationPosition applied, bool lastFiltered)
        => lastFiltered ? new ReplicationPosition(0, applied.Epoch) : applied;

    /// <summary>
    /// How long a filtered secondary waits on the primary's feed before that snapshot: the poll wait, at most
    /// <see cref="MaxResyncWait"/> (a snapshot answers at once, so without a wait the loop would pull the primary's whole
    /// state back to back; with the 5-minute poll wait a fixed token would take up to 5 minutes to show).
    /// </summary>
    public static TimeSpan ResyncWait(TimeSpan pollWait) => pollWait < MaxResyncWait ? pollWait : MaxResyncWait;
}
