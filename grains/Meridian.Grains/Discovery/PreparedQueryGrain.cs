using System.Collections.Immutable;
using Meridian.Core.Acl;
using Meridian.Core.Discovery;
using Meridian.Core.Validation;
using Meridian.Grains.Acl;
using Meridian.Grains.Catalog;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Discovery;

/// <summary>Persisted prepared queries of one datacenter. Type name and ids are part of the stored format: never rename or renumber.</summary>
[GenerateSerializer, Alias("meridian.query.PreparedQueryState")]
public sealed class PreparedQueryState
{
    /// <summary>The store index: bumped on every change, never goes backwards.</summary>
    [Id(0)] public ulong Index { get; set; }

    /// <summary>The queries by ID, each with its Create/ModifyIndex.</summary>
    [Id(1)] public ImmutableDictionary<string, PreparedQueryDto> Queries { get; set; } = ImmutableDictionary<string, PreparedQueryDto>.Empty;
}

/// <summary>
/// The prepared-query store of one datacenter; see <see cref="IPreparedQueryGrain"/>. Validate (Core's
/// <see cref="PreparedQueryRules"/>), check the caller's <c>query:write</c>, persist, then answer: readers only ever
/// see durable state. The captured token is never logged.
/// </summary>
public sealed partial class PreparedQueryGrain(
    [PersistentState("queries", MeridianStorage.Name)] IPersistentState<PreparedQueryState> state,
    IDatacenterLinks links,
    IDatacenterDistances distances,
    IAclAuthorizerSource acls,
    DiscoverySettings discovery,
    ILogger<PreparedQueryGrain> logger) : Grain, IPreparedQueryGrain
{
    /// <summary>
    /// How long a failover waits for the link to a candidate datacenter. Links are kept open by their RTT pings, so a
    /// candidate that is not connected by then is most likely down: skip it rather than hold the answer.
    /// </summary>
    public static readonly TimeSpan FailoverLinkWait = TimeSpan.FromSeconds(2);

    /// <summary>How long one failover candidate may take to answer before it counts as failed and the next is tried.</summary>
    public static readonly TimeSpan FailoverCallTimeout = TimeSpan.FromSeconds(10);

    private string Datacenter => this.GetPrimaryKeyString();

    /// <inheritdoc />
    public async Task<string> CreateAsync(PreparedQueryDto query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var incoming = query.ToCore();
        if (incoming.Id.Length > 0)
            throw new DomainValidationException("ID", ValidationCodes.InvalidValue, PreparedQueryRules.IdMustBeEmpty);
        RequireWrite(incoming.AclPrefix, "create");
        var id = NewId();
        var stored = Checked(incoming with { Id = id });
        var index = state.State.Index + 1;
        await PersistAsync(index, state.State.Queries.SetItem(id, (stored with { CreateIndex = index, ModifyIndex = index }).ToDto()), cancellationToken);
        LogCreated(logger, Datacenter, id, stored.Name, index);
        return id;
    }

    /// <inheritdoc />
    public async Task<ulong> UpdateAsync(string id, PreparedQueryDto query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var incoming = query.ToCore() with { Id = id ?? "" };
        RequireWrite(incoming.AclPrefix, "update");
        var existing = Existing(incoming.Id);
        RequireWrite(existing.AclPrefix, "update");
        var stored = Checked(incoming);
        var index = state.State.Index + 1;
        await PersistAsync(index, state.State.Queries.SetItem(existing.Id,
            (stored with { Id = existing.Id, CreateIndex = existing.CreateIndex, ModifyIndex = index }).ToDto()), cancellationToken);
        LogUpdated(logger, Datacenter, existing.Id, stored.Name, index);
        return index;
    }

    /// <inheritdoc />
    public async Task<ulong> DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        var existing = Existing(id ?? "");
        RequireWrite(existing.AclPrefix, "delete");
        var index = state.State.Index + 1;
        await PersistAsync(index, state.State.Queries.Remove(existing.Id), cancellationToken);
        LogDeleted(logger, Datacenter, existing.Id, existing.Name, index);
        return index;
    }

    /// <inheritdoc />
    public Task<PreparedQueryListDto> ListAsync(CancellationToken cancellationToken = default)
    {
        var all = state.State.Queries.Values.Select(q => q.ToCore()).ToList();
        var visible = all.Where(Readable).OrderBy(q => q.Name, StringComparer.Ordinal).ThenBy(q => q.Id, StringComparer.Ordinal)
            .Select(q => Shown(q).ToDto()).ToImmutableArray();
        // Consul's X-Consul-Results-Filtered-By-ACLs: not said to the anonymous token.
        var filtered = visible.Length < all.Count && AclCallContext.Current is { } caller && caller.AccessorId != AclBuiltins.AnonymousTokenAccessorId;
        return Task.FromResult(new PreparedQueryListDto(visible, state.State.Index, filtered));
    }

    /// <inheritdoc />
    public Task<PreparedQueryDto> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!state.State.Queries.TryGetValue(id ?? "", out var dto)) throw new MeridianNotFoundException(PreparedQueryRules.QueryNotFound);
        var query = dto.ToCore();
        RequireRead(query);
        return Task.FromResult(Shown(query).ToDto());
    }

    /// <inheritdoc />
    public Task<PreparedQueryDto> ExplainAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        var found = PreparedQueryRules.Resolve(state.State.Queries.Values.Select(q => q.ToCore()).ToList(), idOrName ?? "");
        if (found.Error is { } error) throw new DomainValidationException("idOrName", ValidationCodes.InvalidValue, error);
        if (found.Query is not { } query) throw new MeridianNotFoundException(PreparedQueryRules.QueryNotFound);
        var rendered = PreparedQueryRules.Render(query, idOrName!);
        RequireRead(rendered);
        return Task.FromResult(Shown(rendered).ToDto());
    }

    /// <inheritdoc />
    public async Task<PreparedQueryExecuteResultDto> ExecuteAsync(string idOrName, QueryExecuteOptionsDto? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new();
        var query = WithOptions(Rendered(idOrName ?? ""), options);
        var reader = await ResultReaderAsync(query, cancellationToken);
        // Core works on ServiceInstance; the answer carries the DTOs the instances came from (every field, indexes too).
        var sources = new Dictionary<ServiceInstance, CheckServiceNodeDto>(ReferenceEqualityComparer.Instance);
        var ranked = distances.Ranked();
        var known = ranked.Select(d => d.Datacenter).ToHashSet(StringComparer.Ordinal);
        var execution = await QueryFailoverPlan.ExecuteAsync(query, Datacenter, [.. ranked.Select(d => d.Datacenter)], known,
            async (dc, ct) => Remember(sources, dc == Datacenter
                ? await LocalAsync(query, options.Limit, reader)
                : await RemoteAsync(dc, query, options, ct)), cancellationToken);
        foreach (var dc in execution.UnknownDatacenters) LogUnknownDatacenter(logger, Datacenter, query.Id, dc);
        foreach (var failed in execution.Errors) LogFailoverFailed(logger, Datacenter, query.Id, failed.Datacenter, failed.Error.GetType().Name, failed.Error.Message);
        var answer = execution.Answer;
        var translate = WanAddressTranslation.Applies(discovery.TranslateWanAddrs, Datacenter, answer.Datacenter);
        var nodes = answer.Nodes.Select(n => sources[n]);
        return new PreparedQueryExecuteResultDto
        {
            Service = answer.Service,
            Nodes = [.. translate ? nodes.Select(CatalogViews.TranslateWan) : nodes],
            DNS = new QueryDnsDto { TTL = answer.Dns.Ttl },
            Datacenter = answer.Datacenter,
            Failovers = answer.Failovers,
            AddressesTranslated = translate,
        };
    }

    /// <inheritdoc />
    public async Task<PreparedQueryExecuteResultDto> ExecuteRemoteAsync(PreparedQueryDto query, QueryExecuteOptionsDto? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        options ??= new();
        var rendered = WithOptions(query.ToCore(), options);
        var nodes = await LocalAsync(rendered, options.Limit, await ResultReaderAsync(rendered, cancellationToken));
        return new PreparedQueryExecuteResultDto
        {
            Service = rendered.Service.Service, Nodes = nodes, DNS = new QueryDnsDto { TTL = rendered.Dns.Ttl }, Datacenter = Datacenter,
        };
    }

    // The query executing idOrName runs (Consul's resolution order, templates rendered for the name).
    private PreparedQuery Rendered(string idOrName)
    {
        var found = PreparedQueryRules.Resolve(Durable.Queries.Values.Select(q => q.ToCore()).ToList(), idOrName);
        if (found.Error is { } error) throw new DomainValidationException("idOrName", ValidationCodes.InvalidValue, error);
        if (found.Query is not { } query) throw new MeridianNotFoundException(PreparedQueryRules.QueryNotFound);
        return PreparedQueryRules.Render(query, idOrName);
    }

    // ?connect=true forces Connect; ?near= replaces the definition's Near.
    private static PreparedQuery WithOptions(PreparedQuery q, QueryExecuteOptionsDto options) => q with
    {
        Service = q.Service with
        {
            Connect = q.Service.Connect || options.Connect,
            Near = string.IsNullOrEmpty(options.Near) ? q.Service.Near : options.Near,
        },
    };

    // Whose node:read and service:read filter the answer (Consul's execute): the query's captured token when it has one
    // (resolved here, so a token of another datacenter must be global), else the caller's; null: no filtering.
    private async Task<AclCaller?> ResultReaderAsync(PreparedQuery query, CancellationToken ct) =>
        acls.Enabled && query.Token.Length > 0 ? await acls.ResolveAsync(query.Token, ct) : AclCallContext.Current;

    // This datacenter's answer: the cheapest catalog read (one service grain, unfiltered), the ACL filter, Core's
    // query filter, then shuffle and limit. NOTE: Near is accepted but has no effect: Meridian keeps no node
    // coordinates, and Consul also leaves the order random for a node it has no coordinate for.
    private async Task<ImmutableArray<CheckServiceNodeDto>> LocalAsync(PreparedQuery query, int limit, AclCaller? reader)
    {
        var entries = new List<CheckServiceNodeDto>();
        foreach (var name in CatalogNames(query.Service))
        {
            var health = await GrainFactory.GetGrain<ICatalogServiceGrain>(CatalogKeys.Service(Datacenter, name)).GetHealthAsync(false);
            entries.AddRange((reader is null ? health : CatalogViews.Filter(health, reader)).Instances);
        }
        var sources = new Dictionary<ServiceInstance, CheckServiceNodeDto>(ReferenceEqualityComparer.Instance);
        var kept = QueryResultFilter.ShuffleAndLimit(QueryResultFilter.Filter(Remember(sources, [.. entries]), query.Service), Random.Shared, limit);
        return [.. kept.Select(i => sources[i])];
    }

    // Which services' instances a query looks at. Connect: Consul reads its Connect index (proxies by destination and
    // native instances); Meridian's catalog has none, so it reads the service and its sidecar under the name Consul
    // gives sidecars by default, "<service>-sidecar-proxy"; QueryResultFilter then keeps the proxies whose destination
    // is the service and the native instances. A proxy registered under another name is not found.
    internal static IEnumerable<string> CatalogNames(ServiceQuery q)
    {
        if (Meridian.Core.Identity.ServiceName.Check("Service.Service", q.Service) is not null) yield break; // Consul: no instances
        yield return q.Service;
        if (q.Connect) yield return q.Service + SidecarSuffix;
    }

    /// <summary>The suffix of the default sidecar proxy's service name (Consul's <c>-sidecar-proxy</c>).</summary>
    public const string SidecarSuffix = "-sidecar-proxy";

    // One failover candidate: its own execution of the rendered query, over the link, with the caller's token (it rides
    // in the RequestContext) and the query's token in the definition; it does not fail over again.
    private async Task<ImmutableArray<CheckServiceNodeDto>> RemoteAsync(string dc, PreparedQuery query, QueryExecuteOptionsDto options, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(FailoverCallTimeout);
        var factory = await links.GetAsync(dc, FailoverLinkWait, timeout.Token);
        var answer = await factory.GetGrain<IPreparedQueryGrain>(dc).ExecuteRemoteAsync(query.ToDto(), options, timeout.Token);
        return answer.Nodes;
    }

    private static IReadOnlyList<ServiceInstance> Remember(Dictionary<ServiceInstance, CheckServiceNodeDto> sources, ImmutableArray<CheckServiceNodeDto> entries)
    {
        var list = new List<ServiceInstance>(entries.Length);
        foreach (var e in entries)
        {
            var i = e.ToServiceInstance();
            sources[i] = e;
            list.Add(i);
        }
        return list;
    }

    // Every problem with the definition at once: Consul's parse texts, the template, the store's uniqueness, the session.
    private PreparedQuery Checked(PreparedQuery q)
    {
        var problems = new List<ValidationProblem>(PreparedQueryRules.Validate(q));
        if (PreparedQueryRules.CheckTemplate(q) is { } template) problems.Add(template);
        problems.AddRange(PreparedQueryRules.CheckStore(state.State.Queries.Values.Select(v => v.ToCore()), q));
        // NOTE: Meridian has no sessions (Consul's session store), so no session exists to bind a query to.
        if (q.Session.Length > 0)
            problems.Add(new("Session", ValidationCodes.InvalidValue, $"invalid session {ValidationText.Quote(q.Session)}"));
        DomainValidationException.ThrowIfAny(problems);
        return q;
    }

    private PreparedQuery Existing(string id) =>
        state.State.Queries.TryGetValue(id, out var dto) ? dto.ToCore() : throw new MeridianNotFoundException(PreparedQueryRules.NonExistent(id));

    // A new UUID that is neither a stored ID nor a stored name (a name may not be taken over by an ID either).
    private string NewId()
    {
        while (true)
        {
            var id = Guid.NewGuid().ToString("D");
            if (!state.State.Queries.ContainsKey(id) && !state.State.Queries.Values.Any(q => string.Equals(q.Name, id, StringComparison.OrdinalIgnoreCase)))
                return id;
        }
    }

    // Consul's Apply: query:write on the name of a named query or a template; none for an unnamed static query.
    private void RequireWrite(string? prefix, string operation)
    {
        if (prefix is null || AclCallContext.Current is not { } caller) return;
        var decision = caller.Authorizer.QueryWrite(prefix);
        if (decision.Allowed) return;
        LogWriteRefused(logger, Datacenter, operation, caller.AccessorId, prefix);
        throw new MeridianPermissionDeniedException(decision.DeniedMessage(caller.AccessorId));
    }

    // Consul's filterPreparedQueries: acl:write sees everything; others need query:read on the name, and never see an
    // unnamed static query. No caller (ACLs off, or a call from inside the datacenter): everything.
    private static bool Readable(PreparedQuery q)
    {
        if (AclCallContext.Current is not { } caller || caller.Authorizer.AclWrite().Allowed) return true;
        return q.AclPrefix is { } prefix && caller.Authorizer.QueryRead(prefix).Allowed;
    }

    // A read of one query the caller may not see. Consul answers a bare "Permission denied"; we name the permission
    // (query:read on the name, acl:write for an unnamed query), as every other refusal here does.
    private static void RequireRead(PreparedQuery q)
    {
        if (Readable(q)) return;
        var caller = AclCallContext.Current!;
        var decision = q.AclPrefix is { } prefix ? caller.Authorizer.QueryRead(prefix) : caller.Authorizer.AclWrite();
        throw new MeridianPermissionDeniedException(decision.DeniedMessage(caller.AccessorId));
    }

    private static PreparedQuery Shown(PreparedQuery q) =>
        AclCallContext.Current is { } caller && !caller.Authorizer.AclWrite().Allowed ? PreparedQueryRules.Redacted(q) : q;

    // Executions interleave with writes (ExecuteAsync is AlwaysInterleave): they read the last durable state, never
    // one a write has set but not yet stored.
    private PreparedQueryState? _durable;

    private PreparedQueryState Durable => _durable ?? state.State;

    private async Task PersistAsync(ulong index, ImmutableDictionary<string, PreparedQueryDto> queries, CancellationToken ct)
    {
        var previous = state.State;
        _durable = previous;
        state.State = new PreparedQueryState { Index = index, Queries = queries };
        try
        {
            await state.WriteStateAsync(ct);
        }
        catch
        {
            state.State = previous; // not durable: readers keep seeing what is
            throw;
        }
        _durable = state.State;
    }

    [LoggerMessage(EventId = MeridianEventIds.PreparedQueryCreated, Level = LogLevel.Information,
        Message = "Created prepared query {QueryId} ({QueryName}) in {Datacenter} at index {Index}")]
    private static partial void LogCreated(ILogger logger, string datacenter, string queryId, string queryName, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.PreparedQueryUpdated, Level = LogLevel.Information,
        Message = "Updated prepared query {QueryId} ({QueryName}) in {Datacenter} at index {Index}")]
    private static partial void LogUpdated(ILogger logger, string datacenter, string queryId, string queryName, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.PreparedQueryDeleted, Level = LogLevel.Information,
        Message = "Deleted prepared query {QueryId} ({QueryName}) in {Datacenter} at index {Index}")]
    private static partial void LogDeleted(ILogger logger, string datacenter, string queryId, string queryName, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.PreparedQueryWriteRefused, Level = LogLevel.Debug,
        Message = "Refused prepared query {Operation} in {Datacenter} for token {AccessorId}: lacks query:write on {QueryName}")]
    private static partial void LogWriteRefused(ILogger logger, string datacenter, string operation, string accessorId, string queryName);

    [LoggerMessage(EventId = MeridianEventIds.PreparedQueryUnknownDatacenterSkipped, Level = LogLevel.Debug,
        Message = "Skipping unknown datacenter {TargetDatacenter} in prepared query {QueryId} executed in {Datacenter}")]
    private static partial void LogUnknownDatacenter(ILogger logger, string datacenter, string queryId, string targetDatacenter);

    [LoggerMessage(EventId = MeridianEventIds.PreparedQueryFailoverFailed, Level = LogLevel.Warning,
        Message = "Prepared query {QueryId} executed in {Datacenter}: failover to {TargetDatacenter} failed ({ErrorType}: {Reason}); trying the next")]
    private static partial void LogFailoverFailed(ILogger logger, string datacenter, string queryId, string targetDatacenter, string errorType, string reason);
}
