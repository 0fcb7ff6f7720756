namespace Meridian.Core.Certificates;

/// <summary>
/// Half-life renewal of a signing intermediate (Consul's half-life renewal): checked every hour, renewed once half the validity has
/// passed. With the default 8760 h intermediate that is ~4380 h after issuance, leaving half a year to ride out
/// a primary outage (Consul issue #6542 was intermediates that were never renewed).
/// </summary>
public static class IntermediateRenewal
{
    /// <summary>How often the renewal loop checks: 1 hour (first check 1 hour after leadership).</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromHours(1);

    /// <summary>The half-life mark, <c>notBefore + (notAfter − notBefore) / 2</c>.</summary>
    public static DateTimeOffset RenewAt(DateTimeOffset notBefore, DateTimeOffset notAfter)
        => notBefore + TimeSpan.FromTicks((notAfter - notBefore).Ticks / 2);

    /// <summary>True once <c>notBefore + (notAfter − notBefore) / 2 &lt;= now</c> (Consul's <c>!lessThanHalfTimePassed</c>).</summary>
    public static bool NeedsRenewal(DateTimeOffset now, DateTimeOffset notBefore, DateTimeOffset notAfter)
        => RenewAt(notBefore, notAfter) <= now;
}
