using Meridian.Core.Federation;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Replication;

/// <summary>
/// The hold step every replicated store runs before applying a round of the primary, written once: the store computes
/// the round (its applied position, the primary's, how many entries it holds and the diff applying would make, in the
/// names it shows), <see cref="ReplicationHoldRule"/> decides, and this keeps the hold's first-seen time, logs a new
/// hold and an adoption, and has the store persist a changed hold (so status and <c>meridian replication adopt</c>
/// see it right after a restart). Intentions (<see cref="ReplicatedRegistry{TEntry, TKey}"/>) and ACLs
/// (<c>AclStoreGrain</c>) use it; docs/consul-pain-points.md row 2 has why (Consul PR #8210, #3975).
/// Not thread-safe: it lives in the store's grain activation.
/// </summary>
public sealed class ReplicationHoldKeeper(string replicationType, DatacenterContext datacenter, TimeProvider clock, ILogger logger)
{
    // The round held back last (loaded from the store's state on activation, so a restart keeps its Since).
    private ReplicationHold? _hold;

    /// <summary>Starts from the hold the store persisted (null: following the primary).</summary>
    public void Resume(ReplicationHoldDto? persisted) => _hold = persisted?.ToCore();

    /// <summary>
    /// Decides <paramref name="round"/>: the hold to answer with (the store applies nothing), or null to apply it
    /// (<paramref name="adopt"/>: the operator adopted, or <c>AdoptPrimaryState</c>). A hold that differs from
    /// <paramref name="stored"/> (what the store persisted) is handed to <paramref name="persist"/> first; when the
    /// round applies, the store clears its stored hold in the apply's own write.
    /// </summary>
    public async Task<ReplicationHoldDto?> HoldAsync(ReplicationRound round, bool adopt, ReplicationHoldDto? stored,
        Func<ReplicationHoldDto, CancellationToken, Task> persist, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(round);
        ArgumentNullException.ThrowIfNull(persist);
        var wouldHold = ReplicationHoldRule.Decide(round, adopt: false, _hold, clock.GetUtcNow());
        if (wouldHold is null || adopt)
        {
            _hold = null;
            if (wouldHold is not null)
                ReplicationHoldLog.Adopted(logger, replicationType, datacenter.Datacenter, wouldHold.Summary, round.Diff.Deletes, round.Diff.Adds, round.Diff.Changes);
            return null;
        }
        if (wouldHold.Since != _hold?.Since)
            ReplicationHoldLog.Held(logger, replicationType, datacenter.Datacenter, datacenter.PrimaryDatacenter, wouldHold.Summary,
                round.Diff.Deletes, round.Diff.Adds, round.Diff.Changes);
        _hold = wouldHold;
        var held = wouldHold.ToDto(datacenter.Datacenter);
        if (!SameHold(stored, held)) await persist(held, cancellationToken);
        return held;
    }

    // The same hold as far as status and adopt tell (ImmutableArray compares by reference, so a record's Equals won't do).
    private static bool SameHold(ReplicationHoldDto? a, ReplicationHoldDto b)
        => a is not null && a.Message == b.Message && a.Since == b.Since && a.PrimaryIndex == b.PrimaryIndex && a.PrimaryEpoch == b.PrimaryEpoch
           && a.AppliedIndex == b.AppliedIndex && a.AppliedEpoch == b.AppliedEpoch;
}

/// <summary>The hold's logs (shared by every replicated store).</summary>
internal static partial class ReplicationHoldLog
{
    [LoggerMessage(EventId = MeridianEventIds.ReplicationHeld, Level = LogLevel.Warning,
        Message = "Holding replication of {ReplicationType} into {Datacenter} from {Primary} for the operator ({Summary}): it would delete {Deletes}, add {Adds} and change {Changes} entries")]
    public static partial void Held(ILogger logger, string replicationType, string datacenter, string primary, string summary, int deletes, int adds, int changes);

    [LoggerMessage(EventId = MeridianEventIds.ReplicationAdopted, Level = LogLevel.Information,
        Message = "Adopted the primary's {ReplicationType} in {Datacenter} ({Summary}): deleting {Deletes}, adding {Adds} and changing {Changes} entries")]
    public static partial void Adopted(ILogger logger, string replicationType, string datacenter, string summary, int deletes, int adds, int changes);
}
