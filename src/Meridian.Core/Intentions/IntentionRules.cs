using System.Collections.Immutable;
using System.Text;
using Meridian.Core.Identity;
using Meridian.Core.Validation;

namespace Meridian.Core.Intentions;

/// <summary>
/// Normalisation and validation of intentions (SPEC §1.2) with Consul's exact message texts. Unlike Consul, every
/// problem is reported at once, and config-entry problems name <c>Sources[i]</c> by the caller's input position
/// (Consul sorts first, so its indices can point at a different source than the one written).
/// </summary>
public static class IntentionRules
{
    /// <summary>Maximum Meta pairs.</summary>
    public const int MetaMaxKeyPairs = 64;

    /// <summary>Maximum Meta key length in UTF-8 bytes.</summary>
    public const int MetaKeyMaxLength = 128;

    /// <summary>Maximum Meta value (and Description) length in UTF-8 bytes.</summary>
    public const int MetaValueMaxLength = 512;

    /// <summary>
    /// Meta keys may not start with this (Consul's <c>metaKeyReservedPrefix</c>: "Key prefix 'consul-' is reserved
    /// for internal use"), so that user meta can never pose as Meridian's or Consul's own.
    /// </summary>
    public const string MetaKeyReservedPrefix = "consul-";

    /// <summary>HTTP methods accepted in L7 permissions.</summary>
    public static ImmutableArray<string> HttpMethods { get; } =
        ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"];

    // ---------------------------------------------------------------------------------------------
    // Config entries
    // ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Normalises, validates and returns the entry; throws <see cref="DomainValidationException"/> with every problem.
    /// </summary>
    public static ServiceIntentionsEntry CreateEntry(ServiceIntentionsEntry spec)
    {
        DomainValidationException.ThrowIfAny(Validate(spec));
        return Normalize(spec);
    }

    /// <summary>
    /// <see cref="CreateEntry(ServiceIntentionsEntry)"/> for a write that adds to a stored entry: problems of the
    /// sources in <paramref name="stored"/> (the same instances, carried over unchanged) and of the Meta when
    /// <paramref name="storedMeta"/> are not reported. They passed the rules of the version that stored them; a rule
    /// added since must not make the destination unwritable, only keep new text out. (Delete them to clean up.)
    /// </summary>
    public static ServiceIntentionsEntry CreateEntry(ServiceIntentionsEntry spec, IReadOnlyCollection<SourceIntention> stored, bool storedMeta)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(stored);
        var carried = new HashSet<int>();
        for (var i = 0; i < spec.Sources.Length; i++)
        {
            if (stored.Any(s => ReferenceEquals(s, spec.Sources[i]))) carried.Add(i);
        }
        DomainValidationException.ThrowIfAny([.. Validate(spec).Where(p => !(storedMeta && p.Field == "Meta") && !carried.Contains(SourceIndex(p.Field)))]);
        return Normalize(spec);
    }

    // The i of a "Sources[i]..." field (input position), -1 for any other field.
    private static int SourceIndex(string field)
    {
        const string prefix = "Sources[";
        if (!field.StartsWith(prefix, StringComparison.Ordinal)) return -1;
        var close = field.IndexOf(']', prefix.Length);
        return close > 0 && int.TryParse(field.AsSpan(prefix.Length, close - prefix.Length), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : -1;
    }

    /// <summary>
    /// Consul's deterministic normalisation: destination namespace/partition default to <c>default</c>; each source
    /// gets Type <c>consul</c> when empty, inherits the destination namespace/partition when unset (a wildcard
    /// destination namespace is not inherited), upper-cased HTTP methods and a computed precedence; sources are
    /// stable-sorted by descending precedence, then descending datacenter specificity.
    /// </summary>
    public static ServiceIntentionsEntry Normalize(ServiceIntentionsEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var sources = ApplySourceDefaults(entry);
        // OrderBy is stable: equal keys keep input order (Raft followers must converge on the same order).
        var sorted = sources
            .OrderByDescending(s => s.Precedence)
            .ThenByDescending(s => IntentionPrecedence.DatacenterSpecificity(s.SourceDatacenter, s.DestinationDatacenter))
            .ToImmutableArray();
        return entry with
        {
            Namespace = IntentionConstants.OrDefault(entry.Namespace),
            Partition = IntentionConstants.OrDefault(entry.Partition),
            Sources = sorted,
            Meta = entry.Meta ?? IntentionConstants.EmptyMeta,
        };
    }

    /// <summary>Every problem with the entry (after source defaults, before sorting). Empty when valid.</summary>
    public static IReadOnlyList<ValidationProblem> Validate(ServiceIntentionsEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var problems = new List<ValidationProblem>();
        var dstNs = IntentionConstants.OrDefault(entry.Namespace);
        var dstPartition = IntentionConstants.OrDefault(entry.Partition);

        if (string.IsNullOrEmpty(entry.Name))
            problems.Add(new("Name", ValidationCodes.Required, "Name is required"));
        else
            CheckWildcards(problems, "", "Namespace", dstNs, "Name", entry.Name);
        CheckName(problems, "Name", entry.Name);
        CheckName(problems, "Namespace", entry.Namespace);
        CheckPartition(problems, "", "Partition", dstPartition);
        CheckName(problems, "Partition", entry.Partition, wildcard: false);
        CheckMeta(problems, "Meta", entry.Meta);

        var sources = ApplySourceDefaults(entry);
        if (sources.Length == 0)
            problems.Add(new("Sources", ValidationCodes.Required, "At least one source is required"));
        if (InputLimits.CheckCount("Sources", sources.Length, InputLimits.MaxSourcesPerEntry) is { } tooMany) problems.Add(tooMany);

        var destIsWild = entry.Name == IntentionConstants.Wildcard || dstNs == IntentionConstants.Wildcard;
        var seen = new HashSet<(string, string, string, string, string)>();
        for (var i = 0; i < sources.Length; i++)
        {
            var src = sources[i];
            var p = $"Sources[{i}]";
            if (src is null)
            {
                problems.Add(new(p, ValidationCodes.Required, $"{p} is required"));
                continue;
            }
            if (string.IsNullOrEmpty(src.Name))
                problems.Add(new($"{p}.Name", ValidationCodes.Required, $"{p}.Name is required"));
            else
                CheckWildcards(problems, p + ".", "Namespace", src.Namespace, "Name", src.Name);
            CheckName(problems, $"{p}.Name", src.Name);
            // The namespace and partition as written: an inherited (destination) value is reported once, there.
            CheckName(problems, $"{p}.Namespace", entry.Sources[i].Namespace);
            CheckPartition(problems, p + ".", "Partition", src.Partition);
            CheckName(problems, $"{p}.Partition", entry.Sources[i].Partition, wildcard: false);
            CheckDatacenter(problems, $"{p}.SourceDatacenter", src.SourceDatacenter);
            CheckDatacenter(problems, $"{p}.DestinationDatacenter", src.DestinationDatacenter);
            if (Utf8Length(src.Description) > MetaValueMaxLength)
                problems.Add(new($"{p}.Description", ValidationCodes.TooLong,
                    $"{p}.Description exceeds maximum length {MetaValueMaxLength}"));
            CheckText(problems, $"{p}.Description", src.Description);

            if (!src.HasPermissions && !IsAction(src.Action))
                problems.Add(new($"{p}.Action", ValidationCodes.InvalidValue, $"{p}.Action must be set to 'allow' or 'deny'"));
            if (src.HasPermissions && src.Action != IntentionAction.Unset)
                problems.Add(new($"{p}.Action", ValidationCodes.Forbidden, $"{p}.Action must be omitted if Permissions are specified"));
            if (destIsWild && src.HasPermissions)
                problems.Add(new($"{p}.Permissions", ValidationCodes.Forbidden,
                    $"{p}.Permissions cannot be specified on intentions with wildcarded destinations"));
            if (src.Type != IntentionConstants.SourceTypeConsul)
                problems.Add(new($"{p}.Type", ValidationCodes.InvalidValue, $"{p}.Type must be set to 'consul'"));

            if (src.HasPermissions && InputLimits.CheckCount($"{p}.Permissions", src.Permissions.Length, InputLimits.MaxPermissionsPerSource) is { } many)
                problems.Add(many);
            else if (src.HasPermissions)
                for (var j = 0; j < src.Permissions.Length; j++)
                    CheckPermission(problems, $"{p}.Permissions[{j}]", src.Permissions[j]);

            if (!string.IsNullOrEmpty(src.Name)
                && !seen.Add((src.Partition, src.Namespace, src.Name, src.SourceDatacenter, src.DestinationDatacenter)))
            {
                problems.Add(new(p, ValidationCodes.DuplicatePair, $"{p} defines {DescribeSource(src)} more than once"));
            }
        }
        return problems;
    }

    // ---------------------------------------------------------------------------------------------
    // Flat (legacy write) intentions
    // ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Normalises (SourceType default, precedence, HTTP methods), validates and returns a flat intention written
    /// through the legacy API; throws <see cref="DomainValidationException"/> with every problem.
    /// </summary>
    public static Intention CreateIntention(Intention spec)
    {
        var normalized = Normalize(spec);
        DomainValidationException.ThrowIfAny(Validate(normalized));
        return normalized;
    }

    /// <summary>Defaults SourceType to <c>consul</c>, upper-cases HTTP methods and recomputes the precedence.</summary>
    public static Intention Normalize(Intention intention)
    {
        ArgumentNullException.ThrowIfNull(intention);
        var n = intention with
        {
            SourceType = string.IsNullOrEmpty(intention.SourceType) ? IntentionConstants.SourceTypeConsul : intention.SourceType,
            Permissions = UpperCaseMethods(intention.Permissions),
            Meta = intention.Meta ?? IntentionConstants.EmptyMeta,
        };
        return n with { Precedence = IntentionPrecedence.Compute(n) };
    }

    /// <summary>
    /// Every problem with a flat intention written through the legacy API (Consul's <c>Intention.Validate</c>, in its
    /// order), plus partition wildcards and Meridian's datacenter names. Empty when valid.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> Validate(Intention intention)
    {
        ArgumentNullException.ThrowIfNull(intention);
        var problems = new List<ValidationProblem>();
        RequireSet(problems, "SourceNS", intention.SourceNS);
        RequireSet(problems, "SourceName", intention.SourceName);
        RequireSet(problems, "DestinationNS", intention.DestinationNS);
        RequireSet(problems, "DestinationName", intention.DestinationName);
        CheckWildcards(problems, "", "SourceNS", intention.SourceNS, "SourceName", intention.SourceName);
        CheckWildcards(problems, "", "DestinationNS", intention.DestinationNS, "DestinationName", intention.DestinationName);
        CheckName(problems, "SourceNS", intention.SourceNS);
        CheckName(problems, "SourceName", intention.SourceName);
        CheckName(problems, "DestinationNS", intention.DestinationNS);
        CheckName(problems, "DestinationName", intention.DestinationName);
        CheckPartition(problems, "", "SourcePartition", intention.SourcePartition);
        CheckPartition(problems, "", "DestinationPartition", intention.DestinationPartition);
        CheckName(problems, "SourcePartition", intention.SourcePartition, wildcard: false);
        CheckName(problems, "DestinationPartition", intention.DestinationPartition, wildcard: false);
        CheckDatacenter(problems, "SourceDatacenter", intention.SourceDatacenter);
        CheckDatacenter(problems, "DestinationDatacenter", intention.DestinationDatacenter);
        if (Utf8Length(intention.Description) > MetaValueMaxLength)
            problems.Add(new("Description", ValidationCodes.TooLong, $"Description exceeds maximum length {MetaValueMaxLength}"));
        CheckText(problems, "Description", intention.Description);
        CheckMeta(problems, "Meta", intention.Meta);
        if (!IsAction(intention.Action))
            problems.Add(new("Action", ValidationCodes.InvalidValue, "Action must be set to 'allow' or 'deny'"));
        if (intention.HasPermissions)
            problems.Add(new("Permissions", ValidationCodes.Forbidden, "Permissions must not be set when using the legacy APIs"));
        if (intention.SourceType != IntentionConstants.SourceTypeConsul)
            problems.Add(new("SourceType", ValidationCodes.InvalidValue, "SourceType must be set to 'consul'"));
        return problems;
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------

    private static ImmutableArray<SourceIntention> ApplySourceDefaults(ServiceIntentionsEntry entry)
    {
        if (entry.Sources.IsDefaultOrEmpty) return [];
        var dstNs = IntentionConstants.OrDefault(entry.Namespace);
        var dstPartition = IntentionConstants.OrDefault(entry.Partition);
        // Consul's MergeNoWildcard: a wildcard destination namespace is not inherited (the source gets `default`).
        var inheritedNs = dstNs == IntentionConstants.Wildcard ? IntentionConstants.Default : dstNs;
        var inheritedPartition = dstPartition == IntentionConstants.Wildcard ? IntentionConstants.Default : dstPartition;
        var builder = ImmutableArray.CreateBuilder<SourceIntention>(entry.Sources.Length);
        foreach (var src in entry.Sources)
        {
            if (src is null)
            {
                builder.Add(null!);
                continue;
            }
            var ns = string.IsNullOrEmpty(src.Namespace) ? inheritedNs : src.Namespace;
            var name = src.Name ?? "";
            builder.Add(src with
            {
                Name = name,
                Namespace = ns,
                Partition = string.IsNullOrEmpty(src.Partition) ? inheritedPartition : src.Partition,
                SourceDatacenter = src.SourceDatacenter ?? "",
                DestinationDatacenter = src.DestinationDatacenter ?? "",
                Type = string.IsNullOrEmpty(src.Type) ? IntentionConstants.SourceTypeConsul : src.Type,
                Description = src.Description ?? "",
                Permissions = UpperCaseMethods(src.Permissions),
                Precedence = IntentionPrecedence.Compute(ns, name, dstNs, entry.Name),
            });
        }
        return builder.MoveToImmutable();
    }

    private static ImmutableArray<IntentionPermission> UpperCaseMethods(ImmutableArray<IntentionPermission> permissions)
    {
        if (permissions.IsDefaultOrEmpty) return [];
        var changed = false;
        var builder = ImmutableArray.CreateBuilder<IntentionPermission>(permissions.Length);
        foreach (var perm in permissions)
        {
            if (perm?.HTTP is { Methods.IsDefaultOrEmpty: false } http
                && http.Methods.Any(m => m is not null && m != m.ToUpperInvariant()))
            {
                changed = true;
                builder.Add(perm with { HTTP = http with { Methods = [.. http.Methods.Select(m => m?.ToUpperInvariant()!)] } });
            }
            else
            {
                builder.Add(perm!);
            }
        }
        return changed ? builder.MoveToImmutable() : permissions;
    }

    private static void CheckPermission(List<ValidationProblem> problems, string pp, IntentionPermission? perm)
    {
        if (perm is null)
        {
            problems.Add(new(pp, ValidationCodes.Required, $"{pp} is required"));
            return;
        }
        if (!IsAction(perm.Action))
            problems.Add(new($"{pp}.Action", ValidationCodes.InvalidValue, $"{pp}.Action must be set to 'allow' or 'deny'"));
        var hp = pp + ".HTTP";
        if (perm.HTTP is not { } http)
        {
            problems.Add(new(hp, ValidationCodes.Required, $"{hp} is required"));
            return;
        }

        var pathParts = 0;
        if (!string.IsNullOrEmpty(http.PathExact))
        {
            pathParts++;
            if (!http.PathExact.StartsWith('/'))
                problems.Add(new($"{hp}.PathExact", ValidationCodes.InvalidFormat,
                    $"{hp}.PathExact doesn't start with '/': {Quote(http.PathExact)}"));
        }
        if (!string.IsNullOrEmpty(http.PathPrefix))
        {
            pathParts++;
            if (!http.PathPrefix.StartsWith('/'))
                problems.Add(new($"{hp}.PathPrefix", ValidationCodes.InvalidFormat,
                    $"{hp}.PathPrefix doesn't start with '/': {Quote(http.PathPrefix)}"));
        }
        if (!string.IsNullOrEmpty(http.PathRegex)) pathParts++;
        CheckText(problems, $"{hp}.PathExact", http.PathExact);
        CheckText(problems, $"{hp}.PathPrefix", http.PathPrefix);
        CheckText(problems, $"{hp}.PathRegex", http.PathRegex);
        if (pathParts > 1)
            problems.Add(new(hp, ValidationCodes.MutuallyExclusive,
                $"{hp} should only contain at most one of PathExact, PathPrefix, or PathRegex"));

        var permParts = pathParts;
        if (!http.Header.IsDefaultOrEmpty && InputLimits.CheckCount($"{hp}.Header", http.Header.Length, InputLimits.MaxHeadersPerPermission) is { } many)
        {
            problems.Add(many);
            permParts++;
        }
        else if (!http.Header.IsDefaultOrEmpty)
        {
            for (var k = 0; k < http.Header.Length; k++)
            {
                var hdr = http.Header[k];
                var hf = $"{hp}.Header[{k}]";
                if (hdr is null || string.IsNullOrEmpty(hdr.Name))
                    problems.Add(new($"{hf}.Name", ValidationCodes.Required, $"{hf} missing required Name field"));
                if (hdr is null) continue;
                foreach (var (part, text) in new[] { ("Name", hdr.Name), ("Exact", hdr.Exact), ("Prefix", hdr.Prefix),
                    ("Suffix", hdr.Suffix), ("Contains", hdr.Contains), ("Regex", hdr.Regex) })
                    CheckText(problems, $"{hf}.{part}", text);
                var parts = (hdr.Present ? 1 : 0) + Set(hdr.Exact) + Set(hdr.Regex) + Set(hdr.Prefix) + Set(hdr.Suffix) + Set(hdr.Contains);
                if (parts != 1)
                    problems.Add(new(hf, ValidationCodes.MutuallyExclusive,
                        $"{hf} should only contain one of Present, Exact, Prefix, Suffix, Contains, or Regex"));
                if (hdr.IgnoreCase && (hdr.Present || Set(hdr.Regex) == 1))
                    problems.Add(new($"{hf}.IgnoreCase", ValidationCodes.Forbidden,
                        $"{hf} should set one of Exact, Prefix, Suffix, or Contains when using IgnoreCase"));
                permParts++;
            }
        }

        if (!http.Methods.IsDefaultOrEmpty)
        {
            var found = new HashSet<string>(StringComparer.Ordinal);
            foreach (var m in http.Methods)
            {
                var method = m ?? "";
                if (!HttpMethods.Contains(method))
                    problems.Add(new($"{hp}.Methods", ValidationCodes.InvalidValue, $"{hp}.Methods contains an invalid method {Quote(method)}"));
                else if (!found.Add(method))
                    problems.Add(new($"{hp}.Methods", ValidationCodes.Duplicate, $"{hp}.Methods contains {Quote(method)} more than once"));
            }
            permParts++;
        }

        if (permParts == 0)
            problems.Add(new(hp, ValidationCodes.Required, $"{hp} should not be empty"));
    }

    private static void RequireSet(List<ValidationProblem> problems, string field, string? value)
    {
        if (string.IsNullOrEmpty(value)) problems.Add(new(field, ValidationCodes.Required, $"{field} must be set"));
    }

    // Consul's validateIntentionWildcards / Intention.Validate wildcard rules. An empty namespace is `default`.
    private static void CheckWildcards(List<ValidationProblem> problems, string prefix, string nsField, string? ns, string nameField, string? name)
    {
        ns ??= "";
        name ??= "";
        if (ns != IntentionConstants.Wildcard && ns.Contains('*', StringComparison.Ordinal))
            problems.Add(new(prefix + nsField, ValidationCodes.PartialWildcard,
                $"{prefix}{nsField}: wildcard character '*' cannot be used with partial values"));
        if (name.Length > 0 && name != IntentionConstants.Wildcard)
        {
            if (name.Contains('*', StringComparison.Ordinal))
                problems.Add(new(prefix + nameField, ValidationCodes.PartialWildcard,
                    $"{prefix}{nameField}: wildcard character '*' cannot be used with partial values"));
            if (ns == IntentionConstants.Wildcard)
                problems.Add(new(prefix + nameField, ValidationCodes.ExactAfterWildcard,
                    $"{prefix}{nameField}: exact value cannot follow wildcard namespace"));
        }
    }

    private static void CheckPartition(List<ValidationProblem> problems, string prefix, string field, string? partition)
    {
        if (partition is not null && partition.Contains('*', StringComparison.Ordinal))
            problems.Add(new(prefix + field, ValidationCodes.WildcardNotAllowed, $"{prefix}{field}: cannot use wildcard '*' in partition"));
    }

    private static void CheckDatacenter(List<ValidationProblem> problems, string field, string? datacenter)
    {
        if (!string.IsNullOrEmpty(datacenter) && DatacenterName.Check(field, datacenter) is { } problem) problems.Add(problem);
    }

    private static void CheckMeta(List<ValidationProblem> problems, string field, IReadOnlyDictionary<string, string>? meta)
    {
        if (meta is null || meta.Count == 0) return;
        if (meta.Count > MetaMaxKeyPairs)
            problems.Add(new(field, ValidationCodes.TooMany, $"{field} exceeds maximum element count {MetaMaxKeyPairs}"));
        // Sorted so that the problem list is deterministic whatever the dictionary's enumeration order.
        foreach (var (k, v) in meta.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (Utf8Length(k) > MetaKeyMaxLength)
                problems.Add(new(field, ValidationCodes.TooLong, $"{field} key {Quote(k)} exceeds maximum length {MetaKeyMaxLength}"));
            else if (k.StartsWith(MetaKeyReservedPrefix, StringComparison.OrdinalIgnoreCase))
                problems.Add(new(field, ValidationCodes.Forbidden, $"{field} key {Quote(k)}: key prefix '{MetaKeyReservedPrefix}' is reserved for internal use"));
            if (Utf8Length(v) > MetaValueMaxLength)
                problems.Add(new(field, ValidationCodes.TooLong, $"{field} value for key {Quote(k)} exceeds maximum length {MetaValueMaxLength}"));
            CheckText(problems, field, k, $"{field} key");
            CheckText(problems, field, v, $"{field} value for key {Quote(k)}:");
        }
    }

    // The one name rule (ServiceName) for names, namespaces and partitions, so that an intention can only name a
    // service that can hold a certificate. Empty values are reported by the required checks (or default); wildcards
    // are left to CheckWildcards/CheckPartition, which report them with Consul's messages.
    private static void CheckName(List<ValidationProblem> problems, string field, string? value, bool wildcard = true)
    {
        if (string.IsNullOrEmpty(value) || value.Contains(IntentionConstants.Wildcard, StringComparison.Ordinal) && !wildcard) return;
        if (ServiceName.CheckSelector(field, value, skipPartialWildcard: true) is { } problem) problems.Add(problem);
    }

    private static void CheckText(List<ValidationProblem> problems, string field, string? value, string? what = null)
    {
        if (ValidationText.Check(field, value, what) is { } problem) problems.Add(problem);
    }

    // Consul's ServiceName.String(): the bare name in the default namespace/partition, otherwise qualified.
    private static string DescribeSource(SourceIntention src)
    {
        var name = src.Partition != IntentionConstants.Default ? $"{src.Partition}/{src.Namespace}/{src.Name}"
            : src.Namespace != IntentionConstants.Default ? $"{src.Namespace}/{src.Name}"
            : src.Name;
        var text = Quote(name);
        if (src.SourceDatacenter.Length > 0) text += $" from datacenter {Quote(src.SourceDatacenter)}";
        if (src.DestinationDatacenter.Length > 0) text += $" in datacenter {Quote(src.DestinationDatacenter)}";
        return text;
    }

    private static bool IsAction(IntentionAction action) => action is IntentionAction.Allow or IntentionAction.Deny;

    private static int Set(string? value) => string.IsNullOrEmpty(value) ? 0 : 1;

    // Go measures lengths in bytes; so do we, so that limits agree with Consul for non-ASCII text.
    private static int Utf8Length(string? value) => value is null ? 0 : Encoding.UTF8.GetByteCount(value);

    // Go's %q: one quoting for every problem message (control characters escaped, never printed raw).
    internal static string Quote(string value) => ValidationText.Quote(value);
}
