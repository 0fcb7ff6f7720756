using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Meridian.Core.Certificates;
using Meridian.Core.Identity;
using Meridian.Core.Validation;

namespace Meridian.Core.Acl;

/// <summary>A token create or update as the caller wrote it (the only place a SecretID exists in clear).</summary>
public sealed record AclTokenRequest
{
    public string? AccessorID { get; init; }

    /// <summary>The bearer secret the caller chose, or null to have one generated. Never echoed in a message.</summary>
    public string? SecretID { get; init; }
    public string Description { get; init; } = "";
    public ImmutableArray<AclLink> Policies { get; init; } = [];
    public ImmutableArray<AclLink> Roles { get; init; } = [];
    public ImmutableArray<AclServiceIdentity> ServiceIdentities { get; init; } = [];
    public ImmutableArray<AclNodeIdentity> NodeIdentities { get; init; } = [];
    public bool Local { get; init; }
    public DateTimeOffset? ExpirationTime { get; init; }
    public TimeSpan? ExpirationTTL { get; init; }
}

/// <summary>
/// Validation of policies, roles and token requests with Consul's rules and texts where Consul has them
/// (<c>agent/consul/acl_endpoint.go</c>, https://developer.hashicorp.com/consul/api-docs/acl). Unlike Consul, every
/// problem is reported at once, each naming its field.
/// </summary>
public static partial class AclValidation
{
    /// <summary>Maximum policy name length.</summary>
    public const int PolicyNameMaxLength = 128;

    /// <summary>Maximum role name length.</summary>
    public const int RoleNameMaxLength = 256;

    /// <summary>Maximum service/node identity name length.</summary>
    public const int IdentityNameMaxLength = 256;

    /// <summary>Consul's default <c>acl.token_min_expiration_ttl</c>.</summary>
    public static readonly TimeSpan MinExpirationTtl = TimeSpan.FromMinutes(1);

    /// <summary>Consul's default <c>acl.token_max_expiration_ttl</c>.</summary>
    public static readonly TimeSpan MaxExpirationTtl = TimeSpan.FromHours(24);

    // acl_endpoint.go validPolicyName: one optional '/', so "team/web-read" is valid and "a/b/c" is not.
    [GeneratedRegex(@"^[A-Za-z0-9\-_]+/?[A-Za-z0-9\-_]*$")]
    private static partial Regex PolicyNameRegex();

    [GeneratedRegex(@"^[A-Za-z0-9\-_]+$")]
    private static partial Regex RoleNameRegex();

    // validServiceIdentityName / validNodeIdentityName: the names DNS and the catalog accept.
    [GeneratedRegex(@"^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$")]
    private static partial Regex IdentityNameRegex();

    /// <summary>Every problem with a policy about to be written (name, rules, datacenters, description).</summary>
    public static IReadOnlyList<ValidationProblem> ValidatePolicy(AclPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var problems = new List<ValidationProblem>();
        // Names with '/' first or "builtin/" are kept for the built-in policies (builtin/global-read-only).
        var reserved = policy.Name is { } n && (n.StartsWith('/') || n.StartsWith("builtin/", StringComparison.Ordinal));
        CheckName(problems, "Policy", policy.Name, PolicyNameMaxLength, PolicyNameRegex(), "alphanumeric characters, a single '/', '-' and '_'",
            reserved ? "Names cannot be prefixed with '/' or 'builtin/'" : null);
        AddIfAny(problems, ValidationText.Check("Description", policy.Description));
        problems.AddRange(AclRulesParser.Parse(policy.Rules).ToProblems("Rules"));
        CheckDatacenters(problems, "Datacenters", policy.Datacenters);
        return problems;
    }

    /// <summary>Every problem with a role about to be written.</summary>
    public static IReadOnlyList<ValidationProblem> ValidateRole(AclRole role)
    {
        ArgumentNullException.ThrowIfNull(role);
        var problems = new List<ValidationProblem>();
        CheckName(problems, "Role", role.Name, RoleNameMaxLength, RoleNameRegex(), "alphanumeric characters, '-' and '_'", reservedReason: null);
        AddIfAny(problems, ValidationText.Check("Description", role.Description));
        CheckLinks(problems, "Policies", "policy", role.Policies);
        CheckIdentities(problems, "role", role.ServiceIdentities, role.NodeIdentities);
        return problems;
    }

    /// <summary>
    /// Every problem with a token create or update at <paramref name="now"/> (the would-be CreateTime). Messages never
    /// contain the SecretID.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> ValidateToken(AclTokenRequest token, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(token);
        var problems = new List<ValidationProblem>();
        if (token.AccessorID is { Length: > 0 } accessor)
        {
            if (!Guid.TryParseExact(accessor, "D", out _))
                problems.Add(new("AccessorID", ValidationCodes.InvalidFormat, "Accessor ID is missing or an invalid UUID"));
            else if (AclBuiltins.IsReservedId(accessor))
                problems.Add(new("AccessorID", ValidationCodes.Reserved, $"UUIDs with the prefix \"{AclBuiltins.ReservedIdPrefix}\" are reserved"));
        }
        if (token.SecretID is { Length: > 0 } secret)
        {
            if (!Guid.TryParseExact(secret, "D", out _))
                problems.Add(new("SecretID", ValidationCodes.InvalidFormat, "SecretID is not a valid UUID"));
            else if (AclBuiltins.IsReservedId(secret))
                problems.Add(new("SecretID", ValidationCodes.Reserved, $"UUIDs with the prefix \"{AclBuiltins.ReservedIdPrefix}\" are reserved"));
        }
        AddIfAny(problems, ValidationText.Check("Description", token.Description));
        CheckLinks(problems, "Policies", "policy", token.Policies);
        CheckLinks(problems, "Roles", "role", token.Roles);
        CheckIdentities(problems, "token", token.ServiceIdentities, token.NodeIdentities);

        if (token.ExpirationTTL is not null && token.ExpirationTime is not null)
            problems.Add(new("ExpirationTTL", ValidationCodes.MutuallyExclusive, "Token Expiration TTL and Expiration Time cannot both be set"));
        else if (token.ExpirationTTL is { } t && (t < MinExpirationTtl || t > MaxExpirationTtl))
            problems.Add(new("ExpirationTTL", ValidationCodes.OutOfRange,
                $"Token Expiration TTL '{GoDuration.Format(t)}' should be between {GoDuration.Format(MinExpirationTtl)} and {GoDuration.Format(MaxExpirationTtl)}"));
        if (token.ExpirationTime is { } expires && expires < now)
            problems.Add(new("ExpirationTime", ValidationCodes.OutOfRange, "ExpirationTime cannot be before CreateTime"));
        return problems;
    }

    // Consul's name checks for policies and roles, in its order: required, length, reserved, characters.
    private static void CheckName(List<ValidationProblem> problems, string kind, string? name, int maxLength, Regex allowed,
        string allowedText, string? reservedReason)
    {
        if (string.IsNullOrEmpty(name))
            problems.Add(new("Name", ValidationCodes.Required, $"Invalid {kind}: no Name is set"));
        else if (name.Length > maxLength)
            problems.Add(new("Name", ValidationCodes.TooLong, $"Invalid {kind}: invalid Name. Length must be greater than 0 and less than {maxLength}"));
        else if (reservedReason is not null)
            problems.Add(new("Name", ValidationCodes.Reserved, $"Invalid {kind}: invalid Name. {reservedReason}"));
        else if (!allowed.IsMatch(name))
            problems.Add(new("Name", ValidationCodes.InvalidFormat, $"Invalid {kind}: invalid Name. Only {allowedText} are allowed"));
    }

    private static void CheckLinks(List<ValidationProblem> problems, string field, string what, ImmutableArray<AclLink> links)
    {
        if (links.IsDefault) return;
        for (var i = 0; i < links.Length; i++)
        {
            if (links[i] is null || (string.IsNullOrEmpty(links[i].ID) && string.IsNullOrEmpty(links[i].Name)))
                problems.Add(new($"{field}[{i}]", ValidationCodes.Required, $"{field}[{i}]: a {what} link needs an ID or a Name"));
        }
    }

    private static void CheckIdentities(List<ValidationProblem> problems, string owner,
        ImmutableArray<AclServiceIdentity> services, ImmutableArray<AclNodeIdentity> nodes)
    {
        for (var i = 0; i < (services.IsDefault ? 0 : services.Length); i++)
        {
            var f = $"ServiceIdentities[{i}]";
            var s = services[i];
            if (string.IsNullOrEmpty(s?.ServiceName))
                problems.Add(new($"{f}.ServiceName", ValidationCodes.Required, $"Service identity is missing the service name field on this {owner}"));
            else if (s.ServiceName.Length > IdentityNameMaxLength || !IdentityNameRegex().IsMatch(s.ServiceName))
                problems.Add(new($"{f}.ServiceName", ValidationCodes.InvalidFormat,
                    $"Service identity {ValidationText.Quote(s.ServiceName)} has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed"));
            if (s is not null) CheckDatacenters(problems, $"{f}.Datacenters", s.Datacenters);
        }
        for (var i = 0; i < (nodes.IsDefault ? 0 : nodes.Length); i++)
        {
            var f = $"NodeIdentities[{i}]";
            var n = nodes[i];
            if (string.IsNullOrEmpty(n?.NodeName))
                problems.Add(new($"{f}.NodeName", ValidationCodes.Required, $"Node identity is missing the node name field on this {owner}"));
            else if (n.NodeName.Length > IdentityNameMaxLength || !IdentityNameRegex().IsMatch(n.NodeName))
                problems.Add(new($"{f}.NodeName", ValidationCodes.InvalidFormat,
                    "Node identity has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed"));
            if (string.IsNullOrEmpty(n?.Datacenter))
                problems.Add(new($"{f}.Datacenter", ValidationCodes.Required, $"Node identity is missing the datacenter field on this {owner}"));
            else
                AddIfAny(problems, DatacenterName.Check($"{f}.Datacenter", n.Datacenter));
        }
    }

    private static void CheckDatacenters(List<ValidationProblem> problems, string field, ImmutableArray<string> datacenters)
    {
        if (datacenters.IsDefault) return;
        for (var i = 0; i < datacenters.Length; i++)
            AddIfAny(problems, DatacenterName.Check($"{field}[{i}]", datacenters[i]));
    }

    private static void AddIfAny(List<ValidationProblem> problems, ValidationProblem? problem)
    {
        if (problem is not null) problems.Add(problem);
    }
}
