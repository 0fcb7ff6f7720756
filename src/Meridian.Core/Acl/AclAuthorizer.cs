
namespace Meridian.Core.Acl;

/// <summary>What the authorizer answers when no rule speaks: <c>acl.default_policy</c>.</summary>
public enum AclDefaultPolicy
{
    Allow,
    Deny,
}

/// <summary>
/// The answer to one permission question. A refusal names the permission the caller lacks
/// (<see cref="Permission"/>, e.g. <c>service:write</c>) and the name it was asked on.
/// </summary>
/// <param name="Allowed">True when the permission is granted.</param>
/// <param name="Resource">The resource asked about.</param>
/// <param name="Access">The access level asked for.</param>
/// <param name="Name">The resource name; null for unnamed resources (operator, acl, mesh, keyring, peering).</param>
/// <param name="ByRule">True when a rule decided; false when the default policy did.</param>
public sealed record AclDecision(bool Allowed, AclResource Resource, AclAccess Access, string? Name, bool ByRule)
{
    /// <summary>The permission asked for, as Consul prints it: <c>service:write</c>, <c>intention:read</c>.</summary>
    public string Permission => $"{AclWords.Of(Resource)}:{AclWords.Of(Access)}";

    /// <summary>
    /// Consul's refusal text (<c>acl/errors.go</c>): <c>Permission denied: token with AccessorID '&lt;id&gt;' lacks
    /// permission 'service:write' on "web"</c>, or the anonymous token's variant when <paramref name="accessorId"/> is
    /// the anonymous token's. Only the AccessorID is ever printed, never a secret.
    /// </summary>
    public string DeniedMessage(string accessorId)
    {
        var on = Name is null ? "" : $" on \"{Name}\"";
        return accessorId == AclBuiltins.AnonymousTokenAccessorId
            ? $"Permission denied: anonymous token lacks permission '{Permission}'{on}. The anonymous token is used implicitly when a request does not specify a token."
            : $"Permission denied: token with AccessorID '{accessorId}' lacks permission '{Permission}'{on}";
    }
}

/// <summary>
/// Answers permission questions for one token, from the rules of all its policies merged, as Consul's
/// <c>acl/policy_merger.go</c> and <c>acl/policy_authorizer.go</c>
/// (https://developer.hashicorp.com/consul/docs/security/acl/acl-rules#rule-scope):
/// <list type="number">
/// <item>Merge: for the same resource, name and exact-or-prefix form, the first of deny &gt; write &gt; list &gt; read
/// present wins; a service rule's <c>intentions</c> merges independently the same way. Rules for different names
/// never override each other.</item>
/// <item>After merging, a service rule without <c>intentions</c> gets <c>read</c> when its policy is read or write,
/// <c>deny</c> otherwise.</item>
/// <item>Lookup: an exact rule for the name wins over every prefix rule (even a prefix deny); otherwise the longest
/// prefix rule whose label starts the name; otherwise the default policy.</item>
/// <item>write grants read, list and write; list grants list and read; read grants read; deny grants nothing.</item>
/// </list>
/// Immutable and thread-safe; build one per resolved token and cache it.
/// </summary>
public sealed class AclAuthorizer
{
    private readonly Dictionary<AclResource, Table> _tables;
    private readonly Dictionary<AclResource, AclAccess> _unlabelled;

    private AclAuthorizer(Dictionary<AclResource, Table> tables, Dictionary<AclResource, AclAccess> unlabelled, AclDefaultPolicy defaultPolicy)
    {
        _tables = tables;
        _unlabelled = unlabelled;
        DefaultPolicy = defaultPolicy;
    }

    /// <summary>The decision when no rule matches.</summary>
    public AclDefaultPolicy DefaultPolicy { get; }

    /// <summary>An authorizer with no rules: every answer is the default policy (ACLs on, token without policies).</summary>
    public static AclAuthorizer DefaultOnly(AclDefaultPolicy defaultPolicy) => Create([], defaultPolicy);

    /// <summary>Merges <paramref name="policies"/> (order does not matter) and compiles them.</summary>
    public static AclAuthorizer Create(IEnumerable<AclPolicyRules> policies, AclDefaultPolicy defaultPolicy)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var unlabelled = new Dictionary<AclResource, AclAccess>();
        var merged = new Dictionary<(AclResource, string, bool), (AclAccess Policy, AclAccess Intentions)>();
        foreach (var p in policies)
        {
            foreach (var r in (ReadOnlySpan<AclResource>)[AclResource.Acl, AclResource.Operator, AclResource.Mesh, AclResource.Peering, AclResource.Keyring])
                unlabelled[r] = Merge(unlabelled.GetValueOrDefault(r), p.Unlabelled(r));
            foreach (var rule in p.Rules)
            {
                var key = (rule.Resource, rule.Name, rule.IsPrefix);
                var cur = merged.GetValueOrDefault(key);
                merged[key] = (Merge(cur.Policy, rule.Policy), Merge(cur.Intentions, rule.Intentions));
            }
        }

        var tables = new Dictionary<AclResource, Table>();
        foreach (var ((resource, name, prefix), (policy, intentions)) in merged)
        {
            Add(tables, resource, name, prefix, policy);
            if (resource == AclResource.Service)
                Add(tables, AclResource.Intention, name, prefix, intentions != AclAccess.None ? intentions : DeriveIntentions(policy));
        }
        return new AclAuthorizer(tables, unlabelled, defaultPolicy);
    }

    // policy_authorizer.go: "read"/"write" on a service implies reading its intentions; anything else denies them.
    private static AclAccess DeriveIntentions(AclAccess policy) =>
        policy is AclAccess.Read or AclAccess.Write ? AclAccess.Read : AclAccess.Deny;

    // takesPrecedenceOver: deny > write > list > read > unset. The enum's order is this order.
    private static AclAccess Merge(AclAccess a, AclAccess b) => a >= b ? a : b;

    private static void Add(Dictionary<AclResource, Table> tables, AclResource resource, string name, bool prefix, AclAccess access)
    {
        if (!tables.TryGetValue(resource, out var t)) tables[resource] = t = new Table();
        if (prefix) t.Prefix[name] = access; else t.Exact[name] = access;
    }

    // ---------------------------------------------------------------------------------------------
    // Questions
    // ---------------------------------------------------------------------------------------------

    public AclDecision ServiceRead(string name) => Named(AclResource.Service, name, AclAccess.Read);
    public AclDecision ServiceWrite(string name) => Named(AclResource.Service, name, AclAccess.Write);

    /// <summary><c>intention:read</c> on a service; <c>*</c> asks whether any rule allows it (Consul's list check).</summary>
    public AclDecision IntentionRead(string name) =>
        name == "*" ? Wildcard(AclResource.Intention, AclAccess.Read, all: false) : Named(AclResource.Intention, name, AclAccess.Read);

    /// <summary><c>intention:write</c> on a destination; <c>*</c> needs every rule, the <c>""</c> prefix included, to allow it.</summary>
    public AclDecision IntentionWrite(string name) =>
        name == "*" ? Wildcard(AclResource.Intention, AclAccess.Write, all: true) : Named(AclResource.Intention, name, AclAccess.Write);

    /// <summary>Read every service: every service rule, the <c>""</c> prefix included, must allow read.</summary>
    public AclDecision ServiceReadAll() => Wildcard(AclResource.Service, AclAccess.Read, all: true);

    /// <summary>Read every node: every node rule, the <c>""</c> prefix included, must allow read.</summary>
    public AclDecision NodeReadAll() => Wildcard(AclResource.Node, AclAccess.Read, all: true);

    public AclDecision NodeRead(string name) => Named(AclResource.Node, name, AclAccess.Read);
    public AclDecision NodeWrite(string name) => Named(AclResource.Node, name, AclAccess.Write);
    public AclDecision AgentRead(string name) => Named(AclResource.Agent, name, AclAccess.Read);
    public AclDecision AgentWrite(string name) => Named(AclResource.Agent, name, AclAccess.Write);
    public AclDecision KeyRead(string name) => Named(AclResource.Key, name, AclAccess.Read);

    /// <summary><c>key:list</c>; Consul enforces it only with <c>acl.enable_key_list_policy</c> (the caller's choice).</summary>
    public AclDecision KeyList(string name) => Named(AclResource.Key, name, AclAccess.List);
    public AclDecision KeyWrite(string name) => Named(AclResource.Key, name, AclAccess.Write);
    public AclDecision SessionRead(string name) => Named(AclResource.Session, name, AclAccess.Read);
    public AclDecision SessionWrite(string name) => Named(AclResource.Session, name, AclAccess.Write);
    public AclDecision EventRead(string name) => Named(AclResource.Event, name, AclAccess.Read);
    public AclDecision EventWrite(string name) => Named(AclResource.Event, name, AclAccess.Write);
    public AclDecision QueryRead(string name) => Named(AclResource.Query, name, AclAccess.Read);
    public AclDecision QueryWrite(string name) => Named(AclResource.Query, name, AclAccess.Write);

    public AclDecision AclRead() => Unnamed(AclResource.Acl, AclAccess.Read);
    public AclDecision AclWrite() => Unnamed(AclResource.Acl, AclAccess.Write);
    public AclDecision OperatorRead() => Unnamed(AclResource.Operator, AclAccess.Read);
    public AclDecision OperatorWrite() => Unnamed(AclResource.Operator, AclAccess.Write);
    public AclDecision KeyringRead() => Unnamed(AclResource.Keyring, AclAccess.Read);
    public AclDecision KeyringWrite() => Unnamed(AclResource.Keyring, AclAccess.Write);
    public AclDecision PeeringRead() => Unnamed(AclResource.Peering, AclAccess.Read);
    public AclDecision PeeringWrite() => Unnamed(AclResource.Peering, AclAccess.Write);

    // Consul's MeshRead/MeshWrite fall back to operator when mesh has no opinion (acl/policy_authorizer.go).
    public AclDecision MeshRead() => Unnamed(AclResource.Mesh, AclAccess.Read, fallback: AclResource.Operator);
    public AclDecision MeshWrite() => Unnamed(AclResource.Mesh, AclAccess.Write, fallback: AclResource.Operator);

    /// <summary>The same question by resource, for callers that declare permissions as data (an enforcement filter).</summary>
    public AclDecision Check(AclResource resource, AclAccess access, string? name) => resource switch
    {
        AclResource.Acl or AclResource.Operator or AclResource.Keyring or AclResource.Peering => Unnamed(resource, access),
        AclResource.Mesh => Unnamed(resource, access, fallback: AclResource.Operator),
        AclResource.Intention when name == "*" => Wildcard(resource, access, all: access != AclAccess.Read),
        _ => Named(resource, name ?? throw new ArgumentNullException(nameof(name), $"{AclWords.Of(resource)} needs a name."), access),
    };

    private AclDecision Named(AclResource resource, string name, AclAccess required)
    {
        ArgumentNullException.ThrowIfNull(name);
        var rule = _tables.TryGetValue(resource, out var t) ? t.Find(name) : null;
        return Decide(resource, required, name, rule);
    }

    private AclDecision Unnamed(AclResource resource, AclAccess required, AclResource? fallback = null)
    {
        var level = _unlabelled.GetValueOrDefault(resource);
        if (level == AclAccess.None && fallback is { } f) level = _unlabelled.GetValueOrDefault(f);
        return Decide(resource, required, null, level == AclAccess.None ? null : level);
    }

    private AclDecision Decide(AclResource resource, AclAccess required, string? name, AclAccess? rule) =>
        rule is { } r
            ? new AclDecision(Grants(r, required), resource, required, name, ByRule: true)
            : new AclDecision(DefaultPolicy == AclDefaultPolicy.Allow, resource, required, name, ByRule: false);

    // Consul's enforce(): write ⊇ list ⊇ read; deny grants nothing.
    private static bool Grants(AclAccess rule, AclAccess required) => rule switch
    {
        AclAccess.Write => true,
        AclAccess.List => required is AclAccess.List or AclAccess.Read,
        AclAccess.Read => required == AclAccess.Read,
        _ => false,
    };

    // Questions about "every" name (Consul's anyAllowed/allAllowed over the radix tree).
    // any: the "" prefix rule sets the starting answer; any rule that allows makes it allowed.
    // all: any rule that does not allow refuses; when all allow, the "" prefix rule must exist for a rule to have
    // decided, else names no rule covers fall to the default policy. (Stricter reading chosen on purpose: without a
    // "" rule, "every rule allows" says nothing about the names no rule mentions.)
    private AclDecision Wildcard(AclResource resource, AclAccess required, bool all)
    {
        var t = _tables.GetValueOrDefault(resource);
        var levels = t is null ? [] : t.Exact.Values.Concat(t.Prefix.Values).ToList();
        var catchAll = t is not null && t.Prefix.TryGetValue("", out var c) ? c : (AclAccess?)null;
        if (all)
        {
            if (levels.Any(l => !Grants(l, required))) return new(false, resource, required, "*", ByRule: true);
            return Decide(resource, required, "*", catchAll);
        }
        if (levels.Any(l => Grants(l, required))) return new(true, resource, required, "*", ByRule: true);
        return Decide(resource, required, "*", catchAll);
    }

    private sealed class Table
    {
        public Dictionary<string, AclAccess> Exact { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, AclAccess> Prefix { get; } = new(StringComparer.Ordinal);

        // Exact first, then the longest prefix. Prefixes are few per token, so a scan beats a radix tree here.
        public AclAccess? Find(string name)
        {
            if (Exact.TryGetValue(name, out var exact)) return exact;
            string? best = null;
            var level = AclAccess.None;
            foreach (var (prefix, access) in Prefix)
            {
                if ((best is null || prefix.Length > best.Length) && name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    best = prefix;
                    level = access;
                }
            }
            return best is null ? null : level;
        }
    }
}
