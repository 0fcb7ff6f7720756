using System.Collections.Immutable;

namespace Meridian.Core.Acl;

/// <summary>
/// An access level in a rule. The numeric order is the merge order of Consul's <c>acl/policy_merger.go</c>
/// (<c>takesPrecedenceOver</c>): when several policies speak about the same name, the higher value wins.
/// </summary>
public enum AclAccess
{
    /// <summary>Not set: no opinion (an absent <c>intentions</c>, an absent <c>operator</c>).</summary>
    None = 0,
    Read = 1,
    /// <summary>Only accepted on <c>key</c>/<c>key_prefix</c>.</summary>
    List = 2,
    Write = 3,
    Deny = 4,
}

/// <summary>The resource kinds a rule may name. Labelled kinds have exact and prefix forms.</summary>
public enum AclResource
{
    Acl, Operator, Mesh, Peering, Keyring,
    Service, Node, Agent, Key, Session, Event, Query,
    /// <summary>Not a rule block: the permission a service rule's <c>intentions</c> grants (<c>intention:read</c>).</summary>
    Intention,
}

/// <summary>One labelled rule: <c>service "web" { policy = "write" }</c> or <c>service_prefix "" {...}</c>.</summary>
/// <param name="Resource">The resource kind (service for both <c>service</c> and <c>service_prefix</c>).</param>
/// <param name="Name">The label: the exact name, or the prefix (<c>""</c> matches every name).</param>
/// <param name="IsPrefix">True for the <c>*_prefix</c> forms.</param>
/// <param name="Policy">The <c>policy</c> level (required).</param>
/// <param name="Intentions"><see cref="AclAccess.None"/> unless written; only service rules carry it.</param>
/// <param name="Line">Where the rule starts in the rules text (1-based), for messages; 0 when synthetic.</param>
public sealed record AclResourceRule(AclResource Resource, string Name, bool IsPrefix, AclAccess Policy, AclAccess Intentions = AclAccess.None, int Line = 0);

/// <summary>The parsed rules of one policy (Consul's <c>acl.Policy</c> rules part).</summary>
public sealed record AclPolicyRules
{
    public static AclPolicyRules Empty { get; } = new();

    public AclAccess Acl { get; init; }
    public AclAccess Operator { get; init; }
    public AclAccess Mesh { get; init; }
    public AclAccess Peering { get; init; }
    public AclAccess Keyring { get; init; }
    public ImmutableArray<AclResourceRule> Rules { get; init; } = [];

    /// <summary>The unlabelled level for <paramref name="resource"/> (acl, operator, mesh, peering, keyring).</summary>
    public AclAccess Unlabelled(AclResource resource) => resource switch
    {
        AclResource.Acl => Acl,
        AclResource.Operator => Operator,
        AclResource.Mesh => Mesh,
        AclResource.Peering => Peering,
        AclResource.Keyring => Keyring,
        _ => throw new ArgumentOutOfRangeException(nameof(resource), resource, "Not an unlabelled resource."),
    };
}

/// <summary>Names and words shared by the parser, the authorizer and messages.</summary>
public static class AclWords
{
    /// <summary>The lower-case word Consul prints for a level (<c>read</c>, <c>write</c>...).</summary>
    public static string Of(AclAccess access) => access switch
    {
        AclAccess.Read => "read",
        AclAccess.List => "list",
        AclAccess.Write => "write",
        AclAccess.Deny => "deny",
        _ => "",
    };

    /// <summary>The singular resource word of permission texts (<c>acl/errors.go</c>): <c>service</c>, <c>intention</c>...</summary>
    public static string Of(AclResource resource) => resource switch
    {
        AclResource.Acl => "acl",
        AclResource.Operator => "operator",
        AclResource.Mesh => "mesh",
        AclResource.Peering => "peering",
        AclResource.Keyring => "keyring",
        AclResource.Service => "service",
        AclResource.Node => "node",
        AclResource.Agent => "agent",
        AclResource.Key => "key",
        AclResource.Session => "session",
        AclResource.Event => "event",
        AclResource.Query => "query",
        AclResource.Intention => "intention",
        _ => throw new ArgumentOutOfRangeException(nameof(resource), resource, null),
    };

    /// <summary>Access levels are compared lower-cased (Consul's <c>AccessLevelFromString</c>).</summary>
    public static AclAccess? Parse(string text) => text.ToLowerInvariant() switch
    {
        "read" => AclAccess.Read,
        "list" => AclAccess.List,
        "write" => AclAccess.Write,
        "deny" => AclAccess.Deny,
        _ => null,
    };
}
