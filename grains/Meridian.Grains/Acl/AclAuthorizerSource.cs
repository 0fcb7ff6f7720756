using System.Collections.Concurrent;
using Meridian.Core.Acl;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Acl;

/// <summary>
/// This silo's token resolver: SecretID → keyed hash → the datacenter's <see cref="IAclStoreGrain"/> → Core's
/// <see cref="AclTokenResolver"/> → <see cref="AclCaller"/>. Resolutions are cached per silo for
/// <see cref="AclSettings.TokenTtl"/> (Consul's <c>token_ttl</c>) and dropped as soon as the store index moves
/// (<see cref="AclCacheSync"/> long-polls it), so a changed token, role or policy takes effect within one round trip
/// rather than after the TTL as in Consul. When the store cannot answer, <see cref="AclSettings.DownPolicy"/> decides.
/// Secrets are hashed before anything else and never logged or kept.
/// </summary>
public sealed partial class AclAuthorizerSource : IAclAuthorizerSource
{
    // Bounds memory against callers sending many random secrets (each unknown one is cached as "not found").
    private const int MaxCachedTokens = 10_000;
    private const int MaxCachedRules = 10_000;
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(30);

    private readonly AclSettings _settings;
    private readonly string _datacenter;
    private readonly Func<string?, CancellationToken, Task<AclLookupDto>> _lookup;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Id, ulong ModifyIndex), AclPolicyRules> _rules = new();
    private readonly ConcurrentDictionary<string, byte> _refreshing = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private ulong _index;
    private TaskCompletionSource _indexMoved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastWarningTicks = long.MinValue;

    /// <summary>The resolver of this silo, asking the datacenter's ACL store grain.</summary>
    public AclAuthorizerSource(AclSettings settings, DatacenterContext datacenter, IGrainFactory grains, TimeProvider clock, ILogger<AclAuthorizerSource> logger,
        Diagnostics.MeridianInstruments instruments)
        : this(settings, datacenter.Datacenter, (hash, ct) => grains.GetGrain<IAclStoreGrain>(datacenter.Datacenter).LookupAsync(hash, ct), clock, logger, instruments)
    {
    }

    /// <summary>A resolver over any lookup (tests make the store slow, absent or failing).</summary>
    internal AclAuthorizerSource(AclSettings settings, string datacenter, Func<string?, CancellationToken, Task<AclLookupDto>> lookup, TimeProvider clock, ILogger logger,
        Diagnostics.MeridianInstruments? instruments = null)
    {
        (_settings, _datacenter, _lookup, _clock, _logger, _instruments) = (settings, datacenter, lookup, clock, logger, instruments);
    }

    private readonly Diagnostics.MeridianInstruments? _instruments;

    /// <inheritdoc />
    public bool Enabled => _settings.Enabled;

    /// <summary>The store index this cache reflects (what <see cref="Invalidate"/> was last told).</summary>
    public ulong Index
    {
        get { lock (_gate) return _index; }
    }

    /// <summary>Number of lookups that went to the store (cache misses and refreshes); for tests and benchmarks.</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    private long _lookups;

    /// <inheritdoc />
    public async ValueTask<AclCaller> ResolveAsync(string? secretId, CancellationToken cancellationToken = default)
    {
        if (!_settings.Enabled) return new AclCaller(AclBuiltins.AnonymousTokenAccessorId, AclAuthorizer.DefaultOnly(AclDefaultPolicy.Allow));
        var hasher = _settings.Hasher ?? throw new InvalidOperationException("ACLs are enabled without a SecretID hashing key");
        // NOTE: cached by the secret itself, as Consul's resolver caches by SecretID: the HMAC is computed only on a miss,
        // so a warm resolution is one dictionary lookup on the path of every call (the secret is in this process's
        // memory with every request anyway; it is never logged or returned).
        var key = string.IsNullOrEmpty(secretId) ? "" : secretId;
        string? Hash() => key.Length == 0 ? null : hasher.Hash(key);
        var now = _clock.GetUtcNow();
        _tokens.TryGetValue(key, out var cached);
        if (cached is not null && now < cached.FetchedAt + _settings.TokenTtl)
        {
            _instruments?.OnAclTokenResolved(_datacenter, hit: true);
            return Answer(key, cached, now);
        }
        if (cached is not null && _settings.DownPolicy == AclDownPolicy.AsyncCache)
        {
            _instruments?.OnAclTokenResolved(_datacenter, hit: true);
            // Consul's async-cache: answer from the expired entry now, refresh in the background.
            if (_refreshing.TryAdd(key, 0)) _ = RefreshInBackgroundAsync(Hash(), key);
            return Answer(key, cached, now);
        }

        _instruments?.OnAclTokenResolved(_datacenter, hit: false);
        AclLookupDto found;
        try
        {
            found = await LookupAsync(Hash(), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return WhenDown(key, cached, now, e);
        }
        // Only the store's silence is "down": a stored policy that no longer parses throws here (Core's resolver refuses
        // to drop its deny rules), it does not fall back to the down policy.
        return Answer(key, Remember(key, found), now);
    }

    /// <summary>
    /// The store moved to <paramref name="storeIndex"/>: every resolution made from an older state is dropped (a
    /// token, role or policy may have changed). Called by <see cref="AclCacheSync"/>.
    /// </summary>
    public void Invalidate(ulong storeIndex)
    {
        TaskCompletionSource moved;
        lock (_gate)
        {
            if (storeIndex == _index && storeIndex != 0) return;
            // NOTE: the stale entries go under the lock, before the new index is visible: WaitForIndexAsync reads the
            // index under it, so a caller it releases never finds a resolution older than that index (dropping them
            // after publishing let a test resolve the old rules in between). Rare (one store change) and at most
            // MaxCachedTokens entries.
            // A store rebuilt on a wiped database counts from 0 again: nothing cached from the old one may stay.
            if (storeIndex < _index) _tokens.Clear();
            foreach (var (key, entry) in _tokens)
                if (entry.Index < storeIndex) _tokens.TryRemove(new KeyValuePair<string, Entry>(key, entry));
            _index = storeIndex;
            moved = _indexMoved;
            _indexMoved = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        LogInvalidated(_logger, _datacenter, storeIndex);
        moved.TrySetResult();
    }

    /// <summary>Waits until <see cref="Index"/> reaches <paramref name="storeIndex"/> (false after <paramref name="timeout"/>).</summary>
    public async Task<bool> WaitForIndexAsync(ulong storeIndex, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task moved;
            lock (_gate)
            {
                if (_index >= storeIndex) return true;
                moved = _indexMoved.Task;
            }
            try { await moved.WaitAsync(cts.Token); }
            catch (OperationCanceledException) { return false; }
        }
    }

    private async Task<AclLookupDto> LookupAsync(string? hash, CancellationToken ct)
    {
        Interlocked.Increment(ref _lookups);
        // The store call carries no caller token: the lookup is this silo's own, and the secret must not ride along.
        using (CallerToken.Use(null))
        {
            return await _lookup(hash, ct);
        }
    }

    private Entry Remember(string key, AclLookupDto found)
    {
        var entry = ToEntry(found);
        if (_tokens.Count >= MaxCachedTokens) _tokens.Clear();
        // A lookup that raced with a change must not put the older state back after Invalidate dropped it.
        lock (_gate)
        {
            if (found.Index >= _index) _tokens[key] = entry;
        }
        return entry;
    }

    private async Task RefreshInBackgroundAsync(string? hash, string key)
    {
        try
        {
            Remember(key, await LookupAsync(hash, CancellationToken.None));
        }
        catch (Exception e)
        {
            WarnDown(e);
        }
        finally
        {
            _refreshing.TryRemove(key, out _);
        }
    }

    private Entry ToEntry(AclLookupDto found)
    {
        var now = _clock.GetUtcNow();
        if (found.Token is not { } dto) return new Entry(null, found.Index, now, null, found.Bootstrapped);
        var policies = found.Policies.ToDictionary(p => p.ID, p => p.ToCore(), StringComparer.Ordinal);
        var roles = found.Roles.ToDictionary(r => r.ID, r => r.ToCore(), StringComparer.Ordinal);
        var token = dto.ToCore(secretHash: "");
        // Resolved as of the lookup; expiry is checked again on every answer (Answer), so a TTL never outlives it.
        var authorizer = AclTokenResolver.Resolve(token, policies.GetValueOrDefault, roles.GetValueOrDefault, _datacenter,
            _settings.DefaultPolicy, now, ParsedRules);
        return new Entry(authorizer is null ? null : new AclCaller(dto.AccessorID, authorizer), found.Index, now, dto.ExpirationTime, found.Bootstrapped);
    }

    // Parsed once per policy version: the store bumps ModifyIndex on every change of a policy.
    private AclPolicyRules ParsedRules(AclPolicy policy)
    {
        if (_rules.TryGetValue((policy.ID, policy.ModifyIndex), out var rules)) return rules;
        if (_rules.Count >= MaxCachedRules) _rules.Clear();
        rules = AclRulesParser.ParseOrThrow(policy.Rules);
        _rules[(policy.ID, policy.ModifyIndex)] = rules;
        return rules;
    }

    private AclCaller Answer(string key, Entry entry, DateTimeOffset now)
    {
        if (entry.Caller is { } caller && !(entry.ExpirationTime is { } expires && expires < now)) return caller;
        if (entry.Caller is not null) _tokens.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        throw new MeridianPermissionDeniedException(entry.Bootstrapped
            ? "ACL not found"
            : "ACL system must be bootstrapped before making any requests that require authorization: ACL not found");
    }

    // Consul's down_policy (agent/consul/acl.go resolveTokenToIdentityAndPolicies): the store did not answer.
    private AclCaller WhenDown(string key, Entry? cached, DateTimeOffset now, Exception error)
    {
        WarnDown(error);
        const string Unknown = "unknown (ACL store unreachable)";
        return _settings.DownPolicy switch
        {
            AclDownPolicy.Allow => new AclCaller(cached?.Caller?.AccessorId ?? Unknown, AclAuthorizer.DefaultOnly(AclDefaultPolicy.Allow)),
            AclDownPolicy.Deny => new AclCaller(cached?.Caller?.AccessorId ?? Unknown, AclAuthorizer.DefaultOnly(AclDefaultPolicy.Deny)),
            // extend-cache and async-cache: the last resolution however old; a token never seen gets the default policy.
            _ when cached is not null => Answer(key, cached, now),
            _ => new AclCaller(Unknown, AclAuthorizer.DefaultOnly(_settings.DefaultPolicy)),
        };
    }

    private void WarnDown(Exception error)
    {
        var now = _clock.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastWarningTicks);
        if (last != long.MinValue && now - last < WarningInterval.Ticks) return;
        Interlocked.Exchange(ref _lastWarningTicks, now);
        LogStoreUnreachable(_logger, _datacenter, _settings.DownPolicy, error.GetType().Name, error.Message);
    }

    private sealed record Entry(AclCaller? Caller, ulong Index, DateTimeOffset FetchedAt, DateTimeOffset? ExpirationTime, bool Bootstrapped);

    [LoggerMessage(EventId = MeridianEventIds.AclStoreUnreachable, Level = LogLevel.Warning,
        Message = "ACL store of {Datacenter} did not answer a token lookup; applying down policy {DownPolicy} ({Error}: {Reason})")]
    private static partial void LogStoreUnreachable(ILogger logger, string datacenter, AclDownPolicy downPolicy, string error, string reason);

    [LoggerMessage(EventId = MeridianEventIds.AclCacheInvalidated, Level = LogLevel.Debug,
        Message = "ACL token cache of {Datacenter} dropped resolutions older than store index {Index}")]
    private static partial void LogInvalidated(ILogger logger, string datacenter, ulong index);
}
