using System.Collections.Immutable;

namespace Meridian.Core.Intentions;

/// <summary>
/// An immutable, per-destination index of sorted intention lists: what the authorize hot path walks. Built from
/// <see cref="ServiceIntentionsEntry"/>s and updated by applying changes, each update returning a new index (readers
/// keep using the old one lock-free). A change to a named destination recomputes one list; a change to a wildcard
/// entry (<c>ns/*</c> or <c>*/*</c>) recomputes the lists it feeds.
/// </summary>
public sealed class DestinationMatchIndex
{
    private readonly ImmutableDictionary<EntryKey, ServiceIntentionsEntry> _entries;
    private readonly ImmutableDictionary<EntryKey, ImmutableArray<Intention>> _lists;

    private DestinationMatchIndex(ImmutableDictionary<EntryKey, ServiceIntentionsEntry> entries,
        ImmutableDictionary<EntryKey, ImmutableArray<Intention>> lists, ulong index)
    {
        _entries = entries;
        _lists = lists;
        Index = index;
    }

    /// <summary>An empty index at index 0.</summary>
    public static DestinationMatchIndex Empty { get; } = new(
        ImmutableDictionary<EntryKey, ServiceIntentionsEntry>.Empty, ImmutableDictionary<EntryKey, ImmutableArray<Intention>>.Empty, 0);

    /// <summary>The datacenter index this snapshot reflects.</summary>
    public ulong Index { get; }

    /// <summary>Number of entries (destinations with intentions, wildcards included).</summary>
    public int EntryCount => _entries.Count;

    /// <summary>Every entry.</summary>
    public IEnumerable<ServiceIntentionsEntry> Entries => _entries.Values;

    /// <summary>The entry stored under <paramref name="key"/> (<c>partition/namespace/name</c>), or null.</summary>
    public ServiceIntentionsEntry? Find(string key) => _entries.TryGetValue(EntryKey.Parse(key), out var e) ? e : null;

    /// <summary>Builds an index from a full set of entries.</summary>
    public static DestinationMatchIndex Create(IEnumerable<ServiceIntentionsEntry> entries, ulong index)
        => Empty.Apply(entries, [], index, replaceAll: true);

    /// <summary>
    /// The sorted intentions that apply to the destination <paramref name="name"/> (its own entry plus the wildcard entries of
    /// its namespace and of every namespace), highest precedence first. Never null; empty when none apply.
    /// </summary>
    public ImmutableArray<Intention> ForDestination(string @namespace, string name, string? partition = null)
    {
        var key = new EntryKey(IntentionConstants.OrDefault(partition), IntentionConstants.OrDefault(@namespace), name);
        if (_lists.TryGetValue(key, out var list)) return list;
        if (_lists.TryGetValue(key with { Name = IntentionConstants.Wildcard }, out list)) return list;
        return _lists.TryGetValue(key with { Namespace = IntentionConstants.Wildcard, Name = IntentionConstants.Wildcard }, out list)
            ? list : [];
    }

    /// <summary>
    /// Returns a new index with <paramref name="upserts"/> stored, <paramref name="deletes"/> removed (entry keys
    /// from <c>KeyOf</c>) and the index set to <paramref name="index"/>. With <paramref name="replaceAll"/>
    /// the upserts are the complete new state.
    /// </summary>
    public DestinationMatchIndex Apply(IEnumerable<ServiceIntentionsEntry> upserts, IEnumerable<string> deletes, ulong index, bool replaceAll = false)
    {
        var entries = replaceAll ? ImmutableDictionary<EntryKey, ServiceIntentionsEntry>.Empty.ToBuilder() : _entries.ToBuilder();
        var changed = new HashSet<EntryKey>();
        foreach (var e in upserts)
        {
            var k = EntryKey.Of(e);
            entries[k] = e;
            changed.Add(k);
        }
        foreach (var d in deletes)
        {
            var k = EntryKey.Parse(d);
            if (entries.Remove(k)) changed.Add(k);
        }
        var newEntries = entries.ToImmutable();

        // A wildcard change can alter every list of its partition (or namespace): rebuild all lists. Wildcard
        // entries are rare and few, so this stays cheap in practice; named-destination changes touch one list.
        var lists = replaceAll || changed.Any(k => k.Name == IntentionConstants.Wildcard)
            ? RebuildAll(newEntries)
            : UpdateNamed(_lists, newEntries, changed);
        return new DestinationMatchIndex(newEntries, lists, index);
    }

    /// <summary>The stable key of an entry, <c>partition/namespace/name</c>, as used in deletes and grain keys.</summary>
    public static string KeyOf(ServiceIntentionsEntry entry) => EntryKey.Of(entry).ToString();

    /// <summary>The key of a destination, <c>partition/namespace/name</c>.</summary>
    public static string KeyOf(string @namespace, string name, string? partition = null)
        => new EntryKey(IntentionConstants.OrDefault(partition), IntentionConstants.OrDefault(@namespace), name).ToString();

    private static ImmutableDictionary<EntryKey, ImmutableArray<Intention>> RebuildAll(ImmutableDictionary<EntryKey, ServiceIntentionsEntry> entries)
    {
        var lists = ImmutableDictionary.CreateBuilder<EntryKey, ImmutableArray<Intention>>();
        foreach (var k in entries.Keys) lists[k] = Compute(entries, k);
        return lists.ToImmutable();
    }

    private static ImmutableDictionary<EntryKey, ImmutableArray<Intention>> UpdateNamed(
        ImmutableDictionary<EntryKey, ImmutableArray<Intention>> lists, ImmutableDictionary<EntryKey, ServiceIntentionsEntry> entries,
        HashSet<EntryKey> changed)
    {
        var builder = lists.ToBuilder();
        foreach (var k in changed)
        {
            if (entries.ContainsKey(k)) builder[k] = Compute(entries, k);
            else builder.Remove(k);
        }
        return builder.ToImmutable();
    }

    // The list for key k: k's own entry, its namespace wildcard and the all-namespaces wildcard, sorted.
    private static ImmutableArray<Intention> Compute(ImmutableDictionary<EntryKey, ServiceIntentionsEntry> entries, EntryKey k)
    {
        var relevant = new List<ServiceIntentionsEntry>(3);
        if (entries.TryGetValue(k, out var own)) relevant.Add(own);
        if (k.Name != IntentionConstants.Wildcard && entries.TryGetValue(k with { Name = IntentionConstants.Wildcard }, out var nsWild))
            relevant.Add(nsWild);
        var allKey = k with { Namespace = IntentionConstants.Wildcard, Name = IntentionConstants.Wildcard };
        if (k != allKey && entries.TryGetValue(allKey, out var all)) relevant.Add(all);
        return IntentionMatcher.MatchByDestination(relevant, new ServiceSelector(k.Namespace, k.Name, k.Partition));
    }

    private readonly record struct EntryKey(string Partition, string Namespace, string Name)
    {
        public static EntryKey Of(ServiceIntentionsEntry e)
            => new(IntentionConstants.OrDefault(e.Partition), IntentionConstants.OrDefault(e.Namespace), e.Name);

        public static EntryKey Parse(string key)
        {
            var parts = key.Split('/', 3);
            if (parts.Length != 3) throw new FormatException($"entry key \"{key}\" must be partition/namespace/name");
            return new EntryKey(parts[0], parts[1], parts[2]);
        }

        public override string ToString() => $"{Partition}/{Namespace}/{Name}";
    }
}
