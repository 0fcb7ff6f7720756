using System.Collections.Immutable;
using Meridian.Core.Acl;
using Meridian.Core.Replication;
using Meridian.Core.Validation;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Acl;

/// <summary>
/// Persisted state of a datacenter's ACL store. Type name and ids are part of the stored format: never rename or renumber.
/// Entries are keyed by ID (tokens by AccessorID) and each carries its Create/ModifyIndex, the shape replication diffs.
/// </summary>
[GenerateSerializer, Alias("meridian.acl.AclStoreState")]
public sealed class AclStoreState
{
    /// <summary>The store index: bumped on every change, never goes backwards.</summary>
    [Id(0)] public ulong Index { get; set; }

    /// <summary>This store's incarnation (a Guid, "N" format), as the intention registry's: a wiped store starts a new one.</summary>
    [Id(1)] public string Epoch { get; set; } = "";

    [Id(2)] public ImmutableDictionary<string, AclPolicyDto> Policies { get; set; } = ImmutableDictionary<string, AclPolicyDto>.Empty;
    [Id(3)] public ImmutableDictionary<string, AclRoleDto> Roles { get; set; } = ImmutableDictionary<string, AclRoleDto>.Empty;
    [Id(4)] public ImmutableDictionary<string, AclStoredTokenDto> Tokens { get; set; } = ImmutableDictionary<string, AclStoredTokenDto>.Empty;

    /// <summary>The index at which bootstrap was used (Consul's reset index); 0 while bootstrap is still allowed.</summary>
    [Id(5)] public ulong BootstrapIndex { get; set; }

    /// <summary>In a secondary: the primary's index applied by ACL replication (0 = never synced).</summary>
    [Id(6)] public ulong ReplicatedIndex { get; set; }

    /// <summary>In a secondary: the primary's epoch that <see cref="ReplicatedIndex"/> counts in.</summary>
    [Id(7)] public string ReplicatedEpoch { get; set; } = "";

    /// <summary>In a secondary: the round of ACL replication held back for the operator (null: following the primary).</summary>
    [Id(8)] public ReplicationHoldDto? Hold { get; set; }

    internal AclStoreState With(ulong index) => new()
    {
        Index = index, Epoch = Epoch, Policies = Policies, Roles = Roles, Tokens = Tokens, BootstrapIndex = BootstrapIndex,
        ReplicatedIndex = ReplicatedIndex, ReplicatedEpoch = ReplicatedEpoch, Hold = Hold,
    };
}

/// <summary>
/// The ACL store of one datacenter; see <see cref="IAclStoreGrain"/>. Validate (Core's <see cref="AclValidation"/>),
/// build the next state, persist, then make it visible: readers (<see cref="LookupAsync"/> interleaves) only ever see
/// durable state. In the primary, the first activation writes the built-in policies and the anonymous token, and
/// every activation the initial management token if it is missing (Consul does both on leadership).
/// </summary>
public sealed partial class AclStoreGrain(
    [PersistentState("acl", MeridianStorage.Name)] IPersistentState<AclStoreState> state,
    DatacenterContext datacenter,
    AclSettings settings,
    Hosting.IPrimaryDatacenterLink link,
    Hosting.SiloStopping stopping,
    TimeProvider clock,
    ILogger<AclStoreGrain> logger) : Grain, IAclStoreGrain
{
    private const string BootstrapDescription = "Bootstrap Token (Global Management)";
    private const string InitialManagementDescription = "Initial Management Token";

    private readonly ChangeSignal _changed = new(stopping);
    private AclStoreState _current = new();
    private Dictionary<string, string> _accessorByHash = new(StringComparer.Ordinal);
    // Which entries each index touched ("policy/<id>", "role/<id>", "token/<accessor>"): what ACL replication serves.
    private ChangeFeed _feed = null!;
    // The hold step of every replicated store (a replaced, reset or emptied primary, a first sync over our own ACLs).
    private readonly Replication.ReplicationHoldKeeper _holds = new(Replication.ReplicatedTypes.Acl, datacenter, clock, logger);

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _current = state.State;
        Reindex();
        if (string.IsNullOrEmpty(_current.Epoch))
        {
            var fresh = _current.With(_current.Index);
            fresh.Epoch = Guid.NewGuid().ToString("N");
            await PersistAsync(fresh, [], cancellationToken);
        }
        _feed = new ChangeFeed(_current.Epoch, _current.Index);
        _holds.Resume(_current.Hold);
        if (settings.Enabled && settings.Hasher is { } hasher && datacenter.IsPrimary) await EnsureBuiltinsAsync(hasher, cancellationToken);
    }

    // Consul's leader (agent/consul/leader.go initializeACLs): built-in policies, the anonymous token, and the initial
    // management token when no token has its secret; creating the latter uses up bootstrap.
    private async Task EnsureBuiltinsAsync(AclSecretHasher hasher, CancellationToken ct)
    {
        var next = _current.With(_current.Index + 1);
        var keys = new List<string>();
        foreach (var builtin in AclBuiltins.Policies.Where(p => !next.Policies.ContainsKey(p.ID)))
        {
            next.Policies = next.Policies.SetItem(builtin.ID, builtin.ToDto() with { CreateIndex = next.Index, ModifyIndex = next.Index });
            keys.Add(PolicyKey(builtin.ID));
        }
        if (!next.Tokens.ContainsKey(AclBuiltins.AnonymousTokenAccessorId))
        {
            var anonymous = new AclTokenDto
            {
                AccessorID = AclBuiltins.AnonymousTokenAccessorId, Description = AclBuiltins.AnonymousTokenDescription,
                CreateTime = clock.GetUtcNow(), CreateIndex = next.Index, ModifyIndex = next.Index,
            };
            next.Tokens = next.Tokens.SetItem(anonymous.AccessorID, new(anonymous, hasher.Hash(AclBuiltins.AnonymousTokenSecret)));
            keys.Add(TokenKey(anonymous.AccessorID));
        }
        if (settings.InitialManagementToken is { } initial && !_accessorByHash.ContainsKey(hasher.Hash(initial)))
        {
            var token = ManagementToken(InitialManagementDescription, next.Index);
            next.Tokens = next.Tokens.SetItem(token.AccessorID, new(token, hasher.Hash(initial)));
            if (next.BootstrapIndex == 0) next.BootstrapIndex = next.Index;
            keys.Add(TokenKey(token.AccessorID));
            LogInitialManagementCreated(logger, datacenter.Datacenter, token.AccessorID, next.Index);
        }
        if (keys.Count > 0) await PersistAsync(next, keys, ct);
    }

    /// <inheritdoc />
    public async Task<AclTokenDto> BootstrapAsync(string? bootstrapSecret = null, CancellationToken cancellationToken = default)
    {
        var hasher = settings.RequireEnabled();
        if (!datacenter.IsPrimary) return await (await PrimaryAsync(cancellationToken)).BootstrapAsync(bootstrapSecret, cancellationToken);
        var resetFile = _current.BootstrapIndex == 0 ? null : CheckBootstrapReset(_current.BootstrapIndex);
        var secret = string.IsNullOrEmpty(bootstrapSecret) ? NewSecret() : bootstrapSecret;
        if (!string.IsNullOrEmpty(bootstrapSecret))
        {
            if (!Guid.TryParseExact(bootstrapSecret, "D", out _) || AclBuiltins.IsReservedId(bootstrapSecret))
                throw new DomainValidationException("BootstrapSecret", ValidationCodes.InvalidFormat, "BootstrapSecret is not a valid UUID outside the reserved range");
            if (_accessorByHash.ContainsKey(hasher.Hash(secret)))
                throw new DomainValidationException("BootstrapSecret", ValidationCodes.Duplicate,
                    "Provided token cannot be used because a token with that secret already exists.");
        }
        var next = _current.With(_current.Index + 1);
        var token = ManagementToken(BootstrapDescription, next.Index);
        next.Tokens = next.Tokens.SetItem(token.AccessorID, new(token, hasher.Hash(secret)));
        next.BootstrapIndex = next.Index;
        await PersistAsync(next, [TokenKey(token.AccessorID)], cancellationToken);
        // Used once, as Consul deletes <data_dir>/acl-bootstrap-reset after the bootstrap it allowed.
        if (resetFile is not null) File.Delete(resetFile);
        LogBootstrapped(logger, datacenter.Datacenter, token.AccessorID, next.Index);
        return token with { SecretID = secret };
    }

    // The reset file (Consul: <data_dir>/acl-bootstrap-reset) holds the reset index the refusal printed; only someone
    // who can write files on the primary's silo can allow another bootstrap, never a network caller.
    private string CheckBootstrapReset(ulong resetIndex)
    {
        var path = settings.BootstrapResetFile;
        string? text = null;
        try
        {
            if (path is not null && File.Exists(path)) text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogResetFileUnreadable(logger, path!, e.Message);
        }
        if (text is null)
            throw new MeridianPermissionDeniedException($"Permission denied: ACL bootstrap no longer allowed (reset index: {resetIndex})");
        if (!ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var specified) || specified != resetIndex)
            throw new MeridianPermissionDeniedException($"Invalid bootstrap reset index (specified {text}, reset index: {resetIndex})");
        return path!;
    }

    /// <inheritdoc />
    public async Task<AclPolicyDto> SetPolicyAsync(AclPolicyDto policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        settings.RequireEnabled();
        if (!datacenter.IsPrimary) return await (await PrimaryAsync(cancellationToken)).SetPolicyAsync(policy, cancellationToken);
        var existing = Existing(_current.Policies, policy.ID, "policy");
        var candidate = policy.ToCore() with { ID = existing?.ID ?? NewId() };
        var problems = AclValidation.ValidatePolicy(candidate).ToList();
        if (existing is not null && AclBuiltins.IsReservedId(existing.ID))
        {
            // Built-ins keep their rules and datacenters; the name and description may change (Consul's PolicySet).
            if (candidate.Name == existing.Name) problems.RemoveAll(p => p.Field == "Name");
            if (candidate.Rules != existing.Rules)
                problems.Add(new("Rules", ValidationCodes.Reserved, $"Changing the Rules for the builtin {existing.Name} policy is not permitted"));
            if (!candidate.Datacenters.SequenceEqual(existing.Datacenters.IsDefault ? [] : existing.Datacenters))
                problems.Add(new("Datacenters", ValidationCodes.Reserved, $"Changing the Datacenters of the {existing.Name} policy is not permitted"));
        }
        if (_current.Policies.Values.Any(p => p.ID != candidate.ID && string.Equals(p.Name, candidate.Name, StringComparison.OrdinalIgnoreCase)))
            problems.Add(new("Name", ValidationCodes.Duplicate, $"Invalid Policy: A Policy with Name {ValidationText.Quote(candidate.Name)} already exists"));
        if (problems.Count > 0) throw new DomainValidationException(problems);

        var dto = candidate.ToDto();
        if (existing is not null && SamePolicy(existing, dto)) return existing; // idempotent: nothing changed
        var next = _current.With(_current.Index + 1);
        dto = dto with { CreateIndex = existing?.CreateIndex ?? next.Index, ModifyIndex = next.Index };
        next.Policies = next.Policies.SetItem(dto.ID, dto);
        await PersistAsync(next, [PolicyKey(dto.ID)], cancellationToken);
        LogChanged(logger, "policy", dto.ID, next.Index);
        return dto;
    }

    /// <inheritdoc />
    public Task<AclPolicyDto> GetPolicyAsync(string? id, string? name = null, CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        var found = Find(_current.Policies.Values, p => p.ID, p => p.Name, id, name)
            ?? throw new MeridianNotFoundException($"ACL policy not found: {Describe(id, name)}");
        return Task.FromResult(found);
    }

    /// <inheritdoc />
    public async Task<ulong> DeletePolicyAsync(string id, CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        if (!datacenter.IsPrimary) return await (await PrimaryAsync(cancellationToken)).DeletePolicyAsync(id, cancellationToken);
        if (id is null || !_current.Policies.TryGetValue(id, out var existing)) return _current.Index; // Consul: deleting nothing is a no-op
        if (AclBuiltins.IsReservedId(id))
            throw new DomainValidationException("ID", ValidationCodes.Reserved, $"Delete operation not permitted on the builtin {existing.Name} policy");
        var next = _current.With(_current.Index + 1);
        next.Policies = next.Policies.Remove(id);
        await PersistAsync(next, [PolicyKey(id)], cancellationToken);
        LogDeleted(logger, "policy", id, next.Index);
        return next.Index;
    }

    /// <inheritdoc />
    public Task<ImmutableArray<AclPolicyDto>> ListPoliciesAsync(CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        return Task.FromResult<ImmutableArray<AclPolicyDto>>([.. _current.Policies.Values.OrderBy(p => p.Name, StringComparer.Ordinal)]);
    }

    /// <inheritdoc />
    public async Task<AclRoleDto> SetRoleAsync(AclRoleDto role, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(role);
        settings.RequireEnabled();
        if (!datacenter.IsPrimary) return await (await PrimaryAsync(cancellationToken)).SetRoleAsync(role, cancellationToken);
        var existing = Existing(_current.Roles, role.ID, "role");
        var candidate = role.ToCore() with { ID = existing?.ID ?? NewId() };
        var problems = AclValidation.ValidateRole(candidate).ToList();
        var policies = ResolveLinks(candidate.Policies, "Policies", "policy", _current.Policies.Values, p => p.ID, p => p.Name, problems);
        if (_current.Roles.Values.Any(r => r.ID != candidate.ID && string.Equals(r.Name, candidate.Name, StringComparison.OrdinalIgnoreCase)))
            problems.Add(new("Name", ValidationCodes.Duplicate, $"Invalid Role: A Role with Name {ValidationText.Quote(candidate.Name)} already exists"));
        if (problems.Count > 0) throw new DomainValidationException(problems);

        var dto = new AclRoleDto
        {
            ID = candidate.ID, Name = candidate.Name, Description = candidate.Description, Policies = policies,
            ServiceIdentities = [.. candidate.ServiceIdentities.Select(s => s.ToDto())],
            NodeIdentities = [.. candidate.NodeIdentities.Select(n => n.ToDto())],
        };
        if (existing is not null && SameRole(existing, dto)) return existing;
        var next = _current.With(_current.Index + 1);
        dto = dto with { CreateIndex = existing?.CreateIndex ?? next.Index, ModifyIndex = next.Index };
        next.Roles = next.Roles.SetItem(dto.ID, dto);
        await PersistAsync(next, [RoleKey(dto.ID)], cancellationToken);
        LogChanged(logger, "role", dto.ID, next.Index);
        return dto;
    }

    /// <inheritdoc />
    public Task<AclRoleDto> GetRoleAsync(string? id, string? name = null, CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        var found = Find(_current.Roles.Values, r => r.ID, r => r.Name, id, name)
            ?? throw new MeridianNotFoundException($"ACL role not found: {Describe(id, name)}");
        return Task.FromResult(WithCurrentNames(found));
    }

    /// <inheritdoc />
    public async Task<ulong> DeleteRoleAsync(string id, CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        if (!datacenter.IsPrimary) return await (await PrimaryAsync(cancellationToken)).DeleteRoleAsync(id, cancellationToken);
        if (id is null || !_current.Roles.ContainsKey(id)) return _current.Index;
        var next = _current.With(_current.Index + 1);
        next.Roles = next.Roles.Remove(id);
        await PersistAsync(next, [RoleKey(id)], cancellationToken);
        LogDeleted(logger, "role", id, next.Index);
        return next.Index;
    }

    /// <inheritdoc />
    public Task<ImmutableArray<AclRoleDto>> ListRolesAsync(CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        return Task.FromResult<ImmutableArray<AclRoleDto>>([.. _current.Roles.Values.OrderBy(r => r.Name, StringComparer.Ordinal).Select(WithCurrentNames)]);
    }

    /// <inheritdoc />
    public async Task<AclTokenDto> CreateTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        var hasher = settings.RequireEnabled();
        // Global tokens live in the primary; a local one stays in the datacenter that creates it (Consul's TokenSet).
        if (!datacenter.IsPrimary && !token.Local) return await (await PrimaryAsync(cancellationToken)).CreateTokenAsync(token, cancellationToken);
        var now = clock.GetUtcNow();
        var problems = AclValidation.ValidateToken(token.ToRequest(), now).ToList();
        if (token.AccessorID is { Length: > 0 } accessor && _current.Tokens.ContainsKey(accessor))
            problems.Add(new("AccessorID", ValidationCodes.Duplicate, "Invalid Token: AccessorID is already in use"));
        var secret = string.IsNullOrEmpty(token.SecretID) ? NewSecret() : token.SecretID;
        var hash = hasher.Hash(secret);
        if (_accessorByHash.ContainsKey(hash))
            problems.Add(new("SecretID", ValidationCodes.Duplicate, "Invalid Token: SecretID is already in use"));
        var (policies, roles) = ResolveTokenLinks(token, problems);
        if (problems.Count > 0) throw new DomainValidationException(problems);

        var next = _current.With(_current.Index + 1);
        var stored = new AclTokenDto
        {
            AccessorID = string.IsNullOrEmpty(token.AccessorID) ? NewId() : token.AccessorID,
            Description = token.Description ?? "",
            Policies = policies,
            Roles = roles,
            ServiceIdentities = Normalized(token.ServiceIdentities),
            NodeIdentities = token.NodeIdentities.IsDefault ? [] : token.NodeIdentities,
            Local = token.Local,
            CreateTime = now,
            ExpirationTime = token.ExpirationTime ?? (token.ExpirationTTL is { } ttl ? now + ttl : null),
            CreateIndex = next.Index,
            ModifyIndex = next.Index,
        };
        next.Tokens = next.Tokens.SetItem(stored.AccessorID, new(stored, hash));
        await PersistAsync(next, [TokenKey(stored.AccessorID)], cancellationToken);
        LogChanged(logger, "token", stored.AccessorID, next.Index);
        return stored with { SecretID = secret }; // the one time the secret is shown
    }

    /// <inheritdoc />
    public async Task<AclTokenDto> UpdateTokenAsync(AclTokenDto token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        var hasher = settings.RequireEnabled();
        var accessor = token.AccessorID ?? "";
        _current.Tokens.TryGetValue(accessor, out var existing);
        if (!datacenter.IsPrimary && existing?.Token.Local != true)
            return await (await PrimaryAsync(cancellationToken)).UpdateTokenAsync(token, cancellationToken);
        if (existing is null) throw new MeridianNotFoundException($"Cannot find token {ValidationText.Quote(accessor)}");
        var problems = AclValidation.ValidateToken(token.ToRequest() with { AccessorID = null, SecretID = null, ExpirationTime = null }, clock.GetUtcNow()).ToList();
        if (!string.IsNullOrEmpty(token.SecretID) && token.SecretID != AclTokenDto.HiddenSecret && !hasher.Verify(token.SecretID, existing.SecretHash))
            problems.Add(new("SecretID", ValidationCodes.Forbidden, "Changing a token's SecretID is not permitted"));
        if (token.Local != existing.Token.Local)
            problems.Add(new("Local", ValidationCodes.Forbidden, $"Cannot toggle local mode of {accessor}"));
        if (token.ExpirationTTL is not null || (token.ExpirationTime is { } e && e != existing.Token.ExpirationTime))
            problems.Add(new("ExpirationTime", ValidationCodes.Forbidden, "Cannot change expiration time"));
        var (policies, roles) = ResolveTokenLinks(token, problems);
        if (problems.Count > 0) throw new DomainValidationException(problems);

        var candidate = existing.Token with
        {
            Description = token.Description ?? "",
            Policies = policies,
            Roles = roles,
            ServiceIdentities = Normalized(token.ServiceIdentities),
            NodeIdentities = token.NodeIdentities.IsDefault ? [] : token.NodeIdentities,
        };
        if (SameToken(existing.Token, candidate)) return Redacted(existing.Token);
        var next = _current.With(_current.Index + 1);
        candidate = candidate with { ModifyIndex = next.Index };
        next.Tokens = next.Tokens.SetItem(accessor, existing with { Token = candidate });
        await PersistAsync(next, [TokenKey(accessor)], cancellationToken);
        LogChanged(logger, "token", accessor, next.Index);
        return Redacted(candidate);
    }

    /// <inheritdoc />
    public Task<AclTokenDto> GetTokenAsync(string accessorId, CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        if (accessorId is null || !_current.Tokens.TryGetValue(accessorId, out var stored))
            throw new MeridianNotFoundException($"ACL token not found: {ValidationText.Quote(accessorId ?? "")}");
        return Task.FromResult(Redacted(stored.Token));
    }

    /// <inheritdoc />
    public Task<AclTokenDto> GetSelfAsync(CancellationToken cancellationToken = default)
    {
        var hasher = settings.RequireEnabled();
        var token = TokenOf(hasher, CallerToken.Current);
        if (token is null || token.Token.ExpirationTime is { } expires && expires < clock.GetUtcNow()) throw new MeridianPermissionDeniedException("ACL not found");
        return Task.FromResult(Redacted(token.Token));
    }

    /// <inheritdoc />
    public async Task<ulong> DeleteTokenAsync(string accessorId, CancellationToken cancellationToken = default)
    {
        var hasher = settings.RequireEnabled();
        _current.Tokens.TryGetValue(accessorId ?? "", out var existing);
        if (!datacenter.IsPrimary && existing?.Token.Local != true)
            return await (await PrimaryAsync(cancellationToken)).DeleteTokenAsync(accessorId!, cancellationToken);
        if (existing is null) return _current.Index;
        if (existing.Token.AccessorID == AclBuiltins.AnonymousTokenAccessorId)
            throw new DomainValidationException("AccessorID", ValidationCodes.Reserved, "Delete operation not permitted on the anonymous token");
        if (CallerToken.Current is { Length: > 0 } own && hasher.Verify(own, existing.SecretHash))
            throw new DomainValidationException("AccessorID", ValidationCodes.Forbidden, "Deletion of the request's authorization token is not permitted");
        var next = _current.With(_current.Index + 1);
        next.Tokens = next.Tokens.Remove(existing.Token.AccessorID);
        await PersistAsync(next, [TokenKey(existing.Token.AccessorID)], cancellationToken);
        LogDeleted(logger, "token", existing.Token.AccessorID, next.Index);
        return next.Index;
    }

    /// <inheritdoc />
    public Task<ImmutableArray<AclTokenDto>> ListTokensAsync(CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        return Task.FromResult<ImmutableArray<AclTokenDto>>([.. _current.Tokens.Values.Select(t => t.Token)
            .OrderBy(t => t.CreateIndex).ThenBy(t => t.AccessorID, StringComparer.Ordinal).Select(Redacted)]);
    }

    /// <inheritdoc />
    public Task<AclLookupDto> LookupAsync(string? secretHash, CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        var current = _current;
        AclTokenDto? token;
        if (secretHash is null)
        {
            // A secondary holds no anonymous token until ACL replication brings the primary's: until then it is the
            // anonymous token without policies (the default policy decides), as Consul's is before anyone edits it.
            token = current.Tokens.TryGetValue(AclBuiltins.AnonymousTokenAccessorId, out var anonymous) ? anonymous.Token
                : new AclTokenDto { AccessorID = AclBuiltins.AnonymousTokenAccessorId, Description = AclBuiltins.AnonymousTokenDescription };
        }
        else
        {
            token = _accessorByHash.TryGetValue(secretHash, out var accessor) ? current.Tokens[accessor].Token : null;
        }
        if (token is null) return Task.FromResult(new AclLookupDto { Index = current.Index, Bootstrapped = IsBootstrapped(current) });
        var roles = token.Roles.Select(r => current.Roles.GetValueOrDefault(r.ID)).OfType<AclRoleDto>().ToList();
        var policyIds = token.Policies.Select(p => p.ID).Concat(roles.SelectMany(r => r.Policies.Select(p => p.ID))).Distinct(StringComparer.Ordinal);
        var policies = policyIds.Select(id => current.Policies.GetValueOrDefault(id) ?? Builtin(id)).OfType<AclPolicyDto>();
        return Task.FromResult(new AclLookupDto
        {
            Index = current.Index, Token = Redacted(token), Policies = [.. policies], Roles = [.. roles], Bootstrapped = IsBootstrapped(current),
        });
    }

    /// <inheritdoc />
    public async Task<ulong> WaitForIndexAsync(ulong afterIndex, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        if (_current.Index <= afterIndex) await _changed.WaitAsync(ChangeSignal.Clamp(maxWait), clock, cancellationToken);
        return _current.Index;
    }

    /// <inheritdoc />
    public async Task<AclChangesDto> WaitForChangesAsync(ulong afterIndex, string afterEpoch, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        settings.RequireEnabled();
        var after = new Core.Federation.ReplicationPosition(afterIndex, afterEpoch ?? "");
        if (_feed.IsUpToDate(after)) await _changed.WaitAsync(ChangeSignal.Clamp(maxWait), clock, cancellationToken);
        var current = _current;
        var since = _feed.Since(after);
        if (since.IsSnapshot)
            return new AclChangesDto
            {
                Index = current.Index, Epoch = current.Epoch, IsSnapshot = true,
                Policies = [.. current.Policies.Values], Roles = [.. current.Roles.Values],
                Tokens = [.. current.Tokens.Values.Where(t => !t.Token.Local)],
            };
        List<AclPolicyDto> policies = [];
        List<AclRoleDto> roles = [];
        List<AclStoredTokenDto> tokens = [];
        List<string> deleted = [];
        foreach (var key in since.Keys)
        {
            var (kind, id) = SplitKey(key);
            switch (kind)
            {
                case "policy" when current.Policies.TryGetValue(id, out var p): policies.Add(p); break;
                case "role" when current.Roles.TryGetValue(id, out var r): roles.Add(r); break;
                case "token" when current.Tokens.TryGetValue(id, out var t):
                    if (!t.Token.Local) tokens.Add(t); // a local token of the primary stays there
                    break;
                default: deleted.Add(key); break;
            }
        }
        return new AclChangesDto
        {
            Index = current.Index, Epoch = current.Epoch, Policies = [.. policies], Roles = [.. roles], Tokens = [.. tokens], DeletedKeys = [.. deleted],
        };
    }

    /// <inheritdoc />
    public Task<ReplicationProgressDto> GetReplicationProgressAsync(CancellationToken cancellationToken = default)
        => Task.FromResult(new ReplicationProgressDto { Index = _current.ReplicatedIndex, Epoch = _current.ReplicatedEpoch, Held = _current.Hold });

    /// <inheritdoc />
    public async Task<ReplicationApplyResultDto> ApplyReplicatedAsync(AclChangesDto changes, bool adoptPrimaryState, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        settings.RequireEnabled();
        if (datacenter.IsPrimary) throw new InvalidOperationException("the primary datacenter does not replicate ACLs from anyone");
        var current = _current;
        // As for intentions (ReplicatedRegistry): a delta raced past an apply from another epoch is refused, not merged.
        if (new Core.Federation.ReplicationPosition(current.ReplicatedIndex, current.ReplicatedEpoch)
                .CrossEpochDeltaProblem(new(changes.Index, changes.Epoch ?? ""), changes.IsSnapshot, datacenter.PrimaryDatacenter) is { } crossing)
            throw new InvalidOperationException(crossing);
        var next = current.With(current.Index + 1);
        var keys = new List<string>();
        if (changes.IsSnapshot)
        {
            next.Policies = Replace(current.Policies, changes.Policies, p => p.ID, SameStoredPolicy, PolicyKey, keys);
            next.Roles = Replace(current.Roles, changes.Roles, r => r.ID, SameStoredRole, RoleKey, keys);
            // NOTE: this datacenter's local tokens are not the primary's to delete: they are kept as they are, and an
            // incoming token never replaces one (an AccessorID collision would be a bug in the primary).
            var locals = current.Tokens.Where(t => t.Value.Token.Local).ToImmutableDictionary();
            var incoming = changes.Tokens.Where(t => !t.Token.Local && !locals.ContainsKey(t.Token.AccessorID)).ToList();
            var global = Replace(current.Tokens.RemoveRange(locals.Keys), incoming, t => t.Token.AccessorID, SameStoredToken, TokenKey, keys);
            next.Tokens = global.SetItems(locals);
        }
        else
        {
            foreach (var p in changes.Policies)
                if (!current.Policies.TryGetValue(p.ID, out var held) || !SameStoredPolicy(held, p)) { next.Policies = next.Policies.SetItem(p.ID, p); keys.Add(PolicyKey(p.ID)); }
            foreach (var r in changes.Roles)
                if (!current.Roles.TryGetValue(r.ID, out var held) || !SameStoredRole(held, r)) { next.Roles = next.Roles.SetItem(r.ID, r); keys.Add(RoleKey(r.ID)); }
            foreach (var t in changes.Tokens)
            {
                current.Tokens.TryGetValue(t.Token.AccessorID, out var held);
                if (t.Token.Local || held?.Token.Local == true || (held is not null && SameStoredToken(held, t))) continue;
                next.Tokens = next.Tokens.SetItem(t.Token.AccessorID, t);
                keys.Add(TokenKey(t.Token.AccessorID));
            }
            foreach (var key in changes.DeletedKeys)
            {
                var (kind, id) = SplitKey(key);
                var removed = false;
                if (kind == "policy" && next.Policies.ContainsKey(id)) (next.Policies, removed) = (next.Policies.Remove(id), true);
                else if (kind == "role" && next.Roles.ContainsKey(id)) (next.Roles, removed) = (next.Roles.Remove(id), true);
                else if (kind == "token" && next.Tokens.TryGetValue(id, out var t) && !t.Token.Local) (next.Tokens, removed) = (next.Tokens.Remove(id), true);
                if (removed) keys.Add(key);
            }
        }
        // NOTE: as for intentions, a round from a rebuilt, reset or emptied primary (or a first sync over global ACLs of
        // our own) is held, unchanged here, until the operator adopts it: Consul makes the secondary equal to whatever
        // the primary answers, so an empty primary's snapshot would delete every global token of every secondary. The
        // round counts global entries only: local tokens are never in it, held or adopted.
        var round = new Core.Federation.ReplicationRound(
            new(current.ReplicatedIndex, current.ReplicatedEpoch), new(changes.Index, changes.Epoch ?? ""), changes.IsSnapshot,
            current.Policies.Count + current.Roles.Count + current.Tokens.Values.Count(t => !t.Token.Local), Diff(current, next, keys));
        var holding = await _holds.HoldAsync(round, adoptPrimaryState, current.Hold, async (hold, ct) =>
        {
            var kept = current.With(current.Index);
            kept.Hold = hold;
            await PersistAsync(kept, [], ct);
        }, cancellationToken);
        if (holding is not null) return new ReplicationApplyResultDto { Held = holding };
        next.Hold = null;
        (next.ReplicatedIndex, next.ReplicatedEpoch) = (changes.Index, changes.Epoch ?? "");
        if (keys.Count == 0)
        {
            if ((current.ReplicatedIndex, current.ReplicatedEpoch) != (next.ReplicatedIndex, next.ReplicatedEpoch) || current.Hold is not null)
                await PersistAsync(next.With(current.Index), [], cancellationToken);
            return new ReplicationApplyResultDto();
        }
        await PersistAsync(next, keys, cancellationToken);
        LogReplicated(logger, datacenter.Datacenter, keys.Count, changes.Index, changes.IsSnapshot);
        return new ReplicationApplyResultDto { Changes = keys.Count };
    }

    // What applying would change here, by feed key: gone in next (delete), new in next (add), or other content.
    private static Core.Federation.ReplicationDiff Diff(AclStoreState current, AclStoreState next, List<string> keys)
    {
        List<string> deleted = [], added = [], changed = [];
        foreach (var key in keys)
        {
            var (before, after) = (DisplayName(current, key), DisplayName(next, key));
            if (after is null) { if (before is not null) deleted.Add(before); }
            else (before is null ? added : changed).Add(after);
        }
        return Core.Federation.ReplicationDiff.Of(deleted, added, changed);
    }

    // An entry as holds name it (policy and role names, a token's AccessorID: never a secret); null when not held.
    private static string? DisplayName(AclStoreState s, string key)
    {
        var (kind, id) = SplitKey(key);
        return kind switch
        {
            "policy" => s.Policies.TryGetValue(id, out var p) ? $"policy {p.Name}" : null,
            "role" => s.Roles.TryGetValue(id, out var r) ? $"role {r.Name}" : null,
            "token" => s.Tokens.TryGetValue(id, out var t) && !t.Token.Local ? $"token {id}" : null,
            _ => null,
        };
    }

    // The snapshot's entries replace the held ones; keys lists every entry added, changed or dropped.
    private static ImmutableDictionary<string, T> Replace<T>(ImmutableDictionary<string, T> held, IEnumerable<T> incoming,
        Func<T, string> idOf, Func<T, T, bool> same, Func<string, string> keyOf, List<string> keys)
    {
        var next = ImmutableDictionary.CreateBuilder<string, T>(StringComparer.Ordinal);
        foreach (var e in incoming)
        {
            next[idOf(e)] = e;
            if (!held.TryGetValue(idOf(e), out var h) || !same(h, e)) keys.Add(keyOf(idOf(e)));
        }
        foreach (var id in held.Keys)
            if (!next.ContainsKey(id)) keys.Add(keyOf(id));
        return next.ToImmutable();
    }

    private static bool SameStoredPolicy(AclPolicyDto a, AclPolicyDto b) => a.ModifyIndex == b.ModifyIndex && a.CreateIndex == b.CreateIndex && SamePolicy(a, b);

    private static bool SameStoredRole(AclRoleDto a, AclRoleDto b) => a.ModifyIndex == b.ModifyIndex && a.CreateIndex == b.CreateIndex && SameRole(a, b);

    private static bool SameStoredToken(AclStoredTokenDto a, AclStoredTokenDto b) =>
        a.SecretHash == b.SecretHash && a.Token.ModifyIndex == b.Token.ModifyIndex && a.Token.CreateIndex == b.Token.CreateIndex
        && a.Token.ExpirationTime == b.Token.ExpirationTime && SameToken(a.Token, b.Token);

    private static (string Kind, string Id) SplitKey(string key)
    {
        var slash = key.IndexOf('/');
        return slash < 0 ? ("", key) : (key[..slash], key[(slash + 1)..]);
    }

    // Durable first, then visible: memory, the hash index, the feed and the waiters.
    private async Task PersistAsync(AclStoreState next, IReadOnlyCollection<string> keys, CancellationToken ct)
    {
        var previous = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync(ct);
        }
        catch
        {
            state.State = previous;
            throw;
        }
        _current = next;
        Reindex();
        if (keys.Count > 0)
        {
            _feed?.Record(next.Index, keys);
            _changed.Notify();
        }
    }

    private void Reindex()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (accessor, stored) in _current.Tokens) map[stored.SecretHash] = accessor;
        _accessorByHash = map;
    }

    private AclStoredTokenDto? TokenOf(AclSecretHasher hasher, string? secret)
    {
        if (string.IsNullOrEmpty(secret)) return _current.Tokens.GetValueOrDefault(AclBuiltins.AnonymousTokenAccessorId);
        return _accessorByHash.TryGetValue(hasher.Hash(secret), out var accessor) ? _current.Tokens[accessor] : null;
    }

    // A secondary cannot tell (bootstrap happens in the primary): it never claims the system is not bootstrapped.
    private bool IsBootstrapped(AclStoreState s) => !datacenter.IsPrimary || s.BootstrapIndex != 0;

    private (ImmutableArray<AclLinkDto> Policies, ImmutableArray<AclLinkDto> Roles) ResolveTokenLinks(AclTokenDto token, List<ValidationProblem> problems)
    {
        var policies = ResolveLinks(Links(token.Policies), "Policies", "policy", _current.Policies.Values, p => p.ID, p => p.Name, problems);
        var roles = ResolveLinks(Links(token.Roles), "Roles", "role", _current.Roles.Values, r => r.ID, r => r.Name, problems);
        return (policies, roles);
    }

    private static ImmutableArray<AclLink> Links(ImmutableArray<AclLinkDto> links) => links.IsDefaultOrEmpty ? [] : [.. links.Select(l => l.ToCore())];

    // Links name an ID or a name; both resolve to the stored entry's ID and current name (Consul's
    // "No such ACL policy with ID|name"). Duplicates collapse to one link.
    private static ImmutableArray<AclLinkDto> ResolveLinks<T>(ImmutableArray<AclLink> links, string field, string what,
        IEnumerable<T> entries, Func<T, string> idOf, Func<T, string> nameOf, List<ValidationProblem> problems) where T : class
    {
        var list = entries.ToList();
        var resolved = new List<AclLinkDto>();
        for (var i = 0; i < links.Length; i++)
        {
            var link = links[i];
            if (string.IsNullOrEmpty(link.ID) && string.IsNullOrEmpty(link.Name)) continue; // reported by AclValidation
            var found = Find(list, idOf, nameOf, link.ID, link.Name);
            if (found is null)
            {
                var by = string.IsNullOrEmpty(link.ID) ? $"name {ValidationText.Quote(link.Name)}" : $"ID {ValidationText.Quote(link.ID)}";
                problems.Add(new($"{field}[{i}]", ValidationCodes.InvalidValue, $"No such ACL {what} with {by}"));
                continue;
            }
            if (resolved.All(r => r.ID != idOf(found))) resolved.Add(new(idOf(found), nameOf(found)));
        }
        return [.. resolved];
    }

    private static T? Find<T>(IEnumerable<T> entries, Func<T, string> idOf, Func<T, string> nameOf, string? id, string? name) where T : class =>
        !string.IsNullOrEmpty(id) ? entries.FirstOrDefault(e => idOf(e) == id)
        : !string.IsNullOrEmpty(name) ? entries.FirstOrDefault(e => nameOf(e) == name)
        : null;

    private static T? Existing<T>(ImmutableDictionary<string, T> entries, string? id, string what) where T : class
    {
        if (string.IsNullOrEmpty(id)) return null;
        return entries.TryGetValue(id, out var found) ? found
            : throw new MeridianNotFoundException($"Cannot find {what} {ValidationText.Quote(id)}");
    }

    // Link names as they are now (a policy or role renamed since the link was written), dangling links dropped: they
    // grant nothing (Consul skips them on resolution and on reads).
    private AclTokenDto Redacted(AclTokenDto token) => token with
    {
        SecretID = AclTokenDto.HiddenSecret,
        Policies = [.. token.Policies.Select(l => _current.Policies.GetValueOrDefault(l.ID) is { } p ? new AclLinkDto(p.ID, p.Name) : Builtin(l.ID) is { } b ? new AclLinkDto(b.ID, b.Name) : null).OfType<AclLinkDto>()],
        Roles = [.. token.Roles.Select(l => _current.Roles.GetValueOrDefault(l.ID) is { } r ? new AclLinkDto(r.ID, r.Name) : null).OfType<AclLinkDto>()],
    };

    private AclRoleDto WithCurrentNames(AclRoleDto role) => role with
    {
        Policies = [.. role.Policies.Select(l => _current.Policies.GetValueOrDefault(l.ID) is { } p ? new AclLinkDto(p.ID, p.Name) : null).OfType<AclLinkDto>()],
    };

    private static AclPolicyDto? Builtin(string id) => AclBuiltins.Policies.FirstOrDefault(p => p.ID == id)?.ToDto();

    private AclTokenDto ManagementToken(string description, ulong index) => new()
    {
        AccessorID = NewId(),
        Description = description,
        Policies = [new AclLinkDto(AclBuiltins.GlobalManagementPolicyId, AclBuiltins.GlobalManagementPolicyName)],
        CreateTime = clock.GetUtcNow(),
        CreateIndex = index,
        ModifyIndex = index,
    };

    private static ImmutableArray<AclServiceIdentityDto> Normalized(ImmutableArray<AclServiceIdentityDto> identities) =>
        identities.IsDefaultOrEmpty ? [] : [.. identities.Select(s => s with { Datacenters = s.Datacenters.IsDefault ? [] : s.Datacenters })];

    private static bool SamePolicy(AclPolicyDto a, AclPolicyDto b) =>
        a.Name == b.Name && a.Description == b.Description && a.Rules == b.Rules && a.Datacenters.SequenceEqual(b.Datacenters);

    private static bool SameRole(AclRoleDto a, AclRoleDto b) =>
        a.Name == b.Name && a.Description == b.Description && a.Policies.SequenceEqual(b.Policies)
        && Same(a.ServiceIdentities, b.ServiceIdentities) && a.NodeIdentities.SequenceEqual(b.NodeIdentities);

    private static bool SameToken(AclTokenDto a, AclTokenDto b) =>
        a.Description == b.Description && a.Policies.SequenceEqual(b.Policies) && a.Roles.SequenceEqual(b.Roles)
        && Same(a.ServiceIdentities, b.ServiceIdentities) && a.NodeIdentities.SequenceEqual(b.NodeIdentities);

    // Records compare ImmutableArray members by reference: compare the identities' datacenters by content.
    private static bool Same(ImmutableArray<AclServiceIdentityDto> a, ImmutableArray<AclServiceIdentityDto> b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.First.ServiceName == p.Second.ServiceName && p.First.Datacenters.SequenceEqual(p.Second.Datacenters));

    private static string Describe(string? id, string? name) => ValidationText.Quote(!string.IsNullOrEmpty(id) ? id : name ?? "");

    private static string NewId() => Guid.NewGuid().ToString("D");

    private static string NewSecret() => Guid.NewGuid().ToString("D");

    private static string PolicyKey(string id) => "policy/" + id;

    private static string RoleKey(string id) => "role/" + id;

    private static string TokenKey(string accessor) => "token/" + accessor;

    private async Task<IAclStoreGrain> PrimaryAsync(CancellationToken ct)
    {
        var primary = await link.GetPrimaryAsync(TimeSpan.FromSeconds(10), ct);
        return primary.GetGrain<IAclStoreGrain>(datacenter.PrimaryDatacenter);
    }

    [LoggerMessage(EventId = MeridianEventIds.AclBootstrapped, Level = LogLevel.Information,
        Message = "ACL bootstrap in {Datacenter}: management token {AccessorId} created at index {Index}")]
    private static partial void LogBootstrapped(ILogger logger, string datacenter, string accessorId, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.AclInitialManagementCreated, Level = LogLevel.Information,
        Message = "Created the initial management token {AccessorId} in {Datacenter} at index {Index}")]
    private static partial void LogInitialManagementCreated(ILogger logger, string datacenter, string accessorId, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.AclEntryWritten, Level = LogLevel.Information,
        Message = "ACL {Kind} {Id} written at index {Index}")]
    private static partial void LogChanged(ILogger logger, string kind, string id, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.AclEntryDeleted, Level = LogLevel.Information,
        Message = "ACL {Kind} {Id} deleted at index {Index}")]
    private static partial void LogDeleted(ILogger logger, string kind, string id, ulong index);

    [LoggerMessage(EventId = MeridianEventIds.AclReplicated, Level = LogLevel.Debug,
        Message = "Replicated ACLs into {Datacenter}: {Changes} policies, roles and tokens changed, primary index {PrimaryIndex} (snapshot: {IsSnapshot})")]
    private static partial void LogReplicated(ILogger logger, string datacenter, int changes, ulong primaryIndex, bool isSnapshot);

    [LoggerMessage(EventId = MeridianEventIds.AclBootstrapResetUnreadable, Level = LogLevel.Warning,
        Message = "ACL bootstrap reset file {Path} could not be read: {Reason}")]
    private static partial void LogResetFileUnreadable(ILogger logger, string path, string reason);
}
