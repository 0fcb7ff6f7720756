using Meridian.Core.Acl;
using Meridian.Core.Identity;
using Meridian.Core.Validation;

namespace Meridian.Core.Intentions;

/// <summary>Why a decision came out the way it did.</summary>
public enum IntentionDecisionKind
{
    /// <summary>An intention without L7 permissions matched.</summary>
    MatchedL4 = 1,

    /// <summary>An intention with L7 permissions matched (not allowed for an L4 decision).</summary>
    MatchedL7 = 2,

    /// <summary>Nothing matched; the default came from <c>default_intention_policy</c>.</summary>
    DefaultIntentionPolicy = 3,

    /// <summary>Nothing matched; the default came from the ACL configuration.</summary>
    DefaultAcl = 4,
}

/// <summary>
/// The default for traffic no intention matches (SPEC §1.6): <c>default_intention_policy</c> when set, else the ACL
/// default policy (allow when ACLs are disabled).
/// </summary>
public readonly record struct IntentionDefault(bool Allow, bool FromIntentionPolicy)
{
    /// <summary>
    /// Resolves the default. <paramref name="defaultIntentionPolicy"/>: <c>allow</c>, <c>deny</c>, or empty/null for
    /// unset; anything else throws <see cref="DomainValidationException"/> (<c>Unsupported default intention policy: &lt;v&gt;</c>).
    /// </summary>
    public static IntentionDefault Resolve(string? defaultIntentionPolicy, bool aclsEnabled, bool aclDefaultAllow)
    {
        if (Check(defaultIntentionPolicy) is { } problem) throw new DomainValidationException([problem]);
        return defaultIntentionPolicy switch
        {
            "allow" => new(true, true),
            "deny" => new(false, true),
            _ => new(!aclsEnabled || aclDefaultAllow, false),
        };
    }

    /// <summary>
    /// The default for one authorize call, as Consul's <c>agent/connect/authorize.go</c> decides it: the datacenter's
    /// <c>default_intention_policy</c> when set; else, with ACLs on, the default policy of the caller's authorizer
    /// (<paramref name="aclDefaultPolicy"/>; Consul asks <c>authz.IntentionDefaultAllow</c>, whose answer is
    /// <c>acl.default_policy</c>), reason <c>Default behavior configured by ACLs</c>; with ACLs off
    /// (<paramref name="aclDefaultPolicy"/> null), allow with the same reason.
    /// </summary>
    public static IntentionDefault Resolve(string? defaultIntentionPolicy, AclDefaultPolicy? aclDefaultPolicy) =>
        Resolve(defaultIntentionPolicy, aclsEnabled: aclDefaultPolicy is not null, aclDefaultAllow: aclDefaultPolicy != AclDefaultPolicy.Deny);

    /// <summary>The configuration problem with <paramref name="defaultIntentionPolicy"/>, or null when valid.</summary>
    public static ValidationProblem? Check(string? defaultIntentionPolicy) => defaultIntentionPolicy switch
    {
        null or "" or "allow" or "deny" => null,
        _ => new("default_intention_policy", ValidationCodes.InvalidValue,
            $"Unsupported default intention policy: {defaultIntentionPolicy}"),
    };
}

/// <summary>
/// A concrete source to decide for: namespace, name, partition (empty → <c>default</c>) and the datacenter of its
/// identity (the SPIFFE <c>dc</c>; empty when unknown, in which case source-datacenter-scoped intentions do not apply).
/// </summary>
public readonly record struct IntentionSource(string Namespace, string Name, string? Partition = null, string? Datacenter = null);

/// <summary>
/// The outcome of an intention decision (SPEC §1.6/§1.7). Derived fields and <see cref="Reason"/> are computed on
/// access so the decision itself allocates nothing on the authorize hot path.
/// </summary>
public readonly record struct IntentionDecision(bool Allowed, IntentionDecisionKind Kind, Intention? Matched)
{
    /// <summary>The matched intention's legacy ID, if any.</summary>
    public string? MatchedIntentionId => string.IsNullOrEmpty(Matched?.ID) ? null : Matched.ID;

    /// <summary>True when the matched intention carries L7 permissions.</summary>
    public bool HasPermissions => Matched?.HasPermissions ?? false;

    /// <summary>True when neither the matched source name nor destination name is <c>*</c>.</summary>
    public bool HasExact => Matched is { } m
        && m.SourceName != IntentionConstants.Wildcard && m.DestinationName != IntentionConstants.Wildcard;

    /// <summary>The matched intention's <c>external-source</c> Meta value, if any.</summary>
    public string? ExternalSource
        => Matched?.Meta is { } meta && meta.TryGetValue(IntentionConstants.ExternalSourceMetaKey, out var v) ? v : null;

    /// <summary>Consul's authorize reason text.</summary>
    public string Reason => Kind switch
    {
        IntentionDecisionKind.MatchedL4 => "Matched L4 intention: " + Matched,
        IntentionDecisionKind.MatchedL7 => "Matched L7 intention: " + Matched,
        IntentionDecisionKind.DefaultIntentionPolicy => "Default intention policy",
        _ => "Default behavior configured by ACLs",
    };
}

/// <summary>An authorize request (SPEC §1.7): target service, the client's URI SAN, and the target's namespace/partition.</summary>
public sealed record AuthorizeRequest(string Target, string ClientCertURI, string? Namespace = null, string? Partition = null);

/// <summary>An <c>intentions/check</c> request: exact source and destination.</summary>
public sealed record IntentionCheckRequest(
    string SourceNS, string SourceName, string DestinationNS, string DestinationName, string? SourceType = null,
    string? SourcePartition = null, string? DestinationPartition = null, string? SourceDatacenter = null);

/// <summary>
/// Decisions over an already-sorted, per-destination intention list (SPEC §1.6, §1.7). Pure and allocation-free on
/// the decide path: a linear walk with ordinal string compares, first match wins.
/// </summary>
public static class IntentionEvaluator
{
    /// <summary>
    /// Walks <paramref name="sorted"/> (intentions whose destination matches the target, sorted by
    /// <see cref="IntentionPrecedenceComparer"/>) and takes the first whose source matches: partition equal, namespace
    /// equal or <c>*</c>, name equal or <c>*</c>, and, when scoped, source datacenter equal to the identity's and
    /// destination datacenter equal to <paramref name="decidingDatacenter"/>. L7 matches are not allowed (L4 view).
    /// </summary>
    public static IntentionDecision Decide(ReadOnlySpan<Intention> sorted, in IntentionSource source,
        string? decidingDatacenter, IntentionDefault defaults)
    {
        var partition = IntentionConstants.OrDefault(source.Partition);
        var ns = IntentionConstants.OrDefault(source.Namespace);
        foreach (var ixn in sorted)
        {
            if (!SourceMatches(ixn, partition, ns, source.Name, source.Datacenter, decidingDatacenter)) continue;
            return ixn.HasPermissions
                ? new IntentionDecision(false, IntentionDecisionKind.MatchedL7, ixn)
                : new IntentionDecision(ixn.Action == IntentionAction.Allow, IntentionDecisionKind.MatchedL4, ixn);
        }
        return new IntentionDecision(defaults.Allow,
            defaults.FromIntentionPolicy ? IntentionDecisionKind.DefaultIntentionPolicy : IntentionDecisionKind.DefaultAcl, null);
    }

    /// <summary>
    /// <c>/v1/agent/connect/authorize</c> after the ACL check: validates the request with Consul's errors (thrown as
    /// <see cref="DomainValidationException"/>), parses the URI and decides over <paramref name="destinationMatches"/>.
    /// The URI's trust domain is deliberately not checked (Consul: trust-domain migrations must not cut traffic);
    /// its datacenter is used only by datacenter-scoped intentions.
    /// </summary>
    public static IntentionDecision Authorize(AuthorizeRequest request, ReadOnlySpan<Intention> destinationMatches,
        string? decidingDatacenter, IntentionDefault defaults)
    {
        ArgumentNullException.ThrowIfNull(request);
        List<ValidationProblem> problems = [];
        // The target is a concrete service (no wildcard) under the one name rule: a target no certificate can be
        // issued for is a typo, not a service that is simply denied.
        if (string.IsNullOrEmpty(request.Target))
            problems.Add(new("Target", ValidationCodes.Required, "Target service must be specified"));
        else if (ServiceName.Check("Target", request.Target) is { } target)
            problems.Add(target);
        if (!string.IsNullOrEmpty(request.Namespace) && ServiceName.Check("Namespace", request.Namespace) is { } ns) problems.Add(ns);
        if (!string.IsNullOrEmpty(request.Partition) && ServiceName.Check("Partition", request.Partition) is { } ap) problems.Add(ap);
        ServiceSpiffeId? service = null;
        if (!SpiffeId.TryParse(request.ClientCertURI, out var id, out _))
            problems.Add(new("ClientCertURI", ValidationCodes.InvalidFormat, "ClientCertURI not a valid Connect identifier"));
        else if (id is ServiceSpiffeId s)
            service = s;
        else
            problems.Add(new("ClientCertURI", ValidationCodes.InvalidValue, "ClientCertURI not a valid Service identifier"));
        DomainValidationException.ThrowIfAny(problems);
        return Authorize(service!, request.Partition, destinationMatches, decidingDatacenter, defaults);
    }

    /// <summary>
    /// Authorize for an already-parsed client identity (lets a cache parse each certificate URI once). Throws
    /// <see cref="DomainValidationException"/> <c>Mismatched partitions: "&lt;uri&gt;" != "&lt;target&gt;"</c>.
    /// </summary>
    public static IntentionDecision Authorize(ServiceSpiffeId client, string? targetPartition,
        ReadOnlySpan<Intention> destinationMatches, string? decidingDatacenter, IntentionDefault defaults)
    {
        ArgumentNullException.ThrowIfNull(client);
        var uriPartition = IntentionConstants.OrDefault(client.Partition);
        var target = IntentionConstants.OrDefault(targetPartition);
        if (!string.Equals(uriPartition, target, StringComparison.Ordinal))
            throw new DomainValidationException("Partition", ValidationCodes.InvalidValue,
                $"Mismatched partitions: {IntentionRules.Quote(uriPartition)} != {IntentionRules.Quote(target)}");
        var source = new IntentionSource(client.Namespace, client.Service, uriPartition, client.Datacenter);
        return Decide(destinationMatches, source, decidingDatacenter, defaults);
    }

    /// <summary>
    /// <c>GET /v1/connect/intentions/check</c>: the same decision over the destination matches of
    /// <paramref name="entries"/> (L7 counts as deny). A SourceType other than <c>consul</c> throws
    /// <see cref="DomainValidationException"/> (<c>unsupported SourceType: "&lt;t&gt;"</c>).
    /// </summary>
    public static bool Check(IEnumerable<ServiceIntentionsEntry> entries, IntentionCheckRequest request,
        string? decidingDatacenter, IntentionDefault defaults)
    {
        ArgumentNullException.ThrowIfNull(request);
        var matches = IntentionMatcher.MatchByDestination(entries,
            new ServiceSelector(request.DestinationNS, request.DestinationName, request.DestinationPartition));
        return Check(matches.AsSpan(), request, decidingDatacenter, defaults);
    }

    /// <summary>
    /// <c>intentions/check</c> over the destination's already-sorted matches (e.g. from a
    /// <see cref="DestinationMatchIndex"/>). Same rules and errors as the entries overload.
    /// </summary>
    public static bool Check(ReadOnlySpan<Intention> destinationMatches, IntentionCheckRequest request,
        string? decidingDatacenter, IntentionDefault defaults)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!string.IsNullOrEmpty(request.SourceType) && request.SourceType != IntentionConstants.SourceTypeConsul)
            throw new DomainValidationException("SourceType", ValidationCodes.InvalidValue,
                $"unsupported SourceType: {IntentionRules.Quote(request.SourceType)}");
        var source = new IntentionSource(request.SourceNS, request.SourceName, request.SourcePartition, request.SourceDatacenter);
        return Decide(destinationMatches, source, decidingDatacenter, defaults).Allowed;
    }

    private static bool SourceMatches(Intention ixn, string partition, string ns, string name,
        string? sourceDatacenter, string? decidingDatacenter)
    {
        var ixnPartition = ixn.SourcePartition;
        if (!(ixnPartition.Length == 0 ? partition == IntentionConstants.Default : string.Equals(ixnPartition, partition, StringComparison.Ordinal)))
            return false;
        if (ixn.SourceNS != IntentionConstants.Wildcard && !string.Equals(ixn.SourceNS, ns, StringComparison.Ordinal)) return false;
        if (ixn.SourceName != IntentionConstants.Wildcard && !string.Equals(ixn.SourceName, name, StringComparison.Ordinal)) return false;
        // Scoped intentions apply only when the datacenter is known and equal; unscoped ones (Consul's) always.
        if (ixn.SourceDatacenter.Length != 0 && !string.Equals(ixn.SourceDatacenter, sourceDatacenter, StringComparison.Ordinal)) return false;
        if (ixn.DestinationDatacenter.Length != 0 && !string.Equals(ixn.DestinationDatacenter, decidingDatacenter, StringComparison.Ordinal)) return false;
        return true;
    }
}
