namespace Meridian.Core.Acl;

/// <summary>
/// Turns a token into an <see cref="AclAuthorizer"/>: gathers the policies it links directly, through its roles, and
/// the synthetic policies of its service and node identities, keeps those valid in <c>datacenter</c>, and merges
/// them (Consul's <c>agent/consul/acl.go</c> resolver, https://developer.hashicorp.com/consul/docs/security/acl/acl-tokens).
/// Pure: the caller supplies the stored policies and roles, and <c>now</c> for expiry.
/// </summary>
public static class AclTokenResolver
{
    /// <summary>
    /// The authorizer for <paramref name="token"/> in <paramref name="datacenter"/> at <paramref name="now"/>, or null
    /// when the token is expired (Consul then answers <c>ACL not found</c>). Links to policies or roles that no longer
    /// exist are skipped, as Consul does after a delete. Parsed rules are taken from <paramref name="parsedRules"/>
    /// when given (a cache keyed by policy ID and ModifyIndex), else parsed here.
    /// </summary>
    /// <exception cref="Meridian.Core.Validation.DomainValidationException">A stored policy's rules do not parse. Thrown
    /// rather than skipping the policy: skipping would drop its <c>deny</c> rules and so grant more than was written.</exception>
    public static AclAuthorizer? Resolve(
        AclToken token,
        Func<string, AclPolicy?> policyById,
        Func<string, AclRole?> roleById,
        string datacenter,
        AclDefaultPolicy defaultPolicy,
        DateTimeOffset now,
        Func<AclPolicy, AclPolicyRules>? parsedRules = null)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(policyById);
        ArgumentNullException.ThrowIfNull(roleById);
        if (token.IsExpired(now)) return null;

        parsedRules ??= p => AclRulesParser.ParseOrThrow(p.Rules);
        var rules = new List<AclPolicyRules>();
        var seenPolicies = new HashSet<string>(StringComparer.Ordinal);

        void AddPolicies(IEnumerable<AclLink> links)
        {
            foreach (var link in links)
            {
                if (!seenPolicies.Add(link.ID)) continue;
                if (policyById(link.ID) is { } policy && policy.AppliesIn(datacenter)) rules.Add(parsedRules(policy));
            }
        }

        void AddIdentities(IEnumerable<AclServiceIdentity> services, IEnumerable<AclNodeIdentity> nodes)
        {
            rules.AddRange(services.Where(s => s.AppliesIn(datacenter)).Select(s => s.ToRules()));
            rules.AddRange(nodes.Where(n => n.AppliesIn(datacenter)).Select(n => n.ToRules()));
        }

        AddPolicies(token.Policies);
        AddIdentities(token.ServiceIdentities, token.NodeIdentities);
        foreach (var link in token.Roles.Select(r => r.ID).Distinct(StringComparer.Ordinal))
        {
            if (roleById(link) is not { } role) continue;
            AddPolicies(role.Policies);
            AddIdentities(role.ServiceIdentities, role.NodeIdentities);
        }
        return AclAuthorizer.Create(rules, defaultPolicy);
    }
}
