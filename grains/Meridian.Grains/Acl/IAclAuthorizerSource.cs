using Meridian.Core.Acl;

namespace Meridian.Grains.Acl;

/// <summary>
/// What the caller of the current call may do: the seam between ACL enforcement (the incoming-call filter) and the
/// ACL store (tokens, policies and roles, replicated from the primary and cached per silo). One per silo.
/// </summary>
public interface IAclAuthorizerSource
{
    /// <summary><c>Meridian:Acl:Enabled</c>: when false nothing is enforced and <see cref="ResolveAsync"/> is not called.</summary>
    bool Enabled { get; }

    /// <summary>
    /// Resolves the SecretID the caller sent (<see cref="CallerToken.Current"/>; null or empty = the anonymous token)
    /// in this datacenter. Throws <see cref="MeridianPermissionDeniedException"/> with Consul's <c>ACL not found</c>
    /// when the secret matches no token or an expired one. The secret never appears in an error or a log.
    /// </summary>
    ValueTask<AclCaller> ResolveAsync(string? secretId, CancellationToken cancellationToken = default);
}

/// <summary>A resolved caller: the token's AccessorID (safe to log and to name in a refusal) and its authorizer.</summary>
public sealed record AclCaller(string AccessorId, AclAuthorizer Authorizer);
