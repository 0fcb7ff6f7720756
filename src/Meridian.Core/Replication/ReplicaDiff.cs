using System.Collections.Immutable;

namespace Meridian.Core.Replication;

/// <summary>What one replication round must apply locally: deletes first, then upserts.</summary>
/// <param name="Deletes">Local entries absent from the remote list.</param>
/// <param name="Upserts">Remote entries absent locally, or changed since <c>lastRemoteIndex</c> with different content.</param>
/// <param name="Unchanged">Entries present on both sides that need no write.</param>
/// <param name="FullResync">True when the remote index went backwards, so every pair was compared by content.</param>
public sealed record ReplicaDiffResult<TEntry>(ImmutableArray<TEntry> Deletes, ImmutableArray<TEntry> Upserts, int Unchanged, bool FullResync);

/// <summary>How <see cref="ReplicaDiff.Compute"/> reads one replicated type: its key, the key order, content and index.</summary>
/// <param name="Key">The identity of an entry; unique per side.</param>
/// <param name="KeyOrder">A total order of keys (the results come out in it).</param>
/// <param name="ContentHash">A hash of the content alone: indexes excluded, so equal content hashes alike in every datacenter.</param>
/// <param name="ModifyIndex">The remote index at which an entry last changed.</param>
public sealed record ReplicaShape<TEntry, TKey>(
    Func<TEntry, TKey> Key, IComparer<TKey> KeyOrder, Func<TEntry, string> ContentHash, Func<TEntry, ulong> ModifyIndex);

/// <summary>
/// Pure replica diff of any keyed type, a merge-join of both lists by key, with Consul's rules (its ACL and config
/// entry replicators, agent/consul/replication.go): local-only → delete; remote-only → upsert; both → upsert only if
/// the remote ModifyIndex is above <c>lastRemoteIndex</c> and the content differs. When the remote index moved
/// backwards (a restored or rebuilt primary) indexes mean nothing, so every pair is compared by content alone.
/// </summary>
public static class ReplicaDiff
{
    /// <summary>Computes the diff. Inputs need not be sorted; keys are expected to be unique per side.</summary>
    public static ReplicaDiffResult<TEntry> Compute<TEntry, TKey>(IReadOnlyList<TEntry> local, IReadOnlyList<TEntry> remote,
        ReplicaShape<TEntry, TKey> shape, ulong lastRemoteIndex, ulong remoteIndex)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(shape);
        var fullResync = remoteIndex < lastRemoteIndex;
        var l = local.OrderBy(shape.Key, shape.KeyOrder).ToArray();
        var r = remote.OrderBy(shape.Key, shape.KeyOrder).ToArray();
        var deletes = ImmutableArray.CreateBuilder<TEntry>();
        var upserts = ImmutableArray.CreateBuilder<TEntry>();
        var unchanged = 0;
        int i = 0, j = 0;
        while (i < l.Length || j < r.Length)
        {
            var c = i == l.Length ? 1 : j == r.Length ? -1 : shape.KeyOrder.Compare(shape.Key(l[i]), shape.Key(r[j]));
            if (c < 0)
            {
                deletes.Add(l[i++]);
            }
            else if (c > 0)
            {
                upserts.Add(r[j++]);
            }
            else
            {
                var (le, re) = (l[i++], r[j++]);
                var candidate = fullResync || shape.ModifyIndex(re) > lastRemoteIndex;
                if (candidate && shape.ContentHash(le) != shape.ContentHash(re)) upserts.Add(re);
                else unchanged++;
            }
        }
        return new ReplicaDiffResult<TEntry>(deletes.ToImmutable(), upserts.ToImmutable(), unchanged, fullResync);
    }
}
