namespace Meridian.Core.Certificates;

/// <summary>
/// Drops expired intermediates and cross-signed certificates from a root's chain before a new one is appended
/// (Consul #14429; SPEC §5 item 7: unpruned chains outgrew the 64 KiB TLS handshake limit).
/// </summary>
/// <remarks>
/// As Consul, a certificate is kept only while <c>notAfter &gt; now</c>; one whose NotAfter is exactly now is dropped.
/// Order is preserved: the leaf-signing intermediate stays last.
/// </remarks>
public static class ChainPruning
{
    /// <summary>The items of <paramref name="chain"/> still valid at <paramref name="now"/>, in order.</summary>
    public static IReadOnlyList<T> KeepUnexpired<T>(IEnumerable<T> chain, Func<T, DateTimeOffset> notAfter, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(notAfter);
        return [.. chain.Where(c => notAfter(c) > now)];
    }

    /// <summary>The NotAfter values still in the future at <paramref name="now"/>, in order.</summary>
    public static IReadOnlyList<DateTimeOffset> KeepUnexpired(IEnumerable<DateTimeOffset> notAfters, DateTimeOffset now)
        => KeepUnexpired(notAfters, static t => t, now);

    /// <summary>True when <paramref name="chain"/> contains a certificate expired at <paramref name="now"/>.</summary>
    public static bool HasExpired<T>(IEnumerable<T> chain, Func<T, DateTimeOffset> notAfter, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(notAfter);
        return chain.Any(c => notAfter(c) <= now);
    }
}
