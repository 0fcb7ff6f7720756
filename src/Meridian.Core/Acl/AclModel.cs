using System.Collections.Immutable;

namespace Meridian.Core.Acl;

/// <summary>A link from a token or role to a policy or role, by ID (Name is for display; names resolve to IDs on write).</summary>
public sealed record AclLink(string ID, string Name);

/// <summary>
/// A service identity (https://developer.hashicorp.com/consul/docs/security/acl/acl-roles#service-identities):
/// <c>web</c> or <c>web:dc1,dc2</c>. It stands for a synthetic policy, valid only in <see cref="Datacenters"/>
/// (every datacenter when empty).
/// </summary>
public sealed record AclServiceIdentity(string ServiceName, ImmutableArray<string> Datacenters)
{
    public AclServiceIdentity(string serviceName) : this(serviceName, []) { }

    /// <summary>True when the identity applies in <paramref name="datacenter"/>.</summary>
    public bool AppliesIn(string datacenter) => Datacenters.IsDefaultOrEmpty || Datacenters.Contains(datacenter, StringComparer.Ordinal);

    /// <summary>
    /// The policy Consul synthesises (<c>agent/structs/acl.go</c> <c>SyntheticPolicy</c>): write on the service and
    /// its sidecar proxy, read on every service and node (discovery of upstreams).
    /// </summary>
    public AclPolicyRules ToRules() => new()
    {
        Rules =
        [
            new(AclResource.Service, ServiceName, false, AclAccess.Write),
            new(AclResource.Service, ServiceName + "-sidecar-proxy", false, AclAccess.Write),
            new(AclResource.Service, "", true, AclAccess.Read),
            new(AclResource.Node, "", true, AclAccess.Read),
        ],
    };

    /// <summary>The CLI form, <c>web</c> or <c>web:dc1,dc2</c>.</summary>
    public override string ToString() => Datacenters.IsDefaultOrEmpty ? ServiceName : $"{ServiceName}:{string.Join(',', Datacenters)}";

    /// <summary>Parses the CLI form <c>name[:dc1,dc2]</c> (Consul's <c>-service-identity</c>); validate the result.</summary>
    public static AclServiceIdentity Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) return new(text.Trim());
        var dcs = text[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return new(text[..colon].Trim(), [.. dcs]);
    }
}

/// <summary>A node identity: write on the node, read on every service, in one datacenter only.</summary>
public sealed record AclNodeIdentity(string NodeName, string Datacenter)
{
    public bool AppliesIn(string datacenter) => string.Equals(Datacenter, datacenter, StringComparison.Ordinal);

    /// <summary>Consul's synthetic node-identity policy.</summary>
    public AclPolicyRules ToRules() => new()
    {
        Rules =
        [
            new(AclResource.Node, NodeName, false, AclAccess.Write),
            new(AclResource.Service, "", true, AclAccess.Read),
        ],
    };
}

/// <summary>A policy: named rules text, optionally valid only in some datacenters.</summary>
public sealed record AclPolicy
{
    public required string ID { get; init; }
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public string Rules { get; init; } = "";

    /// <summary>Empty: every datacenter. Otherwise the resolver ignores the policy elsewhere (Consul's <c>filterPoliciesByScope</c>).</summary>
    public ImmutableArray<string> Datacenters { get; init; } = [];
    public ulong CreateIndex { get; init; }
    public ulong ModifyIndex { get; init; }

    public bool AppliesIn(string datacenter) => Datacenters.IsDefaultOrEmpty || Datacenters.Contains(datacenter, StringComparer.Ordinal);
}

/// <summary>A role: a named bundle of policies and identities that tokens link to.</summary>
public sealed record AclRole
{
    public required string ID { get; init; }
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public ImmutableArray<AclLink> Policies { get; init; } = [];
    public ImmutableArray<AclServiceIdentity> ServiceIdentities { get; init; } = [];
    public ImmutableArray<AclNodeIdentity> NodeIdentities { get; init; } = [];
    public ulong CreateIndex { get; init; }
    public ulong ModifyIndex { get; init; }
}

/// <summary>
/// A token as stored. The bearer secret is held only as <see cref="SecretHash"/> (see <see cref="AclSecretHasher"/>):
/// the SecretID itself is shown once, at creation, and never stored.
/// </summary>
public sealed record AclToken
{
    public required string AccessorID { get; init; }

    /// <summary>Keyed hash of the SecretID (<see cref="AclSecretHasher.Hash"/>); never the secret itself.</summary>
    public required string SecretHash { get; init; }
    public string Description { get; init; } = "";
    public ImmutableArray<AclLink> Policies { get; init; } = [];
    public ImmutableArray<AclLink> Roles { get; init; } = [];
    public ImmutableArray<AclServiceIdentity> ServiceIdentities { get; init; } = [];
    public ImmutableArray<AclNodeIdentity> NodeIdentities { get; init; } = [];

    /// <summary>Local tokens live only in the datacenter that created them and are never replicated.</summary>
    public bool Local { get; init; }
    public DateTimeOffset CreateTime { get; init; }
    public DateTimeOffset? ExpirationTime { get; init; }
    public ulong CreateIndex { get; init; }
    public ulong ModifyIndex { get; init; }

    /// <summary>
    /// Expired at <paramref name="now"/>: Consul treats such a token as not found. Still valid at the expiration
    /// instant itself, as Consul's <c>ACLToken.IsExpired</c> (<c>ExpirationTime.Before(now)</c>).
    /// </summary>
    public bool IsExpired(DateTimeOffset now) => ExpirationTime is { } e && e < now;
}

/// <summary>Built-in IDs, names and policies (https://developer.hashicorp.com/consul/docs/security/acl/acl-policies#built-in-policies).</summary>
public static class AclBuiltins
{
    /// <summary>IDs with this prefix are reserved for built-ins (Consul's <c>ACLReservedIDPrefix</c>).</summary>
    public const string ReservedIdPrefix = "00000000-0000-0000-0000-0000000000";

    public const string GlobalManagementPolicyId = "00000000-0000-0000-0000-000000000001";
    public const string GlobalManagementPolicyName = "global-management";
    public const string GlobalReadOnlyPolicyId = "00000000-0000-0000-0000-000000000002";
    public const string GlobalReadOnlyPolicyName = "builtin/global-read-only";

    public const string AnonymousTokenAccessorId = "00000000-0000-0000-0000-000000000002";
    public const string AnonymousTokenSecret = "anonymous";
    public const string AnonymousTokenDescription = "Anonymous Token";

    private static string Template(string level) => $$"""
        acl = "{{level}}"
        agent_prefix "" { policy = "{{level}}" }
        event_prefix "" { policy = "{{level}}" }
        key_prefix "" { policy = "{{level}}" }
        keyring = "{{level}}"
        node_prefix "" { policy = "{{level}}" }
        operator = "{{level}}"
        mesh = "{{level}}"
        peering = "{{level}}"
        query_prefix "" { policy = "{{level}}" }
        service_prefix "" {
          policy     = "{{level}}"
          intentions = "{{level}}"
        }
        session_prefix "" { policy = "{{level}}" }
        """;

    /// <summary>The global-management policy: write on everything.</summary>
    public static AclPolicy GlobalManagement { get; } = new()
    {
        ID = GlobalManagementPolicyId,
        Name = GlobalManagementPolicyName,
        Description = "Builtin Policy that grants unlimited access",
        Rules = Template("write"),
    };

    /// <summary>The builtin/global-read-only policy: read on everything.</summary>
    public static AclPolicy GlobalReadOnly { get; } = new()
    {
        ID = GlobalReadOnlyPolicyId,
        Name = GlobalReadOnlyPolicyName,
        Description = "Builtin Policy that grants unlimited read-only access to all components",
        Rules = Template("read"),
    };

    public static ImmutableArray<AclPolicy> Policies { get; } = [GlobalManagement, GlobalReadOnly];

    /// <summary>The name <c>meridian acl token create --replication</c> gives the replication policy.</summary>
    public const string ReplicationPolicyName = "replication";

    /// <summary>
    /// The policy Consul documents for a secondary's replication token with ACL and service-mesh replication
    /// (https://developer.hashicorp.com/consul/docs/security/acl/tokens/create/create-a-replication-token): ACL
    /// replication reads tokens with their secrets (acl:write), CA signing of the secondary's intermediate
    /// (operator:write), and intentions of every service (intentions:read).
    /// </summary>
    public const string ReplicationPolicyRules = """
        acl = "write"
        operator = "write"
        service_prefix "" {
          policy     = "read"
          intentions = "read"
        }
        """;

    /// <summary>True for a built-in ID (or any ID in the reserved range).</summary>
    public static bool IsReservedId(string? id) => id is not null && id.StartsWith(ReservedIdPrefix, StringComparison.OrdinalIgnoreCase);
}
