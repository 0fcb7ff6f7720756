using System.Collections.Immutable;

namespace Meridian.Core.Intentions;

/// <summary>What an intention (or an L7 permission) does with matching traffic. <see cref="Unset"/> is invalid input.</summary>
public enum IntentionAction
{
    /// <summary>Not set; rejected by validation where an action is required.</summary>
    Unset = 0,

    /// <summary><c>allow</c>.</summary>
    Allow = 1,

    /// <summary><c>deny</c>.</summary>
    Deny = 2,
}

/// <summary>Constants shared by the intention model (Consul's values).</summary>
public static class IntentionConstants
{
    /// <summary>The full-value wildcard for namespaces and names.</summary>
    public const string Wildcard = "*";

    /// <summary>Namespace and partition used when none is given.</summary>
    public const string Default = "default";

    /// <summary>The only valid source type.</summary>
    public const string SourceTypeConsul = "consul";

    /// <summary>The intention Meta key that names an external source (reported in decisions).</summary>
    public const string ExternalSourceMetaKey = "external-source";

    /// <summary>Config-entry kind of <see cref="ServiceIntentionsEntry"/>.</summary>
    public const string ServiceIntentionsKind = "service-intentions";

    internal static readonly IReadOnlyDictionary<string, string> EmptyMeta = ImmutableDictionary<string, string>.Empty;

    internal static string OrDefault(string? value) => string.IsNullOrEmpty(value) ? Default : value;
}

/// <summary>
/// One L7 permission of a source intention (SPEC §1.1). Permissions are evaluated in list order by the data plane;
/// for L4 decisions any permission makes the match count as "not allowed".
/// </summary>
public sealed record IntentionPermission
{
    /// <summary><c>allow</c> or <c>deny</c>; required.</summary>
    public IntentionAction Action { get; init; }

    /// <summary>HTTP match criteria; required (the only protocol modelled).</summary>
    public IntentionHttpPermission? HTTP { get; init; }
}

/// <summary>HTTP criteria of an <see cref="IntentionPermission"/>: at most one path matcher, headers, methods.</summary>
public sealed record IntentionHttpPermission
{
    /// <summary>Exact path; must start with <c>/</c>.</summary>
    public string? PathExact { get; init; }

    /// <summary>Path prefix; must start with <c>/</c>.</summary>
    public string? PathPrefix { get; init; }

    /// <summary>Path regular expression (RE2 syntax, checked by the data plane).</summary>
    public string? PathRegex { get; init; }

    /// <summary>Header matchers, all of which must match.</summary>
    public ImmutableArray<IntentionHttpHeaderPermission> Header { get; init; } = [];

    /// <summary>Allowed methods (upper-cased by normalisation; GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS, TRACE).</summary>
    public ImmutableArray<string> Methods { get; init; } = [];
}

/// <summary>A header matcher: a <see cref="Name"/> and exactly one of Present/Exact/Prefix/Suffix/Contains/Regex.</summary>
public sealed record IntentionHttpHeaderPermission
{
    /// <summary>Header name; required.</summary>
    public string Name { get; init; } = "";

    /// <summary>Matches when the header is present.</summary>
    public bool Present { get; init; }

    /// <summary>Exact value.</summary>
    public string? Exact { get; init; }

    /// <summary>Value prefix.</summary>
    public string? Prefix { get; init; }

    /// <summary>Value suffix.</summary>
    public string? Suffix { get; init; }

    /// <summary>Value substring.</summary>
    public string? Contains { get; init; }

    /// <summary>Value regular expression.</summary>
    public string? Regex { get; init; }

    /// <summary>Inverts the match.</summary>
    public bool Invert { get; init; }

    /// <summary>Case-insensitive match; only with Exact, Prefix, Suffix or Contains.</summary>
    public bool IgnoreCase { get; init; }
}

/// <summary>
/// One source rule of a <see cref="ServiceIntentionsEntry"/> (Consul's <c>SourceIntention</c>), plus Meridian's
/// datacenter scope. Empty <see cref="Namespace"/>/<see cref="Partition"/> inherit the destination's on normalisation.
/// </summary>
public sealed record SourceIntention
{
    /// <summary>Source service name, or <c>*</c>.</summary>
    public string Name { get; init; } = "";

    /// <summary>Source namespace, or <c>*</c>; empty inherits the destination's.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>Source partition (never wildcard); empty inherits the destination's.</summary>
    public string Partition { get; init; } = "";

    /// <summary>
    /// Meridian extension: when set, the rule applies only to sources whose SPIFFE <c>dc</c> equals it.
    /// Empty means any datacenter (Consul's behaviour).
    /// </summary>
    public string SourceDatacenter { get; init; } = "";

    /// <summary>
    /// Meridian extension: when set, the rule applies only when the deciding datacenter equals it.
    /// Empty means any datacenter.
    /// </summary>
    public string DestinationDatacenter { get; init; } = "";

    /// <summary><c>allow</c>/<c>deny</c>; required without <see cref="Permissions"/>, forbidden with them.</summary>
    public IntentionAction Action { get; init; }

    /// <summary>L7 permissions; forbidden when the destination is wildcarded.</summary>
    public ImmutableArray<IntentionPermission> Permissions { get; init; } = [];

    /// <summary>Read-only: recomputed by <see cref="IntentionRules.Normalize(ServiceIntentionsEntry)"/>; input values are ignored.</summary>
    public int Precedence { get; init; }

    /// <summary>Source type; defaults to <c>consul</c>, the only valid value.</summary>
    public string Type { get; init; } = "";

    /// <summary>Opaque description, at most 512 bytes.</summary>
    public string Description { get; init; } = "";

    /// <summary>True when the rule carries L7 permissions.</summary>
    public bool HasPermissions => !Permissions.IsDefaultOrEmpty;
}

/// <summary>
/// A <c>service-intentions</c> config entry: one per destination service, holding that destination's source rules.
/// All sources share the entry's <see cref="Meta"/>, <see cref="CreateIndex"/> and <see cref="ModifyIndex"/>.
/// Build with <see cref="IntentionRules.CreateEntry(ServiceIntentionsEntry)"/> to get a normalised, validated entry.
/// </summary>
public sealed record ServiceIntentionsEntry
{
    /// <summary>Always <c>service-intentions</c>.</summary>
    public string Kind => IntentionConstants.ServiceIntentionsKind;

    /// <summary>Destination service name, or <c>*</c>.</summary>
    public string Name { get; init; } = "";

    /// <summary>Destination namespace, or <c>*</c>; empty means <c>default</c>.</summary>
    public string Namespace { get; init; } = "";

    /// <summary>Destination partition (never wildcard); empty means <c>default</c>.</summary>
    public string Partition { get; init; } = "";

    /// <summary>Source rules, sorted by descending precedence after normalisation.</summary>
    public ImmutableArray<SourceIntention> Sources { get; init; } = [];

    /// <summary>Entry metadata (at most 64 pairs, keys ≤ 128 bytes, values ≤ 512 bytes).</summary>
    public IReadOnlyDictionary<string, string> Meta { get; init; } = IntentionConstants.EmptyMeta;

    /// <summary>Index of the write that created the entry.</summary>
    public ulong CreateIndex { get; init; }

    /// <summary>Index of the last write to the entry.</summary>
    public ulong ModifyIndex { get; init; }

    /// <summary>True when the destination name or namespace is <c>*</c> (L7 permissions are then forbidden).</summary>
    public bool HasWildcardDestination
        => Name == IntentionConstants.Wildcard || Namespace == IntentionConstants.Wildcard;

    /// <summary>The flat API view of every source, in source order (Consul's <c>ToIntentions</c>).</summary>
    public ImmutableArray<Intention> ToIntentions()
    {
        if (Sources.IsDefaultOrEmpty) return [];
        var builder = ImmutableArray.CreateBuilder<Intention>(Sources.Length);
        foreach (var src in Sources) builder.Add(ToIntention(src));
        return builder.MoveToImmutable();
    }

    /// <summary>The flat API view of one source of this entry.</summary>
    public Intention ToIntention(SourceIntention source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new Intention
        {
            Description = source.Description ?? "",
            SourceNS = IntentionConstants.OrDefault(source.Namespace),
            SourceName = source.Name ?? "",
            SourcePartition = IntentionConstants.OrDefault(source.Partition),
            SourceType = source.Type ?? "",
            SourceDatacenter = source.SourceDatacenter ?? "",
            DestinationNS = IntentionConstants.OrDefault(Namespace),
            DestinationName = Name ?? "",
            DestinationPartition = IntentionConstants.OrDefault(Partition),
            DestinationDatacenter = source.DestinationDatacenter ?? "",
            Action = source.Action,
            Permissions = source.Permissions.IsDefault ? [] : source.Permissions,
            Meta = Meta ?? IntentionConstants.EmptyMeta,
            Precedence = source.Precedence,
            CreateIndex = CreateIndex,
            ModifyIndex = ModifyIndex,
        };
    }
}

/// <summary>
/// The flat intention API view with Consul's field names, plus Meridian's <see cref="SourceDatacenter"/> and
/// <see cref="DestinationDatacenter"/>. <see cref="ToString"/> is Consul's human form used in authorize reasons.
/// </summary>
public sealed record Intention
{
    /// <summary>Legacy ID; empty for config-entry-authored intentions.</summary>
    public string ID { get; init; } = "";

    /// <summary>Opaque description, at most 512 bytes.</summary>
    public string Description { get; init; } = "";

    /// <summary>Source namespace or <c>*</c>.</summary>
    public string SourceNS { get; init; } = "";

    /// <summary>Source service name or <c>*</c>.</summary>
    public string SourceName { get; init; } = "";

    /// <summary>Destination namespace or <c>*</c>.</summary>
    public string DestinationNS { get; init; } = "";

    /// <summary>Destination service name or <c>*</c>.</summary>
    public string DestinationName { get; init; } = "";

    /// <summary>Source partition; empty means <c>default</c>.</summary>
    public string SourcePartition { get; init; } = "";

    /// <summary>Destination partition; empty means <c>default</c>.</summary>
    public string DestinationPartition { get; init; } = "";

    /// <summary>Source type; only <c>consul</c> is valid.</summary>
    public string SourceType { get; init; } = "";

    /// <summary><c>allow</c>/<c>deny</c>; <see cref="IntentionAction.Unset"/> when <see cref="Permissions"/> are present.</summary>
    public IntentionAction Action { get; init; }

    /// <summary>L7 permissions (config-entry intentions only).</summary>
    public ImmutableArray<IntentionPermission> Permissions { get; init; } = [];

    /// <summary>For config-entry intentions, the entry's Meta (shared by all its sources).</summary>
    public IReadOnlyDictionary<string, string> Meta { get; init; } = IntentionConstants.EmptyMeta;

    /// <summary>Read-only: 1..9, recomputed on every write (SPEC §1.3).</summary>
    public int Precedence { get; init; }

    /// <summary>The enclosing config entry's create index.</summary>
    public ulong CreateIndex { get; init; }

    /// <summary>The enclosing config entry's modify index.</summary>
    public ulong ModifyIndex { get; init; }

    /// <summary>Meridian extension: applies only to sources in this datacenter; empty means any.</summary>
    public string SourceDatacenter { get; init; } = "";

    /// <summary>Meridian extension: applies only when deciding in this datacenter; empty means any.</summary>
    public string DestinationDatacenter { get; init; } = "";

    /// <summary>True when the intention carries L7 permissions.</summary>
    public bool HasPermissions => !Permissions.IsDefaultOrEmpty;

    /// <summary>
    /// Consul's human form: <c>[&lt;SrcPartition&gt;/]&lt;SrcNS&gt;/&lt;SrcName&gt; =&gt; [&lt;DstPartition&gt;/]&lt;DstNS&gt;/&lt;DstName&gt;
    /// ([ID: &lt;id&gt;, ]Precedence: &lt;n&gt;, Action: ALLOW|DENY)</c>, or <c>Permissions: &lt;count&gt;</c> as the tail with L7 rules.
    /// Partitions are printed only when not <c>default</c>. Datacenter-scoped ends get an <c>@&lt;dc&gt;</c> suffix.
    /// </summary>
    public override string ToString()
    {
        var sb = new System.Text.StringBuilder(96);
        AppendEnd(sb, SourcePartition, SourceNS, SourceName, SourceDatacenter);
        sb.Append(" => ");
        AppendEnd(sb, DestinationPartition, DestinationNS, DestinationName, DestinationDatacenter);
        sb.Append(" (");
        if (!string.IsNullOrEmpty(ID)) sb.Append("ID: ").Append(ID).Append(", ");
        sb.Append("Precedence: ").Append(Precedence).Append(", ");
        if (HasPermissions) sb.Append("Permissions: ").Append(Permissions.Length);
        else sb.Append("Action: ").Append(Action switch { IntentionAction.Allow => "ALLOW", IntentionAction.Deny => "DENY", _ => "" });
        return sb.Append(')').ToString();
    }

    private static void AppendEnd(System.Text.StringBuilder sb, string partition, string ns, string name, string datacenter)
    {
        if (!string.IsNullOrEmpty(partition) && partition != IntentionConstants.Default) sb.Append(partition).Append('/');
        sb.Append(ns).Append('/').Append(name);
        if (!string.IsNullOrEmpty(datacenter)) sb.Append('@').Append(datacenter);
    }
}
