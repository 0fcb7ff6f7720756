using System.Security.Cryptography;
using Meridian.Core.Acl;
using Meridian.Grains.Acl;

namespace Meridian.Grains.Tests.Acl;

/// <summary>
/// An <see cref="IAclAuthorizerSource"/> over a fixed set of policies, roles and tokens: the real Core pieces
/// (<see cref="AclSecretHasher"/> hashes, <see cref="AclTokenResolver"/>), with no store behind them. Tokens are found by
/// the keyed hash of the secret, as a store finds them; the anonymous token (no secret) has the policies given for it.
/// </summary>
public sealed class StaticAclSource : IAclAuthorizerSource
{
    private readonly AclSecretHasher _hasher = new(RandomNumberGenerator.GetBytes(AclSecretHasher.MinimumKeyBytes));
    private readonly Dictionary<string, AclToken> _byHash = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AclPolicy> _policies;
    private readonly Dictionary<string, AclRole> _roles;
    private readonly AclToken _anonymous;
    private readonly string _datacenter;
    private readonly TimeProvider _clock;
    private int _resolutions;

    /// <summary>
    /// <paramref name="tokens"/>: each token with its SecretID (kept only as its hash); <paramref name="anonymous"/>: the
    /// token of callers without a secret (null: one with no policies).
    /// </summary>
    public StaticAclSource(IEnumerable<AclPolicy> policies, IEnumerable<AclRole> roles, IEnumerable<(string SecretId, AclToken Token)> tokens,
        AclToken? anonymous, AclDefaultPolicy defaultPolicy, string datacenter, TimeProvider clock)
    {
        _policies = policies.Concat(AclBuiltins.Policies).ToDictionary(p => p.ID);
        _roles = roles.ToDictionary(r => r.ID);
        foreach (var (secret, token) in tokens) _byHash.Add(_hasher.Hash(secret), token with { SecretHash = _hasher.Hash(secret) });
        _anonymous = anonymous ?? new AclToken { AccessorID = AclBuiltins.AnonymousTokenAccessorId, SecretHash = "", Description = "Anonymous Token" };
        (DefaultPolicy, _datacenter, _clock) = (defaultPolicy, datacenter, clock);
    }

    public bool Enabled => true;

    public AclDefaultPolicy DefaultPolicy { get; }

    /// <summary>How many times a token was resolved (the filter must not resolve for unchecked calls).</summary>
    public int Resolutions => Volatile.Read(ref _resolutions);

    public ValueTask<AclCaller> ResolveAsync(string? secretId, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _resolutions);
        var token = string.IsNullOrEmpty(secretId) ? _anonymous
            : _byHash.GetValueOrDefault(_hasher.Hash(secretId)) ?? throw new MeridianPermissionDeniedException("ACL not found");
        var authorizer = AclTokenResolver.Resolve(token, id => _policies.GetValueOrDefault(id), id => _roles.GetValueOrDefault(id),
            _datacenter, DefaultPolicy, _clock.GetUtcNow()) ?? throw new MeridianPermissionDeniedException("ACL not found");
        return ValueTask.FromResult(new AclCaller(token.AccessorID, authorizer));
    }
}
