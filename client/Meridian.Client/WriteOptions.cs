using Meridian.Core.Certificates;
using Meridian.Grains;

namespace Meridian.Client;

/// <summary>How an SDK write answers.</summary>
public sealed record WriteOptions
{
    /// <summary>The default: answer as soon as the write is committed (in the primary, for a write through a secondary).</summary>
    public static WriteOptions Default { get; } = new();

    /// <summary>
    /// Read-your-writes: a write made through a secondary is committed in the primary and reaches this datacenter by
    /// replication; with this set, the call answers only once this datacenter has applied it (up to
    /// <see cref="MaxWait"/>), so a read right after it through the same client sees it. A write committed in this
    /// datacenter answers at once either way.
    /// </summary>
    public bool ReadYourWrites { get; init; }

    /// <summary>How long <see cref="ReadYourWrites"/> waits. Default: 1 minute (at most 10 minutes, the grain's bound).</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Waits for <paramref name="result"/> as <paramref name="options"/> ask; throws
    /// <see cref="ReplicationWaitTimeoutException"/> when this datacenter has not applied it in time.
    /// </summary>
    internal static async Task<IntentionWriteResultDto> AfterAsync(IMeridianClient client, IntentionWriteResultDto result, WriteOptions? options, CancellationToken cancellationToken)
    {
        if (options is not { ReadYourWrites: true } || result.CommittedIn == client.Datacenter) return result;
        if (!await client.WaitForReplicatedAsync(result.Index, options.MaxWait, cancellationToken))
            throw new ReplicationWaitTimeoutException(result.CommittedIn, client.Datacenter, result.Index, options.MaxWait);
        return result;
    }
}

/// <summary>
/// A write asked for read-your-writes (<see cref="WriteOptions.ReadYourWrites"/>) was committed, but this datacenter
/// had not replicated it within the wait. The write stands; kind <see cref="MeridianErrorKind.Unavailable"/> (retry
/// the read later).
/// </summary>
public sealed class ReplicationWaitTimeoutException(string committedIn, string datacenter, ulong index, TimeSpan waited)
    : MeridianException($"written in {committedIn} at index {index}, but not replicated into {datacenter} within {GoDuration.Format(waited)}",
        MeridianErrorKind.Unavailable)
{
    /// <summary>The datacenter that committed the write (the primary).</summary>
    public string CommittedIn { get; } = committedIn;

    /// <summary>The primary's index of the write.</summary>
    public ulong Index { get; } = index;
}
