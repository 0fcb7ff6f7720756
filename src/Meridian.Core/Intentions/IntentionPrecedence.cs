namespace Meridian.Core.Intentions;

/// <summary>
/// Precedence numbers (SPEC §1.3). Destination specificity always dominates source specificity:
/// <c>max</c> is 9/6/3 for 2/1/0 exact destination parts, and each wildcard source part subtracts one.
/// Datacenter scope does not change the number; it only orders equal-precedence intentions (see
/// <see cref="IntentionPrecedenceComparer"/>), so every Consul precedence stays as it is.
/// </summary>
public static class IntentionPrecedence
{
    /// <summary>Exact parts of (namespace, name): <c>*</c> namespace → 0, <c>*</c> name → 1, else 2. Empty namespace is <c>default</c>.</summary>
    public static int CountExact(string? ns, string? name)
        => ns == IntentionConstants.Wildcard ? 0 : name == IntentionConstants.Wildcard ? 1 : 2;

    /// <summary>The precedence (1..9) of a source → destination pattern.</summary>
    public static int Compute(string? sourceNs, string? sourceName, string? destinationNs, string? destinationName)
    {
        var max = CountExact(destinationNs, destinationName) switch { 2 => 9, 1 => 6, _ => 3 };
        return max - (2 - CountExact(sourceNs, sourceName));
    }

    /// <summary>The precedence of an intention from its own fields.</summary>
    public static int Compute(Intention intention)
    {
        ArgumentNullException.ThrowIfNull(intention);
        return Compute(intention.SourceNS, intention.SourceName, intention.DestinationNS, intention.DestinationName);
    }

    /// <summary>
    /// Datacenter specificity used to order intentions of equal precedence: source-scoped counts 2, destination-scoped 1.
    /// The four scope patterns get four distinct values, so among the intentions matching one concrete
    /// (source, destination, datacenter) triple at one precedence the most specific is always first and the
    /// lexicographic tie-break never decides an L4 outcome.
    /// </summary>
    public static int DatacenterSpecificity(string? sourceDatacenter, string? destinationDatacenter)
        => (string.IsNullOrEmpty(sourceDatacenter) ? 0 : 2) + (string.IsNullOrEmpty(destinationDatacenter) ? 0 : 1);
}

/// <summary>
/// Intention order (SPEC §1.4 plus the datacenter extension): precedence descending, then datacenter specificity
/// descending, then ordinal ascending (SourcePartition, SourceNS, SourceName, DestinationPartition, DestinationNS,
/// DestinationName, SourceDatacenter, DestinationDatacenter). Empty partitions compare as <c>default</c>.
/// </summary>
public sealed class IntentionPrecedenceComparer : IComparer<Intention>
{
    /// <summary>The shared instance (stateless).</summary>
    public static IntentionPrecedenceComparer Instance { get; } = new();

    private IntentionPrecedenceComparer() { }

    /// <inheritdoc />
    public int Compare(Intention? x, Intention? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return 1;
        if (y is null) return -1;
        var c = y.Precedence.CompareTo(x.Precedence);
        if (c != 0) return c;
        c = IntentionPrecedence.DatacenterSpecificity(y.SourceDatacenter, y.DestinationDatacenter)
            .CompareTo(IntentionPrecedence.DatacenterSpecificity(x.SourceDatacenter, x.DestinationDatacenter));
        if (c != 0) return c;
        if ((c = Ord(IntentionConstants.OrDefault(x.SourcePartition), IntentionConstants.OrDefault(y.SourcePartition))) != 0) return c;
        if ((c = Ord(x.SourceNS, y.SourceNS)) != 0) return c;
        if ((c = Ord(x.SourceName, y.SourceName)) != 0) return c;
        if ((c = Ord(IntentionConstants.OrDefault(x.DestinationPartition), IntentionConstants.OrDefault(y.DestinationPartition))) != 0) return c;
        if ((c = Ord(x.DestinationNS, y.DestinationNS)) != 0) return c;
        if ((c = Ord(x.DestinationName, y.DestinationName)) != 0) return c;
        if ((c = Ord(x.SourceDatacenter, y.SourceDatacenter)) != 0) return c;
        return Ord(x.DestinationDatacenter, y.DestinationDatacenter);
    }

    private static int Ord(string? a, string? b) => string.CompareOrdinal(a ?? "", b ?? "");
}
