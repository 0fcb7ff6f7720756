namespace Meridian.Grains.Acl;

/// <summary>
/// The caller <see cref="Hosting.AclFilter"/> resolved for the call being served, for grains that filter what they
/// answer per entry (Consul's list endpoints) or need the caller's default policy (authorize). Null when ACLs are off,
/// for methods that need no token, and for calls from inside the datacenter (which are not checked).
/// </summary>
/// <remarks>
/// An <see cref="AsyncLocal{T}"/>, not a RequestContext entry: RequestContext values travel with outgoing calls and
/// an authorizer must never leave the silo. The filter sets it inside its own async method, so the value flows into
/// the grain method and is gone when the call ends.
/// </remarks>
internal static class AclCallContext
{
    private static readonly AsyncLocal<AclCaller?> Caller = new();

    /// <summary>The resolved caller of the current call, or null (see the summary).</summary>
    public static AclCaller? Current => Caller.Value;

    internal static void Set(AclCaller? caller) => Caller.Value = caller;
}
