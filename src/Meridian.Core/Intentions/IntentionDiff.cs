using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Meridian.Core.Replication;

namespace Meridian.Core.Intentions;

/// <summary>
/// Replication diff of <c>service-intentions</c> entries: <see cref="ReplicaDiff"/> keyed by (partition, namespace,
/// name) and compared by <see cref="ContentHash"/> (as Consul's config_replication.go).
/// </summary>
public static class IntentionDiff
{
    // Declared before Shape: static initialisers run in textual order.
    private static readonly Comparer<(string Partition, string Namespace, string Name)> KeyComparer =
        Comparer<(string Partition, string Namespace, string Name)>.Create((a, b) =>
        {
            var c = string.CompareOrdinal(a.Partition, b.Partition);
            if (c != 0) return c;
            c = string.CompareOrdinal(a.Namespace, b.Namespace);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

    /// <summary>How the generic diff reads an entry.</summary>
    public static ReplicaShape<ServiceIntentionsEntry, (string Partition, string Namespace, string Name)> Shape { get; } =
        new(Key, KeyComparer, ContentHash, e => e.ModifyIndex);

    /// <summary>Computes the diff (see <see cref="ReplicaDiff.Compute"/>). Inputs need not be sorted; keys are expected to be unique per side.</summary>
    public static ReplicaDiffResult<ServiceIntentionsEntry> Compute(IReadOnlyList<ServiceIntentionsEntry> local, IReadOnlyList<ServiceIntentionsEntry> remote,
        ulong lastRemoteIndex, ulong remoteIndex)
        => ReplicaDiff.Compute(local, remote, Shape, lastRemoteIndex, remoteIndex);

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
}
