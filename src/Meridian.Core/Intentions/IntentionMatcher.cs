using System.Collections.Immutable;
using Meridian.Core.Validation;

namespace Meridian.Core.Intentions;

/// <summary>
/// Intention match queries over config entries (SPEC §1.5). Results are flat intentions sorted by
/// <see cref="IntentionPrecedenceComparer"/>; a name with no match yields an empty list, never an error.
/// Datacenter scope is not a match criterion: scoped intentions are listed and filtered at decision time.
/// </summary>
public static class IntentionMatcher
{
    /// <summary>Parses the <c>by</c> query parameter with Consul's error texts.</summary>
    public static IntentionMatchType ParseMatchType(string? by) => by switch
    {
        null or "" => throw new DomainValidationException("by", ValidationCodes.Required, "required query parameter 'by' not set"),
        "source" => IntentionMatchType.Source,
        "destination" => IntentionMatchType.Destination,
        _ => throw new DomainValidationException("by", ValidationCodes.InvalidValue,
            "'by' parameter must be one of 'source' or 'destination'"),
    };

    /// <summary>
    /// One sorted list per requested name, in request order. Throws <see cref="DomainValidationException"/>
    /// (<c>required query parameter 'name' not set</c>) when no name is given.
    /// </summary>
    public static ImmutableArray<ImmutableArray<Intention>> Match(
        IEnumerable<ServiceIntentionsEntry> entries, IntentionMatchType by, IReadOnlyList<ServiceSelector> names)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0)
            throw new DomainValidationException("name", ValidationCodes.Required, "required query parameter 'name' not set");
        var list = entries as IReadOnlyCollection<ServiceIntentionsEntry> ?? entries.ToList();
        var builder = ImmutableArray.CreateBuilder<ImmutableArray<Intention>>(names.Count);
        foreach (var name in names)
        {
            builder.Add(by switch
            {
                IntentionMatchType.Source => MatchBySource(list, name),
                IntentionMatchType.Destination => MatchByDestination(list, name),
                _ => throw new ArgumentOutOfRangeException(nameof(by), by, "Unknown match type."),
            });
        }
        return builder.MoveToImmutable();
    }

    /// <summary>
    /// Every intention that applies to <paramref name="destination"/>: the sources of the entries named X or <c>*</c>
    /// in its namespace, plus the <c>*</c>/<c>*</c> entry, in its partition; sorted. This is the per-destination list
    /// the authorize hot path walks.
    /// </summary>
    public static ImmutableArray<Intention> MatchByDestination(IEnumerable<ServiceIntentionsEntry> entries, ServiceSelector destination)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var builder = ImmutableArray.CreateBuilder<Intention>();
        foreach (var entry in entries)
        {
            if (entry is null || entry.Sources.IsDefaultOrEmpty) continue;
            if (IntentionConstants.OrDefault(entry.Partition) != destination.Partition) continue;
            if (!Covers(IntentionConstants.OrDefault(entry.Namespace), entry.Name, destination)) continue;
            foreach (var src in entry.Sources) builder.Add(entry.ToIntention(src));
        }
        builder.Sort(IntentionPrecedenceComparer.Instance);
        return builder.ToImmutable();
    }

    /// <summary>
    /// Every intention whose source covers <paramref name="source"/> (equal, or <c>*</c> name in its namespace, or
    /// <c>*</c>/<c>*</c>) and whose source partition equals the request's; sorted.
    /// </summary>
    public static ImmutableArray<Intention> MatchBySource(IEnumerable<ServiceIntentionsEntry> entries, ServiceSelector source)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var builder = ImmutableArray.CreateBuilder<Intention>();
        foreach (var entry in entries)
        {
            if (entry is null || entry.Sources.IsDefaultOrEmpty) continue;
            foreach (var src in entry.Sources)
            {
                var intention = entry.ToIntention(src);
                if (intention.SourcePartition != source.Partition) continue;
                if (!Covers(intention.SourceNS, intention.SourceName, source)) continue;
                builder.Add(intention);
            }
        }
        builder.Sort(IntentionPrecedenceComparer.Instance);
        return builder.ToImmutable();
    }

    // (ns, name) pattern covers a concrete service: exact, `ns/*`, or `*/*`.
    private static bool Covers(string ns, string name, ServiceSelector target)
    {
        if (ns == IntentionConstants.Wildcard) return name == IntentionConstants.Wildcard;
        if (ns != target.Namespace) return false;
        return name == IntentionConstants.Wildcard || name == target.Name;
    }
}
