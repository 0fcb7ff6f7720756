namespace Meridian.Grains.Acl;

/// <summary>
/// The source while ACLs are off (<c>Meridian:Acl:Enabled</c> unset or false): nothing is enforced and nothing is
/// resolved. The default registration of <see cref="Hosting.MeridianGrainServices"/>; the ACL store replaces it.
/// </summary>
public sealed class AclsDisabled : IAclAuthorizerSource
{
    /// <inheritdoc />
    public bool Enabled => false;

    /// <inheritdoc />
    public ValueTask<AclCaller> ResolveAsync(string? secretId, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("ACLs are disabled (Meridian:Acl:Enabled): no token is resolved");
}
