using Meridian.Grains;

namespace Meridian.Client;

/// <summary>
/// The Meridian SDK: every operation a user, the <c>meridian</c> CLI or (later) the HTTP API performs against a
/// datacenter. Errors callers may branch on: <see cref="MeridianValidationException"/> (bad input; nothing written),
/// <see cref="MeridianNotFoundException"/>, <see cref="MeridianPermissionDeniedException"/>,
/// <see cref="NotPrimaryDatacenterException"/>, <see cref="MeridianUnreachableException"/>; every other failure in the
/// datacenter arrives as a <see cref="MeridianException"/> whose <see cref="MeridianException.Kind"/> says what kind it is.
/// </summary>
public interface IMeridianClient
{
    /// <summary>The datacenter this client talks to.</summary>
    string Datacenter { get; }

    /// <summary>Creates or replaces an intention (written in the primary). Returns the commit index.</summary>
    Task<IntentionWriteResultDto> UpsertIntentionAsync(IntentionDto intention, CancellationToken cancellationToken = default);

    /// <summary>Deletes an intention; idempotent.</summary>
    Task<IntentionWriteResultDto> DeleteIntentionAsync(IntentionRefDto intention, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="UpsertIntentionAsync(IntentionDto, CancellationToken)"/>, answering as <paramref name="options"/> ask
    /// (<see cref="WriteOptions.ReadYourWrites"/>: once this datacenter has the write, else
    /// <see cref="ReplicationWaitTimeoutException"/>).
    /// </summary>
    async Task<IntentionWriteResultDto> UpsertIntentionAsync(IntentionDto intention, WriteOptions options, CancellationToken cancellationToken = default)
        => await WriteOptions.AfterAsync(this, await UpsertIntentionAsync(intention, cancellationToken), options, cancellationToken);

    /// <summary><see cref="DeleteIntentionAsync(IntentionRefDto, CancellationToken)"/>, answering as <paramref name="options"/> ask.</summary>
    async Task<IntentionWriteResultDto> DeleteIntentionAsync(IntentionRefDto intention, WriteOptions options, CancellationToken cancellationToken = default)
        => await WriteOptions.AfterAsync(this, await DeleteIntentionAsync(intention, cancellationToken), options, cancellationToken);

    /// <summary>One intention by exact source and destination.</summary>
    Task<IntentionDto> GetIntentionAsync(IntentionRefDto intention, CancellationToken cancellationToken = default);

    /// <summary>All intentions, highest precedence first.</summary>
    Task<IntentionListDto> ListIntentionsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Blocking list (Consul's blocking query on <c>/v1/connect/intentions</c>): every intention with the index, answered
    /// when the datacenter's intention index passes <paramref name="minIndex"/> (0: at once) or after
    /// <paramref name="maxWait"/> (at most 10 minutes) with the current list. The index is never 0: it is the
    /// intention index plus one (see <see cref="MeridianIndexed{T}.Index"/>).
    /// </summary>
    Task<MeridianIndexed<IntentionListDto>> WatchIntentionsAsync(ulong minIndex, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>Consul's match by <c>source</c> or <c>destination</c>.</summary>
    Task<IntentionMatchDto> MatchIntentionsAsync(string by, IReadOnlyList<string> names, CancellationToken cancellationToken = default);

    /// <summary>Consul's intention check: whether <paramref name="source"/> may connect to <paramref name="destination"/>.</summary>
    Task<bool> CheckIntentionAsync(string source, string destination, CancellationToken cancellationToken = default);

    /// <summary>Consul's L4 authorize.</summary>
    Task<AuthorizeResultDto> AuthorizeAsync(AuthorizeRequestDto request, CancellationToken cancellationToken = default);

    /// <summary>The CA roots (public material).</summary>
    Task<CaRootListDto> GetCaRootsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Blocking roots (Consul's blocking query on <c>/v1/connect/ca/roots</c>, what <c>/v1/agent/connect/ca/roots</c>
    /// serves): answered when the roots index passes <paramref name="minIndex"/> (0: at once) or after
    /// <paramref name="maxWait"/> (at most 10 minutes) with the current roots. The index is never 0: it is the
    /// roots' <see cref="CaRootListDto.Index"/> plus one.
    /// </summary>
    Task<MeridianIndexed<CaRootListDto>> WatchCaRootsAsync(ulong minIndex, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>The CA configuration.</summary>
    Task<CaConfigurationDto> GetCaConfigurationAsync(CancellationToken cancellationToken = default);

    /// <summary>Changes the CA configuration (primary); key changes rotate the root.</summary>
    Task<CaConfigurationDto> SetCaConfigurationAsync(CaConfigurationDto configuration, CancellationToken cancellationToken = default);

    /// <summary>Rotates the root CA (primary), cross-signed by the old root.</summary>
    Task<CaRootListDto> RotateCaAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Secondary: accepts on purpose a primary of another trust domain (or a primary CA whose new root no trusted root
    /// cross-signed), which this datacenter otherwise refuses (status <c>Degraded</c> says so). The next root-watch round
    /// that meets a primary of <paramref name="trustDomain"/> (<c>&lt;cluster-id&gt;.consul</c>) re-pins to it. Returns the CA
    /// status (still the old trust domain until that round).
    /// </summary>
    Task<CaStatusDto> AdoptPrimaryAsync(string trustDomain, CancellationToken cancellationToken = default);

    /// <summary>
    /// The service's certificate and private key. With <paramref name="waitNewerThanSerial"/> it is a blocking call
    /// keyed by serial (what Consul's blocking <c>/v1/agent/connect/ca/leaf/:service</c> serves): waits (up to
    /// <paramref name="maxWait"/>, default 5 minutes, at most 10) until a certificate with another serial exists, and
    /// answers the current one when the wait ends. Leaf certificates carry no store index
    /// (<see cref="IssuedCertificateDto.ModifyIndex"/> is 0): the serial is their version.
    /// </summary>
    Task<IssuedCertificateDto> GetCertificateAsync(string service, string? waitNewerThanSerial = null, TimeSpan? maxWait = null, CancellationToken cancellationToken = default);

    /// <summary>Signs the workload's own CSR (its key never leaves the workload).</summary>
    Task<IssuedCertificateDto> SignCertificateAsync(string service, string csrPem, CancellationToken cancellationToken = default);

    /// <summary>Replication into this datacenter, one status per replicated type, then CA roots; empty in the primary.</summary>
    Task<IReadOnlyList<ReplicationStatusDto>> GetReplicationStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies, once, the intention state this secondary holds back from a replaced or reset primary (see
    /// <see cref="ReplicationStatusDto.Held"/>); later changes then flow normally. With nothing held it changes nothing.
    /// In the primary: a validation error (it replicates from nobody).
    /// </summary>
    Task<ReplicationAdoptResultDto> AdoptPrimaryStateAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Read-your-writes after a write made through a secondary (answered with the primary's index): waits up to
    /// <paramref name="maxWait"/> until this datacenter has applied <paramref name="primaryIndex"/>. True when it has.
    /// </summary>
    Task<bool> WaitForReplicatedAsync(ulong primaryIndex, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>Datacenter status.</summary>
    Task<DatacenterStatusDto> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Every datacenter of the federation as the connected one sees it: ranked by the RTT measured from it (Consul's
    /// <c>/v1/catalog/datacenters</c> order, unreachable last), with whether each is the primary and reachable now.
    /// </summary>
    Task<DatacenterListDto> GetDatacentersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The same connection, sending <paramref name="token"/> (null: none, the anonymous token) instead of
    /// <see cref="MeridianClientOptions.Token"/>. Every call sets its token for that call only and restores the
    /// caller's <see cref="CallerToken"/> after it.
    /// </summary>
    IMeridianClient WithToken(string? token);

    /// <summary>
    /// Consul's <c>acl bootstrap</c>: the first management token, with its SecretID (shown this once). Later calls get
    /// <see cref="MeridianPermissionDeniedException"/> <c>ACL bootstrap no longer allowed (reset index: N)</c>.
    /// </summary>
    Task<AclTokenDto> AclBootstrapAsync(string? bootstrapSecret = null, CancellationToken cancellationToken = default);

    /// <summary>Creates a policy (its ID must be empty). Needs <c>acl:write</c>.</summary>
    Task<AclPolicyDto> CreateAclPolicyAsync(AclPolicyDto policy, CancellationToken cancellationToken = default);

    /// <summary>Updates the policy <c>policy.ID</c>. Needs <c>acl:write</c>.</summary>
    Task<AclPolicyDto> UpdateAclPolicyAsync(AclPolicyDto policy, CancellationToken cancellationToken = default);

    /// <summary>The policy with <paramref name="id"/>, or else named <paramref name="name"/>. Needs <c>acl:read</c>.</summary>
    Task<AclPolicyDto> GetAclPolicyAsync(string? id, string? name = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a policy; idempotent. Returns the store index.</summary>
    Task<ulong> DeleteAclPolicyAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every policy, by name.</summary>
    Task<IReadOnlyList<AclPolicyDto>> ListAclPoliciesAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a role (its ID must be empty).</summary>
    Task<AclRoleDto> CreateAclRoleAsync(AclRoleDto role, CancellationToken cancellationToken = default);

    /// <summary>Updates the role <c>role.ID</c>.</summary>
    Task<AclRoleDto> UpdateAclRoleAsync(AclRoleDto role, CancellationToken cancellationToken = default);

    /// <summary>The role with <paramref name="id"/>, or else named <paramref name="name"/>.</summary>
    Task<AclRoleDto> GetAclRoleAsync(string? id, string? name = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a role; idempotent. Returns the store index.</summary>
    Task<ulong> DeleteAclRoleAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every role, by name.</summary>
    Task<IReadOnlyList<AclRoleDto>> ListAclRolesAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a token; the answer carries its SecretID, the only time it is shown.</summary>
    Task<AclTokenDto> CreateAclTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a token linked to the replication policy (<c>AclBuiltins.ReplicationPolicyRules</c>, Consul's documented
    /// rules), creating that policy, named <c>replication</c>, if it does not exist. A policy of that name with other
    /// rules is an error rather than silently granting something else.
    /// </summary>
    Task<AclTokenDto> CreateAclReplicationTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default);

    /// <summary>Replaces the description, links and identities of the token <c>token.AccessorID</c>.</summary>
    Task<AclTokenDto> UpdateAclTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default);

    /// <summary>A token by AccessorID, its SecretID hidden.</summary>
    Task<AclTokenDto> GetAclTokenAsync(string accessorId, CancellationToken cancellationToken = default);

    /// <summary>The token this client sends (Consul's <c>token read -self</c>), its SecretID hidden.</summary>
    Task<AclTokenDto> GetAclTokenSelfAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes a token; idempotent. Returns the store index.</summary>
    Task<ulong> DeleteAclTokenAsync(string accessorId, CancellationToken cancellationToken = default);

    /// <summary>Every token, SecretIDs hidden.</summary>
    Task<IReadOnlyList<AclTokenDto>> ListAclTokensAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a prepared query in this client's datacenter (Consul's <c>POST /v1/query</c>) and answers its ID. The
    /// definition's <c>ID</c> must be empty. A named query or a template needs <c>query:write</c> on its name.
    /// </summary>
    Task<string> CreatePreparedQueryAsync(PreparedQueryDto query, CancellationToken cancellationToken = default);

    /// <summary>Replaces prepared query <paramref name="id"/>'s definition (Consul's <c>PUT /v1/query/:id</c>); answers the store index.</summary>
    Task<ulong> UpdatePreparedQueryAsync(string id, PreparedQueryDto query, CancellationToken cancellationToken = default);

    /// <summary>Deletes prepared query <paramref name="id"/>; answers the store index. Unknown: Consul's not-found text.</summary>
    Task<ulong> DeletePreparedQueryAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The prepared queries the caller may read, captured tokens hidden without <c>acl:write</c>.</summary>
    Task<PreparedQueryListDto> ListPreparedQueriesAsync(CancellationToken cancellationToken = default);

    /// <summary>Prepared query <paramref name="id"/> (Consul's <c>GET /v1/query/:id</c>).</summary>
    Task<PreparedQueryDto> GetPreparedQueryAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// The definition executing <paramref name="idOrName"/> would run, templates rendered for the name (Consul's
    /// <c>GET /v1/query/:idOrName/explain</c>).
    /// </summary>
    Task<PreparedQueryDto> ExplainPreparedQueryAsync(string idOrName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Executes a prepared query in this client's datacenter (Consul's <c>GET /v1/query/:idOrName/execute</c>): local
    /// instances first, the query's failover datacenters only when there are none; the answer names the datacenter that
    /// served it and the number of failovers. Unknown: <see cref="MeridianNotFoundException"/> <c>Query not found</c>.
    /// </summary>
    Task<PreparedQueryExecuteResultDto> ExecutePreparedQueryAsync(string idOrName, QueryExecuteOptionsDto? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Resolves a sidecar's upstream to endpoints (see <see cref="UpstreamResolution"/>): <paramref name="upstream"/>'s
    /// <c>DestinationType</c> (<c>service</c>, the default, or <c>prepared_query</c>), <c>DestinationName</c> and
    /// <c>Datacenter</c> (empty: this one). With <paramref name="sourceService"/>, an upstream its sidecar
    /// (<c>&lt;source&gt;-sidecar-proxy</c>) declares under that name supplies the type and datacenter not given.
    /// </summary>
    Task<UpstreamResolutionResult> ResolveUpstreamAsync(string? sourceService, UpstreamDto upstream, CancellationToken cancellationToken = default);

    /// <summary>
    /// Consul's <c>PUT /v1/catalog/register</c>: a node, optionally a service and checks, in the request's
    /// <c>Datacenter</c> (empty: this client's). Returns the write's index.
    /// </summary>
    Task<ulong> RegisterCatalogAsync(CatalogRegisterRequestDto request, CancellationToken cancellationToken = default);

    /// <summary>Consul's <c>PUT /v1/catalog/deregister</c>: a node, one of its services or one of its checks.</summary>
    Task<ulong> DeregisterCatalogAsync(CatalogDeregisterRequestDto request, CancellationToken cancellationToken = default);

    /// <summary>Service names and tags of a datacenter (null: this client's).</summary>
    Task<CatalogServicesDto> GetCatalogServicesAsync(string? datacenter = null, CancellationToken cancellationToken = default);

    /// <summary>The nodes of a datacenter (null: this client's).</summary>
    Task<CatalogNodesDto> GetCatalogNodesAsync(string? datacenter = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Consul's <c>/v1/health/service/:name</c>: one service's instances in a datacenter (null: this client's), each
    /// with its node and every check that affects it; <paramref name="passingOnly"/> keeps only instances whose checks
    /// all pass. One call to the service's grain in the answering datacenter.
    /// </summary>
    Task<ServiceHealthDto> GetServiceHealthAsync(string service, bool passingOnly = false, string? datacenter = null, CancellationToken cancellationToken = default);

    /// <summary>Consul's <c>/v1/catalog/service/:name</c>: the same instances flattened into <see cref="ServiceNode"/>s.</summary>
    Task<IReadOnlyList<ServiceNode>> GetCatalogServiceAsync(string service, string? datacenter = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets a check's status (<c>passing</c>, <c>warning</c>, <c>critical</c>) and output, refreshing a TTL check.
    /// Without <paramref name="node"/> the check is looked up by ID in the datacenter: none is
    /// <see cref="MeridianNotFoundException"/>, several (the same ID on more than one node) a
    /// <see cref="MeridianValidationException"/> listing the nodes.
    /// </summary>
    Task<HealthCheckDto> UpdateCheckAsync(string checkId, string status, string? node = null, string? output = null, string? datacenter = null, CancellationToken cancellationToken = default);
}
