using System.Collections.Immutable;

namespace Meridian.Core.Discovery;

/// <summary>
/// A prepared query definition (Consul's <c>PreparedQuery</c>, https://developer.hashicorp.com/consul/api-docs/query),
/// field for field. A query with an empty <see cref="Name"/> and no template is reachable only by its
/// <see cref="Id"/> (the ID is the capability); Consul requires such a query to be bound to a session.
/// </summary>
public sealed record PreparedQuery
{
    /// <summary>The UUID the store assigns at creation.</summary>
    public string Id { get; init; } = "";

    /// <summary>The name it is executed by; for a template, the prefix it matches (empty: every name).</summary>
    public string Name { get; init; } = "";

    /// <summary>A session the query lives and dies with.</summary>
    public string Session { get; init; } = "";

    /// <summary>The token captured at creation and used for execution; shown as <c>&lt;hidden&gt;</c> to callers without <c>acl:write</c>.</summary>
    public string Token { get; init; } = "";

    /// <summary>What to look up.</summary>
    public ServiceQuery Service { get; init; } = new();

    /// <summary>DNS answer settings.</summary>
    public QueryDns Dns { get; init; } = new();

    /// <summary>Set (<see cref="QueryTemplate.Type"/> non-empty) for a template.</summary>
    public QueryTemplate Template { get; init; } = new();

    /// <summary>The store index of the write that created it.</summary>
    public ulong CreateIndex { get; init; }

    /// <summary>The store index of its last write.</summary>
    public ulong ModifyIndex { get; init; }

    /// <summary>True for a template (Consul's <c>IsTemplate</c>: a non-empty template type).</summary>
    public bool IsTemplate => Template.Type.Length > 0;

    /// <summary>
    /// The name ACL rules apply to (Consul's <c>GetACLPrefix</c>): the name of a named query or of a template (even
    /// empty), null for an unnamed static query, which no <c>query</c> rule covers.
    /// </summary>
    public string? AclPrefix => Name.Length > 0 || IsTemplate ? Name : null;
}

/// <summary>The service part of a prepared query (Consul's <c>ServiceQuery</c>).</summary>
public sealed record ServiceQuery
{
    /// <summary>The service to look up (required; templates may interpolate it).</summary>
    public string Service { get; init; } = "";

    /// <summary>Where to look when the local datacenter has no healthy instance.</summary>
    public QueryFailover Failover { get; init; } = new();

    /// <summary>Drop instances with a <c>warning</c> check too (instances with a <c>critical</c> one are always dropped).</summary>
    public bool OnlyPassing { get; init; }

    /// <summary>Sort by RTT from this node (<c>_agent</c>, <c>_ip</c> or a node name).</summary>
    public string Near { get; init; } = "";

    /// <summary>Tags every instance must have; <c>!tag</c>: must not have. Case-insensitive.</summary>
    public ImmutableArray<string> Tags { get; init; } = [];

    /// <summary>Node meta every instance's node must carry.</summary>
    public ImmutableDictionary<string, string> NodeMeta { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Service meta every instance must carry.</summary>
    public ImmutableDictionary<string, string> ServiceMeta { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Checks whose status is ignored.</summary>
    public ImmutableArray<string> IgnoreCheckIds { get; init; } = [];

    /// <summary>Answer with Connect-capable endpoints: sidecar proxies of the service and Connect-native instances.</summary>
    public bool Connect { get; init; }
}

/// <summary>Consul's <c>QueryFailoverOptions</c>: <see cref="Targets"/> excludes the other two.</summary>
public sealed record QueryFailover
{
    /// <summary>How many of the nearest other datacenters (by measured RTT) to try first; 0: none.</summary>
    public int NearestN { get; init; }

    /// <summary>Datacenters to try after the nearest, in order.</summary>
    public ImmutableArray<string> Datacenters { get; init; } = [];

    /// <summary>Explicit targets (a datacenter or a peer), in order.</summary>
    public ImmutableArray<QueryFailoverTarget> Targets { get; init; } = [];
}

/// <summary>One failover target (Consul's <c>QueryFailoverTarget</c>): a datacenter, or a peer (not supported by Meridian).</summary>
public sealed record QueryFailoverTarget(string Datacenter = "", string Peer = "", string Partition = "", string Namespace = "");

/// <summary>Consul's <c>QueryDNSOptions</c>.</summary>
public sealed record QueryDns(string Ttl = "");

/// <summary>Consul's <c>QueryTemplateOptions</c>.</summary>
public sealed record QueryTemplate(string Type = "", string Regexp = "", bool RemoveEmptyTags = false);
