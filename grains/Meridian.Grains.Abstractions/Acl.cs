using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>A link from a token or role to a policy or role: by <see cref="ID"/> or by <see cref="Name"/> on write (names resolve to IDs), both on read.</summary>
[GenerateSerializer, Alias("meridian.acl.Link"), Immutable]
public sealed record AclLinkDto([property: Id(0)] string ID, [property: Id(1)] string Name)
{
    /// <summary>A link by name, resolved to an ID when written.</summary>
    public static AclLinkDto ByName(string name) => new("", name);
}

/// <summary>A service identity: the service name, and the datacenters it is valid in (empty: every datacenter).</summary>
[GenerateSerializer, Alias("meridian.acl.ServiceIdentity"), Immutable]
public sealed record AclServiceIdentityDto([property: Id(0)] string ServiceName, [property: Id(1)] ImmutableArray<string> Datacenters);

/// <summary>A node identity: the node name and the one datacenter it is valid in.</summary>
[GenerateSerializer, Alias("meridian.acl.NodeIdentity"), Immutable]
public sealed record AclNodeIdentityDto([property: Id(0)] string NodeName, [property: Id(1)] string Datacenter);

/// <summary>An ACL policy with Consul's field names. On write, an empty <see cref="ID"/> creates; the indexes are ignored.</summary>
[GenerateSerializer, Alias("meridian.acl.Policy"), Immutable]
public sealed record AclPolicyDto
{
    [Id(0)] public string ID { get; init; } = "";
    [Id(1)] public string Name { get; init; } = "";
    [Id(2)] public string Description { get; init; } = "";

    /// <summary>The rules in Consul's HCL or JSON form.</summary>
    [Id(3)] public string Rules { get; init; } = "";

    /// <summary>Consul's <c>-valid-datacenter</c>: the policy applies only there (empty: everywhere).</summary>
    [Id(4)] public ImmutableArray<string> Datacenters { get; init; } = [];
    [Id(5)] public ulong CreateIndex { get; init; }
    [Id(6)] public ulong ModifyIndex { get; init; }
}

/// <summary>An ACL role with Consul's field names. On write, an empty <see cref="ID"/> creates; the indexes are ignored.</summary>
[GenerateSerializer, Alias("meridian.acl.Role"), Immutable]
public sealed record AclRoleDto
{
    [Id(0)] public string ID { get; init; } = "";
    [Id(1)] public string Name { get; init; } = "";
    [Id(2)] public string Description { get; init; } = "";
    [Id(3)] public ImmutableArray<AclLinkDto> Policies { get; init; } = [];
    [Id(4)] public ImmutableArray<AclServiceIdentityDto> ServiceIdentities { get; init; } = [];
    [Id(5)] public ImmutableArray<AclNodeIdentityDto> NodeIdentities { get; init; } = [];
    [Id(6)] public ulong CreateIndex { get; init; }
    [Id(7)] public ulong ModifyIndex { get; init; }
}

/// <summary>
/// An ACL token with Consul's field names. <see cref="SecretID"/> holds the bearer secret only in the answer to a
/// create or a bootstrap (the one time it is shown: only its keyed hash is stored); every read answers
/// <see cref="HiddenSecret"/>. On create, <see cref="SecretID"/> and <see cref="AccessorID"/> may be chosen (empty:
/// generated); <see cref="ExpirationTTL"/> is input only.
/// </summary>
[GenerateSerializer, Alias("meridian.acl.Token"), Immutable]
public sealed record AclTokenDto
{
    /// <summary>What reads show instead of a SecretID (Consul's redaction marker).</summary>
    public const string HiddenSecret = "<hidden>";

    [Id(0)] public string AccessorID { get; init; } = "";
    [Id(1)] public string SecretID { get; init; } = "";
    [Id(2)] public string Description { get; init; } = "";
    [Id(3)] public ImmutableArray<AclLinkDto> Policies { get; init; } = [];
    [Id(4)] public ImmutableArray<AclLinkDto> Roles { get; init; } = [];
    [Id(5)] public ImmutableArray<AclServiceIdentityDto> ServiceIdentities { get; init; } = [];
    [Id(6)] public ImmutableArray<AclNodeIdentityDto> NodeIdentities { get; init; } = [];

    /// <summary>Lives only in the datacenter that created it; never replicated.</summary>
    [Id(7)] public bool Local { get; init; }
    [Id(8)] public DateTimeOffset CreateTime { get; init; }
    [Id(9)] public DateTimeOffset? ExpirationTime { get; init; }

    /// <summary>Input only: expire this long after creation (1m to 24h).</summary>
    [Id(10)] public TimeSpan? ExpirationTTL { get; init; }
    [Id(11)] public ulong CreateIndex { get; init; }
    [Id(12)] public ulong ModifyIndex { get; init; }
}

/// <summary>One answer of the primary's ACL feed (see <see cref="IAclStoreGrain.WaitForChangesAsync"/>).</summary>
[GenerateSerializer, Alias("meridian.acl.Changes"), Immutable]
public sealed record AclChangesDto
{
    /// <summary>The primary's store index when it answered.</summary>
    [Id(0)] public ulong Index { get; init; }
    /// <summary>The primary store's epoch that <see cref="Index"/> counts in.</summary>
    [Id(1)] public string Epoch { get; init; } = "";
    /// <summary>Every policy, role and non-local token: the receiver drops its non-local entries not listed.</summary>
    [Id(2)] public bool IsSnapshot { get; init; }
    [Id(3)] public ImmutableArray<AclPolicyDto> Policies { get; init; } = [];
    [Id(4)] public ImmutableArray<AclRoleDto> Roles { get; init; } = [];
    [Id(5)] public ImmutableArray<AclStoredTokenDto> Tokens { get; init; } = [];
    /// <summary>For a delta: the feed keys deleted (<c>policy/&lt;id&gt;</c>, <c>role/&lt;id&gt;</c>, <c>token/&lt;accessor&gt;</c>).</summary>
    [Id(6)] public ImmutableArray<string> DeletedKeys { get; init; } = [];
}

/// <summary>A token as the store keeps it: the token (its SecretID empty) and the keyed hash of its secret.</summary>
[GenerateSerializer, Alias("meridian.acl.StoredToken"), Immutable]
public sealed record AclStoredTokenDto([property: Id(0)] AclTokenDto Token, [property: Id(1)] string SecretHash);

/// <summary>
/// What a silo needs to resolve one secret: the token (SecretID hidden; null when no token has that secret) with the
/// policies and roles it links, directly and through its roles, as stored at <see cref="Index"/>.
/// </summary>
[GenerateSerializer, Alias("meridian.acl.Lookup"), Immutable]
public sealed record AclLookupDto
{
    [Id(0)] public ulong Index { get; init; }
    [Id(1)] public AclTokenDto? Token { get; init; }
    [Id(2)] public ImmutableArray<AclPolicyDto> Policies { get; init; } = [];
    [Id(3)] public ImmutableArray<AclRoleDto> Roles { get; init; } = [];

    /// <summary>False until bootstrap (or an initial management token): Consul then says the ACL system must be bootstrapped.</summary>
    [Id(4)] public bool Bootstrapped { get; init; }
}

/// <summary>
/// The ACL store of one datacenter (keyed by the datacenter name): policies, roles and tokens, as Consul's
/// <c>agent/consul/acl_endpoint.go</c>. Writes go to the primary (a secondary forwards them), except a local token,
/// which stays where it was created. Every change bumps the store index. Answers <c>ACL support disabled</c> when
/// <c>Meridian:Acl:Enabled</c> is false.
/// </summary>
[Alias("meridian.acl.IAclStoreGrain")]
public interface IAclStoreGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates the first management token (description <c>Bootstrap Token (Global Management)</c>, linked to
    /// <c>global-management</c>) and answers it with its SecretID, once. Later calls are refused with
    /// <c>ACL bootstrap no longer allowed (reset index: N)</c> unless the silo's bootstrap reset file holds N
    /// (docs/acl.md). <paramref name="bootstrapSecret"/> chooses the secret (a UUID); null generates one.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [AclNone("Consul's /v1/acl/bootstrap needs no token: it works once, before any token exists")]
    [Alias("Bootstrap")]
    Task<AclTokenDto> BootstrapAsync(string? bootstrapSecret = null, CancellationToken cancellationToken = default);

    /// <summary>Creates (empty ID) or updates a policy; names are unique. Answers the stored policy.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Write)]
    [Alias("SetPolicy")]
    Task<AclPolicyDto> SetPolicyAsync(AclPolicyDto policy, CancellationToken cancellationToken = default);

    /// <summary>The policy with <paramref name="id"/>, or else named <paramref name="name"/>; not found is an error.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Read)]
    [Alias("GetPolicy")]
    Task<AclPolicyDto> GetPolicyAsync(string? id, string? name = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a policy (built-ins cannot be). Absent: a no-op. Answers the store index.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Write)]
    [Alias("DeletePolicy")]
    Task<ulong> DeletePolicyAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every policy, by name.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Read)]
    [Alias("ListPolicies")]
    Task<ImmutableArray<AclPolicyDto>> ListPoliciesAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates (empty ID) or updates a role; names are unique; policy links by name resolve to IDs.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Write)]
    [Alias("SetRole")]
    Task<AclRoleDto> SetRoleAsync(AclRoleDto role, CancellationToken cancellationToken = default);

    /// <summary>The role with <paramref name="id"/>, or else named <paramref name="name"/>; not found is an error.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Read)]
    [Alias("GetRole")]
    Task<AclRoleDto> GetRoleAsync(string? id, string? name = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a role. Absent: a no-op. Answers the store index.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Write)]
    [Alias("DeleteRole")]
    Task<ulong> DeleteRoleAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every role, by name.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Read)]
    [Alias("ListRoles")]
    Task<ImmutableArray<AclRoleDto>> ListRolesAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a token; the answer carries its SecretID, the only time it is shown.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Write)]
    [Alias("CreateToken")]
    Task<AclTokenDto> CreateTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default);

    /// <summary>Replaces the description, links and identities of the token <c>AccessorID</c>; its secret and Local stay.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Write)]
    [Alias("UpdateToken")]
    Task<AclTokenDto> UpdateTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default);

    /// <summary>The token (SecretID hidden); not found is an error.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Read)]
    [Alias("GetToken")]
    Task<AclTokenDto> GetTokenAsync(string accessorId, CancellationToken cancellationToken = default);

    /// <summary>The caller's own token (<see cref="CallerToken"/>), SecretID hidden; Consul's <c>token read -self</c>.</summary>
    [GrainSurface(Surface.Public)]
    [AclNone("any valid token may read itself, as Consul's /v1/acl/token/self; an unknown secret is still refused")]
    [Alias("GetSelf")]
    Task<AclTokenDto> GetSelfAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes a token (not the anonymous one, nor the caller's own). Absent: a no-op. Answers the store index.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Write)]
    [Alias("DeleteToken")]
    Task<ulong> DeleteTokenAsync(string accessorId, CancellationToken cancellationToken = default);

    /// <summary>Every token, SecretIDs hidden.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Acl, AclLevel.Read)]
    [Alias("ListTokens")]
    Task<ImmutableArray<AclTokenDto>> ListTokensAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The resolution inputs for the token whose secret hashes to <paramref name="secretHash"/> (null: the anonymous
    /// token). For the silos' resolvers only.
    /// </summary>
    [GrainSurface(Surface.ClusterInternal)]
    [Alias("Lookup"), AlwaysInterleave]
    Task<AclLookupDto> LookupAsync(string? secretHash, CancellationToken cancellationToken = default);

    /// <summary>
    /// Long-poll: answers the store index at once when it is past <paramref name="afterIndex"/>, else when it moves
    /// or after <paramref name="maxWait"/> (at most 10 minutes). The silos' resolvers drop their caches on a change.
    /// </summary>
    [GrainSurface(Surface.ClusterInternal)]
    [Alias("WaitForIndex"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<ulong> WaitForIndexAsync(ulong afterIndex, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>
    /// ACL replication's long-poll (the primary's feed): the policies, roles and non-local tokens changed after
    /// <paramref name="afterIndex"/> of epoch <paramref name="afterEpoch"/>, or all of them (a snapshot) when the caller
    /// holds nothing, counts in another epoch or is older than the feed's memory. Waits up to <paramref name="maxWait"/>
    /// (at most 10 minutes) when nothing changed. Tokens carry their SecretID hash only (the hash key is shared by every
    /// datacenter). Requires <c>acl:write</c>, as Consul documents for the replication token (docs: "Create a
    /// replication token": acl:write "enables replication of ACL resources"); never filtered: all or refused.
    /// </summary>
    [GrainSurface(Surface.Federation)]
    [Acl(AclTarget.Acl, AclLevel.Write)]
    [Alias("WaitForChanges"), AlwaysInterleave, ResponseTimeout("00:10:30")]
    Task<AclChangesDto> WaitForChangesAsync(ulong afterIndex, string afterEpoch, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>
    /// Secondary: the primary's position applied by ACL replication (0, "": never synced) and the round held for the
    /// operator, as persisted.
    /// </summary>
    [GrainSurface(Surface.ClusterInternal)]
    [Alias("GetReplicationProgress"), AlwaysInterleave]
    Task<ReplicationProgressDto> GetReplicationProgressAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Secondary: applies one answer of the primary's feed in one write, with the primary's position. A snapshot
    /// replaces every policy, role and non-local token; this datacenter's local tokens are never deleted or replaced.
    /// A round from a replaced or reset primary, a snapshot deleting every global ACL held here, or a first sync over
    /// global ACLs of this datacenter's own is not applied but held (<c>Meridian.Core.Federation.ReplicationHoldRule</c>)
    /// unless <paramref name="adoptPrimaryState"/>. Idempotent. Moves the store index when anything changed, so the
    /// silos' resolver caches drop what they hold.
    /// </summary>
    [GrainSurface(Surface.ClusterInternal)]
    [Alias("ApplyReplicated")]
    Task<ReplicationApplyResultDto> ApplyReplicatedAsync(AclChangesDto changes, bool adoptPrimaryState, CancellationToken cancellationToken = default);
}
