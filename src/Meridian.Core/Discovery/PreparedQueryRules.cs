using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Meridian.Core.Certificates;
using Meridian.Core.Validation;

namespace Meridian.Core.Discovery;

/// <summary>
/// Validation of a prepared query definition and the store's rules, with Consul's texts
/// (<c>parseQuery</c> in <c>agent/consul/prepared_query_endpoint.go</c>, <c>PreparedQuerySet</c> in
/// <c>agent/consul/state/prepared_query.go</c>; https://developer.hashicorp.com/consul/api-docs/query).
/// </summary>
public static class PreparedQueryRules
{
    /// <summary>What a caller without <c>acl:write</c> sees instead of the captured token (Consul's <c>redactedToken</c>).</summary>
    public const string RedactedToken = "<hidden>";

    /// <summary>The one template type Consul knows.</summary>
    public const string NamePrefixMatch = "name_prefix_match";

    /// <summary>Every message of <see cref="Validate"/> starts with this (Consul wraps <c>parseQuery</c>'s error in it).</summary>
    public const string InvalidPrefix = "Invalid prepared query: ";

    /// <summary>Consul's text for a create request that names an ID.</summary>
    public const string IdMustBeEmpty = "ID must be empty when creating a new prepared query";

    /// <summary>Consul's <c>ErrQueryNotFound</c>.</summary>
    public const string QueryNotFound = "Query not found";

    /// <summary>Consul's refusal to resolve a template by its ID.</summary>
    public const string TemplateById = "prepared query templates can only be resolved up by name, not by ID";

    // Consul's metadata limits (agent/structs: metaKeyMaxLength, metaValueMaxLength, metaMaxKeyPairs).
    private const int MetaKeyMax = 128, MetaValueMax = 512, MetaMaxPairs = 64;
    private static readonly Regex MetaKey = new("^[a-zA-Z0-9_-]+$", RegexOptions.CultureInvariant);

    /// <summary>Longest template regexp accepted, in UTF-8 bytes (Consul has no cap; 1 KiB is far beyond any real name pattern).</summary>
    public const int MaxRegexpBytes = 1024;

    /// <summary>Longest name, service, tag or datacenter text accepted, in UTF-8 bytes (Consul has no cap).</summary>
    public const int MaxTextBytes = 512;

    /// <summary>Consul's text for an update or delete of an ID that is not stored.</summary>
    public static string NonExistent(string id) => $"Cannot modify non-existent prepared query: '{id}'";

    /// <summary>
    /// Every problem with the definition (Consul's <c>parseQuery</c>, which stops at the first; we report all), each
    /// message starting <c>Invalid prepared query: </c>. The template is checked by <see cref="CheckTemplate"/>, as
    /// Consul checks it in the store.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> Validate(PreparedQuery q)
    {
        var problems = new List<ValidationProblem>();
        void Add(string field, string code, string message) => problems.Add(new(field, code, InvalidPrefix + message));

        if (q.Name.Length == 0 && q.Template.Type.Length == 0 && q.Session.Length == 0)
            Add("Session", ValidationCodes.Required, "Must be bound to a session");
        if (q.Token == RedactedToken)
            Add("Token", ValidationCodes.InvalidValue, $"Bad Token '{q.Token}', it looks like a query definition with a redacted token was submitted");
        var s = q.Service;
        if (s.Service.Length == 0)
            Add("Service.Service", ValidationCodes.Required, "Must provide a Service name to query");
        if (s.Failover.NearestN < 0)
            Add("Service.Failover.NearestN", ValidationCodes.OutOfRange, $"Bad NearestN '{s.Failover.NearestN}', must be >= 0");
        if ((s.Failover.NearestN != 0 || !s.Failover.Datacenters.IsDefaultOrEmpty) && !s.Failover.Targets.IsDefaultOrEmpty)
            Add("Service.Failover.Targets", ValidationCodes.MutuallyExclusive, "Targets cannot be populated with NearestN or Datacenters");
        if (NodeMetaProblem(s.NodeMeta) is { } meta)
            Add("Service.NodeMeta", ValidationCodes.InvalidValue, meta);
        if (q.Dns.Ttl.Length > 0)
        {
            if (!GoDuration.TryParse(q.Dns.Ttl, out var ttl, out var error))
                Add("DNS.TTL", ValidationCodes.InvalidFormat, $"Bad DNS TTL '{q.Dns.Ttl}': {error}");
            else if (ttl < TimeSpan.Zero)
                Add("DNS.TTL", ValidationCodes.OutOfRange, $"DNS TTL '{ttl.Ticks * 100}', must be >=0"); // Go prints the nanoseconds
        }
        foreach (var (field, value) in Texts(q))
            if (ValidationText.Check(field, value) is { } control) problems.Add(control);
        // Caps Consul does not have: a definition is read on every execution, and a regexp is compiled per render.
        foreach (var (field, count) in new[]
        {
            ("Service.Tags", s.Tags.IsDefault ? 0 : s.Tags.Length),
            ("Service.Failover.Datacenters", s.Failover.Datacenters.IsDefault ? 0 : s.Failover.Datacenters.Length),
            ("Service.Failover.Targets", s.Failover.Targets.IsDefault ? 0 : s.Failover.Targets.Length),
            ("Service.IgnoreCheckIDs", s.IgnoreCheckIds.IsDefault ? 0 : s.IgnoreCheckIds.Length),
            ("Service.ServiceMeta", s.ServiceMeta.Count),
        })
            if (InputLimits.CheckCount(field, count, InputLimits.MaxNamesPerRequest) is { } many) problems.Add(many);
        if (InputLimits.CheckBytes("Template.Regexp", q.Template.Regexp, MaxRegexpBytes) is { } long1) problems.Add(long1);
        foreach (var (field, value) in Texts(q))
            if (InputLimits.CheckBytes(field, value, MaxTextBytes) is { } long2) problems.Add(long2);
        return problems;
    }

    /// <summary>
    /// The store's template check (Consul compiles a template when it is written): null, or the problem with
    /// Consul's <c>failed compiling template: …</c> text (a type other than <c>name_prefix_match</c>, a regexp that
    /// does not compile, an interpolation that does not parse).
    /// </summary>
    public static ValidationProblem? CheckTemplate(PreparedQuery q)
    {
        if (!q.IsTemplate) return null;
        return QueryTemplates.TryCompile(q, out _, out var field, out var error)
            ? null
            : new(field, ValidationCodes.InvalidValue, "failed compiling template: " + error);
    }

    /// <summary>
    /// The store's uniqueness rules for writing <paramref name="incoming"/> (whose <see cref="PreparedQuery.Id"/> is
    /// set) over <paramref name="stored"/>: names are unique case-insensitively; a name may not equal another query's
    /// ID (it would hijack lookups by ID); at most one template has the empty name. Consul's texts.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> CheckStore(IEnumerable<PreparedQuery> stored, PreparedQuery incoming)
    {
        var problems = new List<ValidationProblem>();
        var others = stored.Where(o => o.Id != incoming.Id).ToList();
        if (incoming.Name.Length > 0)
        {
            if (others.Any(o => string.Equals(o.Name, incoming.Name, StringComparison.OrdinalIgnoreCase)))
                problems.Add(new("Name", ValidationCodes.Duplicate, $"name '{incoming.Name}' aliases an existing query name"));
        }
        else if (incoming.IsTemplate && others.Any(o => o.IsTemplate && o.Name.Length == 0))
            problems.Add(new("Name", ValidationCodes.Duplicate, "a query template with an empty name already exists"));
        if (Guid.TryParseExact(incoming.Name, "D", out _) && stored.Any(o => string.Equals(o.Id, incoming.Name, StringComparison.OrdinalIgnoreCase)))
            problems.Add(new("Name", ValidationCodes.Duplicate, $"name '{incoming.Name}' aliases an existing query ID"));
        return problems;
    }

    /// <summary>
    /// Consul's <c>PreparedQueryResolve</c> over <paramref name="stored"/>: a UUID that is a stored ID (a template
    /// found by ID is refused with <see cref="TemplateById"/>); else the query with that exact name (names compare
    /// case-insensitively, as Consul's name index); else the template whose name is the longest case-insensitive
    /// prefix of <paramref name="idOrName"/> (an empty-name template answers every name nothing longer matches). The
    /// query is returned as stored, not rendered (see <see cref="Render"/>).
    /// </summary>
    public static QueryResolution Resolve(IEnumerable<PreparedQuery> stored, string idOrName)
    {
        if (idOrName.Length == 0) return QueryResolution.NotFound;
        var all = stored as IReadOnlyCollection<PreparedQuery> ?? stored.ToList();
        if (Guid.TryParseExact(idOrName, "D", out _)
            && all.FirstOrDefault(q => string.Equals(q.Id, idOrName, StringComparison.OrdinalIgnoreCase)) is { } byId)
            return byId.IsTemplate ? new(null, TemplateById) : new(byId, null);
        if (all.FirstOrDefault(q => q.Name.Length > 0 && string.Equals(q.Name, idOrName, StringComparison.OrdinalIgnoreCase)) is { } byName)
            return new(byName, null);
        PreparedQuery? best = null;
        foreach (var q in all)
        {
            if (!q.IsTemplate || !idOrName.StartsWith(q.Name, StringComparison.OrdinalIgnoreCase)) continue;
            if (best is null || q.Name.Length > best.Name.Length) best = q;
        }
        return best is null ? QueryResolution.NotFound : new(best, null);
    }

    /// <summary>
    /// The definition executed for <paramref name="name"/>: a static query as it is, a template rendered for the name
    /// (Consul's <c>Render</c>: <c>${name.full}</c>, <c>${name.prefix}</c>, <c>${name.suffix}</c>, <c>${match(N)}</c>
    /// in every text of <see cref="PreparedQuery.Service"/>, then empty tags removed when asked).
    /// </summary>
    public static PreparedQuery Render(PreparedQuery query, string name)
    {
        if (!query.IsTemplate) return query;
        if (!QueryTemplates.TryCompile(query, out var compiled, out _, out var error))
            throw new InvalidOperationException("A stored template no longer compiles: " + error); // the store compiled it when written
        return compiled.Render(name);
    }

    /// <summary>The definition with the token replaced by <see cref="RedactedToken"/> (Consul redacts even an empty one).</summary>
    public static PreparedQuery Redacted(PreparedQuery q) => q with { Token = RedactedToken };

    // Consul's ValidateNodeMetadata(meta, allowConsulPrefix: true): the first bad pair.
    private static string? NodeMetaProblem(ImmutableDictionary<string, string> meta)
    {
        if (meta.Count > MetaMaxPairs) return $"Node metadata cannot contain more than {MetaMaxPairs} key/value pairs";
        foreach (var (key, value) in meta.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var reason = key.Length == 0 ? "Key cannot be blank"
                : !MetaKey.IsMatch(key) ? "Key contains invalid characters"
                : key.Length > MetaKeyMax ? $"Key is too long (limit: {MetaKeyMax} characters)"
                : value.Length > MetaValueMax ? $"Value is too long (limit: {MetaValueMax} characters)"
                : null;
            if (reason is not null) return $"Couldn't load metadata pair ('{key}', '{value}'): {reason}";
        }
        return null;
    }

    private static IEnumerable<(string Field, string Value)> Texts(PreparedQuery q)
    {
        yield return ("Name", q.Name);
        yield return ("Session", q.Session);
        yield return ("Service.Service", q.Service.Service);
        yield return ("Service.Near", q.Service.Near);
        foreach (var (t, i) in q.Service.Tags.Select((t, i) => (t, i))) yield return ($"Service.Tags[{i}]", t);
        foreach (var (d, i) in q.Service.Failover.Datacenters.Select((d, i) => (d, i))) yield return ($"Service.Failover.Datacenters[{i}]", d);
    }
}

/// <summary>What <see cref="PreparedQueryRules.Resolve"/> found: the query, or an error text (Consul's), or neither (not found).</summary>
public sealed record QueryResolution(PreparedQuery? Query, string? Error)
{
    /// <summary>No query answers the name or ID.</summary>
    public static QueryResolution NotFound { get; } = new(null, null);
}
