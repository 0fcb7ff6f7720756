using System.Collections.Immutable;
using Meridian.Core.Acl;
using Meridian.Core.Discovery;
using Meridian.Core.Validation;
using Meridian.Grains.Acl;
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
    ILogger<PreparedQueryGrain> logger) : Grain, IPreparedQueryGrain
{
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

    private async Task PersistAsync(ulong index, ImmutableDictionary<string, PreparedQueryDto> queries, CancellationToken ct)
    {
        var previous = state.State;
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
}
