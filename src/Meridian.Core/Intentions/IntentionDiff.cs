using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;

namespace Meridian.Core.Intentions;

/// <summary>What one replication round must apply locally (SPEC §2.4): deletes first, then upserts.</summary>
/// <param name="Deletes">Local entries absent from the remote list.</param>
/// <param name="Upserts">Remote entries absent locally, or changed since <c>lastRemoteIndex</c> with different content.</param>
/// <param name="Unchanged">Entries present on both sides that need no write.</param>
/// <param name="FullResync">True when the remote index went backwards, so every pair was compared by content hash.</param>
public sealed record IntentionDiffResult(
    ImmutableArray<ServiceIntentionsEntry> Deletes, ImmutableArray<ServiceIntentionsEntry> Upserts, int Unchanged, bool FullResync);

/// <summary>
/// Pure replication diff of <c>service-intentions</c> entries, a merge-join of both lists keyed by
/// (partition, namespace, name). Consul's rules: local-only → delete; remote-only → upsert; both → upsert only if the
/// remote ModifyIndex is above <c>lastRemoteIndex</c> and the content hashes differ. When the remote index moved
/// backwards (a restored or rebuilt primary) indexes mean nothing, so every pair is compared by content hash alone.
/// </summary>
public static class IntentionDiff
{
    /// <summary>Computes the diff. Inputs need not be sorted; keys are expected to be unique per side.</summary>
    public static IntentionDiffResult Compute(IReadOnlyList<ServiceIntentionsEntry> local, IReadOnlyList<ServiceIntentionsEntry> remote,
        ulong lastRemoteIndex, ulong remoteIndex)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        var fullResync = remoteIndex < lastRemoteIndex;
        var l = local.OrderBy(Key, KeyComparer).ToArray();
        var r = remote.OrderBy(Key, KeyComparer).ToArray();
        var deletes = ImmutableArray.CreateBuilder<ServiceIntentionsEntry>();
        var upserts = ImmutableArray.CreateBuilder<ServiceIntentionsEntry>();
        var unchanged = 0;
        int i = 0, j = 0;
        while (i < l.Length || j < r.Length)
        {
            var c = i == l.Length ? 1 : j == r.Length ? -1 : KeyComparer.Compare(Key(l[i]), Key(r[j]));
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
                var candidate = fullResync || re.ModifyIndex > lastRemoteIndex;
                if (candidate && ContentHash(le) != ContentHash(re)) upserts.Add(re);
                else unchanged++;
            }
        }
        return new IntentionDiffResult(deletes.ToImmutable(), upserts.ToImmutable(), unchanged, fullResync);
    }

    /// <summary>
    /// Lower-case hex SHA-256 of a canonical, length-prefixed serialisation of the entry's normalised content:
    /// destination, sources in order (without the derived precedence), permissions, and Meta sorted by key.
    /// Indexes are excluded, so the same content hashes the same in every datacenter.
    /// </summary>
    public static string ContentHash(ServiceIntentionsEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var e = IntentionRules.Normalize(entry);
        var w = new ArrayBufferWriter<byte>(256);
        Str(w, "meridian.service-intentions.v1");
        Str(w, e.Partition);
        Str(w, e.Namespace);
        Str(w, e.Name);
        Int(w, e.Meta.Count);
        foreach (var (k, v) in e.Meta.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            Str(w, k);
            Str(w, v);
        }
        Int(w, e.Sources.Length);
        foreach (var s in e.Sources)
        {
            Str(w, s.Partition);
            Str(w, s.Namespace);
            Str(w, s.Name);
            Str(w, s.SourceDatacenter);
            Str(w, s.DestinationDatacenter);
            Int(w, (int)s.Action);
            Str(w, s.Type);
            Str(w, s.Description);
            Int(w, s.Permissions.Length);
            foreach (var p in s.Permissions) Permission(w, p);
        }
        return Convert.ToHexStringLower(SHA256.HashData(w.WrittenSpan));
    }

    private static void Permission(ArrayBufferWriter<byte> w, IntentionPermission? p)
    {
        Int(w, p is null ? -1 : (int)p.Action);
        if (p?.HTTP is not { } http)
        {
            Int(w, -1);
            return;
        }
        Int(w, 1);
        Str(w, http.PathExact);
        Str(w, http.PathPrefix);
        Str(w, http.PathRegex);
        var headers = http.Header.IsDefault ? [] : http.Header;
        Int(w, headers.Length);
        foreach (var h in headers)
        {
            Str(w, h?.Name);
            Int(w, (h?.Present == true ? 1 : 0) | (h?.Invert == true ? 2 : 0) | (h?.IgnoreCase == true ? 4 : 0));
            Str(w, h?.Exact);
            Str(w, h?.Prefix);
            Str(w, h?.Suffix);
            Str(w, h?.Contains);
            Str(w, h?.Regex);
        }
        var methods = http.Methods.IsDefault ? [] : http.Methods;
        Int(w, methods.Length);
        foreach (var m in methods) Str(w, m);
    }

    // Length-prefixed so that ("ab","c") and ("a","bc") never serialise alike; null and empty are the same.
    private static void Str(ArrayBufferWriter<byte> w, string? value)
    {
        value ??= "";
        var count = Encoding.UTF8.GetByteCount(value);
        Int(w, count);
        Encoding.UTF8.GetBytes(value, w.GetSpan(count));
        w.Advance(count);
    }

    private static void Int(ArrayBufferWriter<byte> w, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(w.GetSpan(4), value);
        w.Advance(4);
    }

    private static (string Partition, string Namespace, string Name) Key(ServiceIntentionsEntry e)
        => (IntentionConstants.OrDefault(e.Partition), IntentionConstants.OrDefault(e.Namespace), e.Name ?? "");

    private static readonly Comparer<(string Partition, string Namespace, string Name)> KeyComparer =
        Comparer<(string Partition, string Namespace, string Name)>.Create((a, b) =>
        {
            var c = string.CompareOrdinal(a.Partition, b.Partition);
            if (c != 0) return c;
            c = string.CompareOrdinal(a.Namespace, b.Namespace);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });
}
