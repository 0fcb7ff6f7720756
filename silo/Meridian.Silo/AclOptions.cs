using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Microsoft.Extensions.Configuration;

namespace Meridian.Silo;

/// <summary>
/// The ACL options of a silo (section <c>Meridian:Acl</c>), Consul's <c>acl</c> stanza
/// (https://developer.hashicorp.com/consul/docs/agent/config/config-files#acl-parameters):
/// <c>Enabled</c> (false), <c>DefaultPolicy</c> (allow | deny; allow), <c>DownPolicy</c> (extend-cache | async-cache |
/// deny | allow; extend-cache), <c>TokenTtl</c> (30 s), <c>Tokens:InitialManagement</c>, <c>Tokens:Replication</c>,
/// <c>SecretHashKeyFile</c> (required when enabled) and <c>BootstrapResetFile</c> (acl-bootstrap-reset).
/// </summary>
public static class AclOptions
{
    public const string SectionName = "Meridian:Acl";
    public const string KeyFileKey = $"{SectionName}:SecretHashKeyFile";

    /// <summary>Consul keeps the reset file in its data directory; ours is relative to the silo's working directory.</summary>
    public const string DefaultBootstrapResetFile = "acl-bootstrap-reset";

    /// <summary>Reads and checks the section; every problem names its key and never contains a secret.</summary>
    public static AclSettings Read(IConfiguration config, List<string> problems)
    {
        var section = config.GetSection(SectionName);
        var enabled = ConfigValues.Read(config, $"{SectionName}:Enabled", false, problems);
        var ttl = ConfigValues.Read(config, $"{SectionName}:TokenTtl", AclSettings.DefaultTokenTtl, problems);
        if (ttl <= TimeSpan.Zero) problems.Add($"{SectionName}:TokenTtl must be positive (Consul's token_ttl; default 00:00:30)");
        var defaultPolicy = section["DefaultPolicy"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "allow" => AclDefaultPolicy.Allow,
            "deny" => AclDefaultPolicy.Deny,
            var other => Problem(AclDefaultPolicy.Allow, $"{SectionName}:DefaultPolicy: Unsupported default ACL policy: {section["DefaultPolicy"]}; use allow or deny"),
        };
        var downPolicy = section["DownPolicy"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "extend-cache" => AclDownPolicy.ExtendCache,
            "async-cache" => AclDownPolicy.AsyncCache,
            "deny" => AclDownPolicy.Deny,
            "allow" => AclDownPolicy.Allow,
            _ => Problem(AclDownPolicy.ExtendCache, $"{SectionName}:DownPolicy: Unsupported down ACL policy: {section["DownPolicy"]}; use extend-cache, async-cache, deny or allow"),
        };
        var initial = section["Tokens:InitialManagement"];
        // Never echo the value: it is a management secret.
        if (!string.IsNullOrEmpty(initial) && (!Guid.TryParseExact(initial, "D", out _) || AclBuiltins.IsReservedId(initial)))
            problems.Add($"{SectionName}:Tokens:InitialManagement must be a UUID (e.g. from uuidgen) outside 00000000-0000-0000-0000-0000000000xx");
        var keyPath = section["SecretHashKeyFile"];
        AclSecretHasher? hasher = null;
        if (!string.IsNullOrWhiteSpace(keyPath)) hasher = ReadKey(keyPath, problems);
        else if (enabled)
            problems.Add($"{KeyFileKey} must be set when {SectionName}:Enabled is true: a file holding at least 32 random bytes in base64 that keys the hash " +
                "of stored token secrets (make one with `meridian keygen --out acl-hash.key`); every silo of every datacenter needs the same file, because tokens replicate");
        var reset = section["BootstrapResetFile"];
        return new AclSettings
        {
            Enabled = enabled,
            DefaultPolicy = defaultPolicy,
            DownPolicy = downPolicy,
            TokenTtl = ttl,
            Hasher = hasher,
            InitialManagementToken = string.IsNullOrEmpty(initial) ? null : initial,
            ReplicationToken = section["Tokens:Replication"] is { Length: > 0 } replication ? replication : null,
            BootstrapResetFile = string.IsNullOrWhiteSpace(reset) ? DefaultBootstrapResetFile : reset,
        };

        T Problem<T>(T fallback, string problem)
        {
            problems.Add(problem);
            return fallback;
        }
    }

    private static AclSecretHasher? ReadKey(string path, List<string> problems)
        => KeyFile.Read(KeyFileKey, path, AclSecretHasher.MinimumKeyBytes, exact: false, problems) is { } key ? new AclSecretHasher(key) : null;
}
