namespace Meridian.Grains;

/// <summary>
/// The caller's ACL token travels with every call in the Orleans <c>RequestContext</c> (like Consul's
/// <c>X-Consul-Token</c>), so every request path can carry it without changing grain signatures.
/// The silo's ACL filter resolves it for calls from gateway clients (docs/acl.md); the token is never logged.
/// </summary>
public static class CallerToken
{
    /// <summary>The RequestContext key.</summary>
    public const string RequestContextKey = "meridian.token";

    /// <summary>
    /// The RequestContext key marking calls that enter the datacenter through a silo's own HTTP API (Consul's
    /// <c>/v1/...</c>): they come from the silo's hosted client, which is otherwise trusted, so the mark asks the ACL
    /// filter to check them like a gateway client's (docs/acl.md). The filter removes it from the call it checks, so
    /// the mark never rides along with that grain's own calls.
    /// </summary>
    public const string ExternalKey = "meridian.external";

    /// <summary>Marks the calls made from the current async flow as entering from outside (see <see cref="ExternalKey"/>).</summary>
    public static void MarkExternal() => Orleans.Runtime.RequestContext.Set(ExternalKey, true);

    /// <summary>Whether the current call carries the mark of <see cref="MarkExternal"/>; removes it (so onward calls do not).</summary>
    public static bool TakeExternal()
    {
        if (Orleans.Runtime.RequestContext.Get(ExternalKey) is null) return false;
        Orleans.Runtime.RequestContext.Remove(ExternalKey);
        return true;
    }

    /// <summary>The token of the current call, or null when none was sent.</summary>
    public static string? Current => Orleans.Runtime.RequestContext.Get(RequestContextKey) as string;

    /// <summary>
    /// Sets the token for calls made from the current async flow, until changed again. Prefer <see cref="Use"/>,
    /// which puts the previous value back.
    /// </summary>
    public static void Set(string? token)
    {
        if (string.IsNullOrEmpty(token)) Orleans.Runtime.RequestContext.Remove(RequestContextKey);
        else Orleans.Runtime.RequestContext.Set(RequestContextKey, token);
    }

    /// <summary>
    /// Sets <paramref name="token"/> (null: none) for the calls made until the scope is disposed, then restores the
    /// previous value, so the token of one call never rides along with the caller's later calls.
    /// </summary>
    public static Scope Use(string? token)
    {
        var previous = Current;
        Set(token);
        return new Scope(previous);
    }

    /// <summary>Restores the token that was current before <see cref="Use"/>.</summary>
    public readonly struct Scope(string? previous) : IDisposable
    {
        /// <inheritdoc />
        public void Dispose() => Set(previous);
    }
}
