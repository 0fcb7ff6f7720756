namespace Meridian.Grains;

/// <summary>
/// The resources a grain method can require (docs/acl.md), a subset of Consul's rule resources. Mirrors
/// <c>Meridian.Core.Acl.AclResource</c>, which this assembly cannot reference (contracts carry no Core types); the silo
/// maps one to the other. Values are never renumbered.
/// </summary>
public enum AclTarget
{
    /// <summary><c>service:&lt;level&gt;</c> on a service name.</summary>
    Service = 1,

    /// <summary><c>intention:&lt;level&gt;</c> on a destination (or source) service name (a service rule's <c>intentions</c>).</summary>
    Intention = 2,

    /// <summary><c>operator:&lt;level&gt;</c>, unnamed.</summary>
    Operator = 3,

    /// <summary><c>acl:&lt;level&gt;</c>, unnamed.</summary>
    Acl = 4,

    /// <summary><c>query:&lt;level&gt;</c> on a prepared query's name (checked by the grain: only named queries and templates need it).</summary>
    Query = 5,
    /// <summary><c>node:&lt;level&gt;</c> on a node name (the catalog).</summary>
    Node = 6,
}

/// <summary>The access level a method requires (Consul's <c>read</c> and <c>write</c>; <c>write</c> grants <c>read</c>).</summary>
public enum AclLevel
{
    /// <summary><c>read</c>.</summary>
    Read = 1,

    /// <summary><c>write</c>.</summary>
    Write = 2,
}

/// <summary>
/// What the caller's ACL token must grant for a public or federation grain method (docs/acl.md, "What each method
/// requires"). The silo's ACL filter checks it before the method runs and refuses with Consul's
/// <c>Permission denied: token with AccessorID '…' lacks permission 'service:write' on "web"</c>; a refused call runs
/// nothing and writes nothing. Every public and federation method carries this or <see cref="AclNoneAttribute"/>
/// (a test proves it).
/// </summary>
/// <remarks>
/// <see cref="Name"/> says where the resource name comes from: a parameter (<c>"service"</c>), a property path into
/// a parameter (<c>"request.Target"</c>, <c>"intention.DestinationName"</c>), a parameter holding several names
/// (<c>"names"</c>: each one is checked), or <see cref="GrainKeyService"/> (the service part of a <c>dc/service</c> grain
/// key). A <c>[ns/]name</c> value is checked on its name (Consul CE has no namespaces in rules).
/// </remarks>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class AclAttribute(AclTarget target, AclLevel level) : Attribute
{
    /// <summary>The <see cref="Name"/> that reads the service out of the grain's <c>dc/service</c> key.</summary>
    public const string GrainKeyService = "@key";

    /// <summary>The resource.</summary>
    public AclTarget Target { get; } = target;

    /// <summary>The access level.</summary>
    public AclLevel Level { get; } = level;

    /// <summary>Where the name comes from (see the remarks); null for unnamed resources (operator, acl) and filtered answers.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// A second name, either of which suffices (Consul's intention read: on the source <i>or</i> the destination).
    /// A refusal names the permission on <see cref="Name"/>.
    /// </summary>
    public string? OrName { get; init; }

    /// <summary>
    /// The method answers a list filtered per entry by this permission (Consul's list endpoints and
    /// <c>X-Consul-Results-Filtered-By-ACLs</c>) instead of being refused: the filter resolves the caller and the grain
    /// leaves out what the caller may not see, saying so in the answer.
    /// </summary>
    public bool Filtered { get; init; }
}

/// <summary>
/// The method needs no ACL token (Consul's roots endpoints): anyone who reaches the gateway may call it. Say why in
/// <see cref="Reason"/>; it is shown in docs/acl.md.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class AclNoneAttribute(string reason) : Attribute
{
    /// <summary>Why no token is needed.</summary>
    public string Reason { get; } = reason;
}
