using Meridian.Core.Acl;

namespace Meridian.Grains.Acl;

/// <summary>
/// Consul's <c>acl.down_policy</c>: what a silo does when the ACL store cannot answer a token lookup
/// (https://developer.hashicorp.com/consul/docs/agent/config/config-files#acl_down_policy).
/// </summary>
public enum AclDownPolicy
{
    /// <summary>Keep using cached resolutions, even expired ones; a token never seen falls back to the default policy (Consul's default).</summary>
    ExtendCache,

    /// <summary>As <see cref="ExtendCache"/>, but an expired cached resolution is answered at once and refreshed in the background.</summary>
    AsyncCache,

    /// <summary>Every call is refused.</summary>
    Deny,

    /// <summary>Every call is allowed.</summary>
    Allow,
}

/// <summary>
/// The ACL options of a silo (<c>Meridian:Acl</c>), read and checked by the host. Holds secrets (the initial
/// management and replication tokens, the hashing key): <see cref="ToString"/> shows none of them.
/// </summary>
public sealed class AclSettings
{
    /// <summary>Consul's <c>acl.token_ttl</c> default.</summary>
    public static readonly TimeSpan DefaultTokenTtl = TimeSpan.FromSeconds(30);

    /// <summary>ACLs off: nothing is enforced and the ACL store answers <c>ACL support disabled</c>.</summary>
    public static AclSettings Disabled { get; } = new();

    /// <summary><c>Meridian:Acl:Enabled</c>.</summary>
    public bool Enabled { get; init; }

    /// <summary><c>Meridian:Acl:DefaultPolicy</c>: what a token without a matching rule gets. Default: allow (Consul's).</summary>
    public AclDefaultPolicy DefaultPolicy { get; init; } = AclDefaultPolicy.Allow;

    /// <summary><c>Meridian:Acl:DownPolicy</c>. Default: extend-cache.</summary>
    public AclDownPolicy DownPolicy { get; init; } = AclDownPolicy.ExtendCache;

    /// <summary><c>Meridian:Acl:TokenTtl</c>: how long a silo reuses a resolved token without asking the store. Default: 30 s.</summary>
    public TimeSpan TokenTtl { get; init; } = DefaultTokenTtl;

    /// <summary>The keyed hash of SecretIDs (from <c>Meridian:Acl:SecretHashKeyFile</c>); required when enabled.</summary>
    public AclSecretHasher? Hasher { get; init; }

    /// <summary><c>Meridian:Acl:Tokens:InitialManagement</c>: a management token the primary creates if absent (a secret).</summary>
    public string? InitialManagementToken { get; init; }

    /// <summary><c>Meridian:Acl:Tokens:Replication</c>: the token a secondary sends to the primary (a secret).</summary>
    public string? ReplicationToken { get; init; }

    /// <summary>
    /// <c>Meridian:Acl:BootstrapResetFile</c>: the file whose content (the reset index) allows one more bootstrap, as
    /// Consul's <c>&lt;data_dir&gt;/acl-bootstrap-reset</c>. Null: bootstrap cannot be reset.
    /// </summary>
    public string? BootstrapResetFile { get; init; }

    /// <summary>The hasher, or the error every ACL call gets when ACLs are off.</summary>
    public AclSecretHasher RequireEnabled() =>
        Enabled && Hasher is { } hasher ? hasher : throw new MeridianPermissionDeniedException("ACL support disabled");

    /// <inheritdoc />
    public override string ToString() =>
        $"AclSettings {{ Enabled = {Enabled}, DefaultPolicy = {DefaultPolicy}, DownPolicy = {DownPolicy}, TokenTtl = {TokenTtl} }}";
}
