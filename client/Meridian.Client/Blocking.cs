using System.Diagnostics;

namespace Meridian.Client;

/// <summary>A value with the index it was read at (Consul's <c>X-Consul-Index</c>); the index is never 0.</summary>
/// <param name="Index">
/// The index of <paramref name="Value"/>, to pass as the next call's <c>minIndex</c>: the store's own index plus one
/// (an empty store answers 1), so it is never 0. Compare it only with other answers of
/// the same watch, not with the <c>CreateIndex</c>/<c>ModifyIndex</c> of the items.
/// </param>
/// <param name="Value">The value.</param>
public sealed record MeridianIndexed<T>(ulong Index, T Value);

/// <summary>
/// Consul's blocking-query rules for the SDK's watches (<see href="https://developer.hashicorp.com/consul/api-docs/features/blocking"/>):
/// answer at once when <c>minIndex</c> is 0, else when the index passes it or when the wait ends (with the current
/// value); an index that went backwards (a store rebuilt) answers at once so the caller starts over.
/// </summary>
/// <remarks>
/// Never an index of 0 (a client sending 0 back would not block and would spin): the answered index is the store's
/// plus one. Clamping 0 to 1 instead, as Consul does, would be ambiguous here: our stores count from 0 and their
/// first write is 1, so a caller holding 1 could have seen either, and the first write would go unnoticed.
/// </remarks>
internal static class Blocking
{
    /// <summary>The longest wait, as Consul's (and the grains' own bound).</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Waits through <paramref name="waitOnce"/> (given the store index the caller holds and the time left; answers the
    /// store index it saw, possibly unchanged after a spurious wake-up) until the store index is no longer the one
    /// <paramref name="minIndex"/> stands for, or the wait ends.
    /// </summary>
    public static async Task WaitAsync(ulong minIndex, TimeSpan maxWait, Func<ulong, TimeSpan, Task<ulong>> waitOnce, CancellationToken cancellationToken)
    {
        if (minIndex == 0) return;
        var held = minIndex - 1;
        var wait = maxWait <= TimeSpan.Zero ? TimeSpan.Zero : maxWait > MaxWait ? MaxWait : maxWait;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var remaining = wait - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero) return;
            if (await waitOnce(held, remaining) != held) return;
        }
    }

    /// <summary>The answered index of a store index (see the remarks).</summary>
    public static ulong Index(ulong storeIndex) => storeIndex + 1;
}
