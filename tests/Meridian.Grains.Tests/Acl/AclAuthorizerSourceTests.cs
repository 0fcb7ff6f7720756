using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Meridian.Grains.Tests.Acl;

/// <summary>The per-silo resolver over a scripted store: caching, invalidation, expiry, down policies, logs.</summary>
[Trait("Category", "Unit")]
public sealed class AclAuthorizerSourceTests
{
    private const string Dc = "dc1";
    private static readonly AclSecretHasher Hasher = new(AclClusterFixture.HashKey);

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 6, 0, 0, 0, TimeSpan.Zero));
    private readonly Store _store = new();
    private readonly AllLogs _logs = new();

    private static readonly AclPolicyDto WebWrite = new()
    {
        ID = Guid.NewGuid().ToString("D"), Name = "web-write", Rules = "service \"web\" { policy = \"write\" }", ModifyIndex = 3,
    };

    private AclAuthorizerSource Source(AclDownPolicy down = AclDownPolicy.ExtendCache, TimeSpan? ttl = null) => new(
        new AclSettings { Enabled = true, DefaultPolicy = AclDefaultPolicy.Deny, DownPolicy = down, TokenTtl = ttl ?? TimeSpan.FromSeconds(30), Hasher = Hasher },
        Dc, _store.LookupAsync, _clock, _logs.CreateLogger("Meridian.Grains.Acl.AclAuthorizerSource"));

    private string AddToken(DateTimeOffset? expires = null)
    {
        var secret = Guid.NewGuid().ToString("D");
        _store.Tokens[Hasher.Hash(secret)] = new AclTokenDto
        {
            AccessorID = Guid.NewGuid().ToString("D"), Policies = [new(WebWrite.ID, WebWrite.Name)], ExpirationTime = expires,
        };
        return secret;
    }

    [Fact]
    public async Task Resolve_ColdThenWarm_OneLookupWithinTtl_AnotherAfter()
    {
        var source = Source();
        var secret = AddToken();

        var cold = await source.ResolveAsync(secret);
        Assert.True(cold.Authorizer.ServiceWrite("web").Allowed);
        Assert.False(cold.Authorizer.ServiceWrite("db").Allowed); // default deny
        Assert.Equal(_store.Tokens[Hasher.Hash(secret)].AccessorID, cold.AccessorId);
        Assert.Equal(1, source.Lookups);

        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Same(cold, await source.ResolveAsync(secret));
        Assert.Equal(1, source.Lookups);

        _clock.Advance(TimeSpan.FromSeconds(2));
        await source.ResolveAsync(secret);
        Assert.Equal(2, source.Lookups);
        Assert.Equal([Hasher.Hash(secret), Hasher.Hash(secret)], _store.Asked);
    }

    [Fact]
    public async Task Invalidate_NewerStoreIndex_DropsTheCachedResolution()
    {
        var source = Source();
        var secret = AddToken();
        Assert.True((await source.ResolveAsync(secret)).Authorizer.ServiceWrite("web").Allowed);

        _store.Policies[WebWrite.ID] = WebWrite with { Rules = "service \"web\" { policy = \"read\" }", ModifyIndex = 9 };
        _store.Index = 9;
        source.Invalidate(9);

        var after = await source.ResolveAsync(secret);
        Assert.False(after.Authorizer.ServiceWrite("web").Allowed);
        Assert.True(after.Authorizer.ServiceRead("web").Allowed);
        Assert.Equal(2, source.Lookups);
        Assert.True(await source.WaitForIndexAsync(9, TimeSpan.Zero));
    }

    [Fact]
    public async Task Resolve_TokenExpiresWhileCached_AclNotFound()
    {
        var source = Source(ttl: TimeSpan.FromHours(1));
        var secret = AddToken(expires: _clock.GetUtcNow().AddMinutes(1));
        await source.ResolveAsync(secret);

        _clock.Advance(TimeSpan.FromMinutes(2));
        var ex = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(async () => await source.ResolveAsync(secret));
        Assert.Equal("ACL not found", ex.Message);
    }

    [Fact]
    public async Task Resolve_NoSecret_IsTheAnonymousToken()
    {
        var caller = await Source().ResolveAsync(null);
        Assert.Equal(AclBuiltins.AnonymousTokenAccessorId, caller.AccessorId);
        Assert.False(caller.Authorizer.ServiceRead("web").Allowed);
        Assert.Equal([null], _store.Asked);
    }

    [Fact]
    public async Task Resolve_UnknownSecret_AclNotFound_AndTheMissIsCached()
    {
        var source = Source();
        var secret = Guid.NewGuid().ToString("D");
        var ex = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(async () => await source.ResolveAsync(secret));
        Assert.Equal("ACL not found", ex.Message);
        Assert.DoesNotContain(secret, ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<MeridianPermissionDeniedException>(async () => await source.ResolveAsync(secret));
        Assert.Equal(1, source.Lookups);
    }

    [Fact]
    public async Task StoreDown_ExtendCache_KeepsTheExpiredResolution_UnknownTokenGetsTheDefaultPolicy()
    {
        var source = Source(AclDownPolicy.ExtendCache);
        var secret = AddToken();
        var cached = await source.ResolveAsync(secret);
        _clock.Advance(TimeSpan.FromMinutes(5));
        _store.Down = true;

        Assert.Same(cached, await source.ResolveAsync(secret));
        var unknown = await source.ResolveAsync(Guid.NewGuid().ToString("D"));
        Assert.False(unknown.Authorizer.ServiceRead("web").Allowed); // default deny
    }

    [Theory]
    [InlineData(AclDownPolicy.Deny, false)]
    [InlineData(AclDownPolicy.Allow, true)]
    public async Task StoreDown_DenyOrAllow_AppliesToEveryCall(AclDownPolicy down, bool allowed)
    {
        var source = Source(down);
        var secret = AddToken();
        await source.ResolveAsync(secret);
        _clock.Advance(TimeSpan.FromMinutes(1));
        _store.Down = true;

        var caller = await source.ResolveAsync(secret);
        Assert.Equal(allowed, caller.Authorizer.ServiceWrite("web").Allowed);
        Assert.Equal(allowed, caller.Authorizer.OperatorWrite().Allowed);
    }

    [Fact]
    public async Task StoredRulesThatNoLongerParse_AreAnError_NotTheDownPolicy()
    {
        var source = Source(AclDownPolicy.Allow);
        var secret = AddToken();
        _store.Policies[WebWrite.ID] = WebWrite with { Rules = "service \"web\" { policy = \"wirte\" }" };
        await Assert.ThrowsAsync<Meridian.Core.Validation.DomainValidationException>(async () => await source.ResolveAsync(secret));
    }

    [Fact]
    public async Task AsyncCache_ExpiredEntry_AnsweredAtOnce_RefreshedInTheBackground()
    {
        var source = Source(AclDownPolicy.AsyncCache);
        var secret = AddToken();
        var first = await source.ResolveAsync(secret);
        _clock.Advance(TimeSpan.FromMinutes(1));
        _store.Hold = new TaskCompletionSource();

        Assert.Same(first, await source.ResolveAsync(secret)); // answered while the refresh waits on the store
        _store.Hold.SetResult();
        await _store.Served.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, source.Lookups);
    }

    [Fact]
    public async Task NothingLogged_ContainsASecret()
    {
        var source = Source(AclDownPolicy.ExtendCache);
        var secrets = new[] { AddToken(), Guid.NewGuid().ToString("D") };
        await source.ResolveAsync(secrets[0]);
        await Assert.ThrowsAsync<MeridianPermissionDeniedException>(async () => await source.ResolveAsync(secrets[1]));
        source.Invalidate(6); // both resolutions dropped: the next calls go to the store, which is down
        _store.Down = true;
        foreach (var secret in secrets) await source.ResolveAsync(secret);

        Assert.NotEmpty(_logs.Lines); // the down warning and the invalidation were logged
        Assert.DoesNotContain(_logs.Lines, line => secrets.Any(s => line.Contains(s, StringComparison.Ordinal)));
    }

    /// <summary>A scripted store: tokens by hash, policies by ID; <see cref="Down"/> fails every lookup.</summary>
    private sealed class Store
    {
        public Dictionary<string, AclTokenDto> Tokens { get; } = [];
        public Dictionary<string, AclPolicyDto> Policies { get; } = new() { [WebWrite.ID] = WebWrite };
        public List<string?> Asked { get; } = [];
        public ulong Index { get; set; } = 5;
        public bool Down { get; set; }
        public TaskCompletionSource? Hold { get; set; }
        public TaskCompletionSource Served { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<AclLookupDto> LookupAsync(string? hash, CancellationToken ct)
        {
            Asked.Add(hash);
            if (Hold is { } hold) await hold.Task;
            if (Down) throw new TimeoutException("the ACL store did not answer");
            var token = hash is null ? new AclTokenDto { AccessorID = AclBuiltins.AnonymousTokenAccessorId } : Tokens.GetValueOrDefault(hash);
            var answer = new AclLookupDto
            {
                Index = Index, Bootstrapped = true, Token = token,
                Policies = token is null ? [] : [.. token.Policies.Select(p => Policies[p.ID])],
            };
            if (Hold is not null) Served.TrySetResult();
            return answer;
        }
    }
}
