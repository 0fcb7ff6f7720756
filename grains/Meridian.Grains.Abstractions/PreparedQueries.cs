using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>
/// A prepared query definition with Consul's field names (https://developer.hashicorp.com/consul/api-docs/query).
/// On create, <see cref="ID"/> must be empty and the indexes are ignored. <see cref="Token"/> is the token the query
/// executes with; reads show <c>&lt;hidden&gt;</c> to callers without <c>acl:write</c>.
/// </summary>
[GenerateSerializer, Alias("meridian.query.PreparedQuery"), Immutable]
public sealed record PreparedQueryDto
{
    [Id(0)] public string ID { get; init; } = "";
    [Id(1)] public string Name { get; init; } = "";
    [Id(2)] public string Session { get; init; } = "";
    [Id(3)] public string Token { get; init; } = "";
    [Id(4)] public ServiceQueryDto Service { get; init; } = new();
    [Id(5)] public QueryDnsDto DNS { get; init; } = new();
    [Id(6)] public QueryTemplateDto Template { get; init; } = new();
    [Id(7)] public ulong CreateIndex { get; init; }
    [Id(8)] public ulong ModifyIndex { get; init; }
}

/// <summary>Consul's <c>Service</c> block of a prepared query (note: <c>Near</c> is here, not at the top).</summary>
[GenerateSerializer, Alias("meridian.query.ServiceQuery"), Immutable]
public sealed record ServiceQueryDto
{
    [Id(0)] public string Service { get; init; } = "";
    [Id(1)] public QueryFailoverDto Failover { get; init; } = new();
    [Id(2)] public bool OnlyPassing { get; init; }
    [Id(3)] public string Near { get; init; } = "";

    /// <summary>Required tags; <c>!tag</c>: must not have.</summary>
    [Id(4)] public ImmutableArray<string> Tags { get; init; } = [];
    [Id(5)] public ImmutableDictionary<string, string> NodeMeta { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(6)] public ImmutableDictionary<string, string> ServiceMeta { get; init; } = ImmutableDictionary<string, string>.Empty;
    [Id(7)] public ImmutableArray<string> IgnoreCheckIDs { get; init; } = [];
    [Id(8)] public bool Connect { get; init; }
}

/// <summary>Consul's <c>Failover</c>: <see cref="Targets"/> excludes the other two.</summary>
[GenerateSerializer, Alias("meridian.query.Failover"), Immutable]
public sealed record QueryFailoverDto
{
    [Id(0)] public int NearestN { get; init; }
    [Id(1)] public ImmutableArray<string> Datacenters { get; init; } = [];
    [Id(2)] public ImmutableArray<QueryFailoverTargetDto> Targets { get; init; } = [];
}

/// <summary>One failover target: a datacenter (or a peer, which Meridian does not support).</summary>
[GenerateSerializer, Alias("meridian.query.FailoverTarget"), Immutable]
public sealed record QueryFailoverTargetDto
{
    [Id(0)] public string Peer { get; init; } = "";
    [Id(1)] public string Datacenter { get; init; } = "";
    [Id(2)] public string Partition { get; init; } = "";
    [Id(3)] public string Namespace { get; init; } = "";
}

/// <summary>Consul's <c>DNS</c> block: <c>TTL</c> in Go duration text.</summary>
[GenerateSerializer, Alias("meridian.query.Dns"), Immutable]
public sealed record QueryDnsDto
{
    [Id(0)] public string TTL { get; init; } = "";
}

/// <summary>Consul's <c>Template</c> block: <c>Type</c> is <c>name_prefix_match</c> for a template, empty otherwise.</summary>
[GenerateSerializer, Alias("meridian.query.Template"), Immutable]
public sealed record QueryTemplateDto
{
    [Id(0)] public string Type { get; init; } = "";
    [Id(1)] public string Regexp { get; init; } = "";
    [Id(2)] public bool RemoveEmptyTags { get; init; }
}

/// <summary>The queries a caller may read, the store index, and whether ACLs left some out.</summary>
[GenerateSerializer, Alias("meridian.query.PreparedQueryList"), Immutable]
public sealed record PreparedQueryListDto(
    [property: Id(0)] ImmutableArray<PreparedQueryDto> Queries,
    [property: Id(1)] ulong Index,
    [property: Id(2)] bool FilteredByAcls);

/// <summary>
/// How one execution runs (Consul's <c>?limit=</c>, <c>?connect=</c>, <c>?near=</c> on <c>/v1/query/:id/execute</c>).
/// <see cref="Limit"/> 0: every instance; <see cref="Connect"/>: answer with Connect-capable instances (sidecar proxies
/// of the service, native instances) whatever the definition says; <see cref="Near"/> replaces the definition's.
/// </summary>
[GenerateSerializer, Alias("meridian.query.ExecuteOptions"), Immutable]
public sealed record QueryExecuteOptionsDto
{
    [Id(0)] public int Limit { get; init; }
    [Id(1)] public bool Connect { get; init; }
    [Id(2)] public string Near { get; init; } = "";
}

/// <summary>
/// Consul's execute answer (<c>PreparedQueryExecuteResponse</c>): <c>Service</c>, <c>Nodes</c> (health entries),
/// <c>DNS</c>, <c>Datacenter</c> (the one that answered), <c>Failovers</c> (datacenters tried after the local one).
/// <see cref="AddressesTranslated"/>: the nodes' addresses are WAN-translated (<c>translate_wan_addrs</c>, an answer
/// from another datacenter); the HTTP layer's <c>X-Consul-Translate-Addresses</c> header follows the option.
/// </summary>
[GenerateSerializer, Alias("meridian.query.ExecuteResult"), Immutable]
public sealed record PreparedQueryExecuteResultDto
{
    [Id(0)] public string Service { get; init; } = "";
    [Id(1)] public ImmutableArray<CheckServiceNodeDto> Nodes { get; init; } = [];
    [Id(2)] public QueryDnsDto DNS { get; init; } = new();
    [Id(3)] public string Datacenter { get; init; } = "";
    [Id(4)] public int Failovers { get; init; }
    [Id(5)] public bool AddressesTranslated { get; init; }
}

/// <summary>
/// The prepared queries of one datacenter (key: the datacenter's name), stored where they are created and never
/// replicated, as Consul. ACLs (docs/acl.md, Consul's rules): writing a named query or a template needs
/// <c>query:write</c> on its name (an update or delete also on the stored query's name); an unnamed static query needs
/// none (its ID is the capability); reads show only what the caller's <c>query:read</c> covers (unnamed queries only
/// to <c>acl:write</c>), the captured token hidden unless the caller has <c>acl:write</c>.
/// </summary>
[Alias("meridian.query.IPreparedQueryGrain")]
public interface IPreparedQueryGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates a query and answers its new ID. Refused: an <c>ID</c> (<c>ID must be empty when creating a new prepared
    /// query</c>), an invalid definition (<c>Invalid prepared query: …</c>), a name that aliases another query's name
    /// or ID, a second empty-name template, a template that does not compile, a session (Meridian has no sessions:
    /// <c>invalid session "…"</c>). Not idempotent: each call creates a query.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Query, AclLevel.Write, Filtered = true)]
    [Alias("Create")]
    Task<string> CreateAsync(PreparedQueryDto query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the definition of query <paramref name="id"/> (the body's <c>ID</c> is ignored); answers the store
    /// index. Unknown: <c>Cannot modify non-existent prepared query: '&lt;id&gt;'</c>. Idempotent.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Query, AclLevel.Write, Filtered = true)]
    [Alias("Update")]
    Task<ulong> UpdateAsync(string id, PreparedQueryDto query, CancellationToken cancellationToken = default);

    /// <summary>Deletes query <paramref name="id"/>; answers the store index. Unknown: Consul's non-existent text.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Query, AclLevel.Write, Filtered = true)]
    [Alias("Delete")]
    Task<ulong> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every query the caller may read, by name then ID.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Query, AclLevel.Read, Filtered = true)]
    [Alias("List")]
    Task<PreparedQueryListDto> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Query <paramref name="id"/>. Unknown: <c>Query not found</c>; not readable: <c>Permission denied</c>.</summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Query, AclLevel.Read, Filtered = true)]
    [Alias("Get")]
    Task<PreparedQueryDto> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The definition executing <paramref name="idOrName"/> would run: found by ID, exact name, or longest template
    /// prefix, and rendered for the name. Unknown: <c>Query not found</c>; a template by ID is refused.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Query, AclLevel.Read, Filtered = true)]
    [Alias("Explain")]
    Task<PreparedQueryDto> ExplainAsync(string idOrName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Executes <paramref name="idOrName"/> (found as <see cref="ExplainAsync"/> finds it): this datacenter first; only
    /// when it has no matching instance, the query's <c>NearestN</c> nearest datacenters by measured RTT, then its
    /// <c>Datacenters</c> in order (unknown ones skipped, none tried twice, a failing one skipped), each asked once
    /// without failing over again. Instances with a critical check are left out (with <c>OnlyPassing</c>, any check not
    /// passing). With ACLs on, the answer keeps what the query's captured token may read (<c>node:read</c> and
    /// <c>service:read</c>), or the caller's when it has none. Read-only; needs no permission to run.
    /// </summary>
    [GrainSurface(Surface.Public)]
    [Acl(AclTarget.Service, AclLevel.Read, Filtered = true)]
    [Alias("Execute"), AlwaysInterleave]
    Task<PreparedQueryExecuteResultDto> ExecuteAsync(string idOrName, QueryExecuteOptionsDto? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs an already rendered <paramref name="query"/> in this datacenter only, for another datacenter's failover
    /// (Consul's <c>PreparedQuery.ExecuteRemote</c>): no failover from here, no WAN translation (the asking datacenter
    /// translates). Filtered by the query's token if it has one, else by the token the call carries.
    /// </summary>
    [GrainSurface(Surface.Federation)]
    [Acl(AclTarget.Service, AclLevel.Read, Filtered = true)]
    [Alias("ExecuteRemote"), AlwaysInterleave]
    Task<PreparedQueryExecuteResultDto> ExecuteRemoteAsync(PreparedQueryDto query, QueryExecuteOptionsDto? options = null, CancellationToken cancellationToken = default);
}
