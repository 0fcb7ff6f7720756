using System.Collections.Immutable;

namespace Meridian.Core.Federation;

/// <summary>Why a secondary holds a round from the primary back instead of applying it.</summary>
public enum ReplicationHoldReason
{
    /// <summary>The first sync into a datacenter that holds entries of its own (Consul PR #8210).</summary>
    FirstSync,

    /// <summary>The primary's store has another epoch: it was wiped, restored or replaced by another cluster.</summary>
    PrimaryReplaced,

    /// <summary>Same epoch (or none known), but the primary's index is below the one already applied.</summary>
    IndexReset,

    /// <summary>A snapshot that would delete every entry the secondary holds.</summary>
    DeletesEverything,
}

/// <summary>A position in the primary's change history: its index and the epoch of the store it counts in.</summary>
public readonly record struct ReplicationPosition(ulong Index, string Epoch)
{
    /// <summary>The epoch shortened for messages (8 characters, like a short commit id); "none" when unknown.</summary>
    public string ShortEpoch => string.IsNullOrEmpty(Epoch) ? "none" : Epoch.Length <= 8 ? Epoch : Epoch[..8];

    /// <summary>
    /// Why an answer at <paramref name="incoming"/> cannot apply on top of this applied position, or null when it can.
    /// A delta lists what changed since an index of one epoch; on top of another epoch's data it would leave entries of
    /// the old store behind, so only a snapshot crosses epochs (an unknown epoch on either side is no evidence of one).
    /// </summary>
    public string? CrossEpochDeltaProblem(ReplicationPosition incoming, bool isSnapshot, string primaryDatacenter)
        => isSnapshot || string.IsNullOrEmpty(Epoch) || string.IsNullOrEmpty(incoming.Epoch) || incoming.Epoch == Epoch
            ? null
            : $"a delta from epoch {incoming.Epoch} of {primaryDatacenter} cannot apply on top of epoch {Epoch}: only a snapshot crosses epochs";
}

/// <summary>
/// What applying one round would change locally: counts of deleted, added and changed entries, and the first
/// <see cref="NameCap"/> names of each (status and logs show them; a full list of thousands helps nobody).
/// </summary>
public sealed record ReplicationDiff(
    int Deletes, int Adds, int Changes, ImmutableArray<string> DeleteNames, ImmutableArray<string> AddNames, ImmutableArray<string> ChangeNames)
{
    /// <summary>How many names of each kind are kept.</summary>
    public const int NameCap = 10;

    /// <summary>Nothing would change.</summary>
    public static ReplicationDiff None { get; } = Of([], [], []);

    /// <summary>True when applying would change nothing.</summary>
    public bool IsEmpty => Deletes == 0 && Adds == 0 && Changes == 0;

    /// <summary>The diff of the given names (each list is counted in full, and sorted and capped for display).</summary>
    public static ReplicationDiff Of(IEnumerable<string> deleted, IEnumerable<string> added, IEnumerable<string> changed)
    {
        ArgumentNullException.ThrowIfNull(deleted);
        ArgumentNullException.ThrowIfNull(added);
        ArgumentNullException.ThrowIfNull(changed);
        var (d, a, c) = (deleted.ToList(), added.ToList(), changed.ToList());
        return new ReplicationDiff(d.Count, a.Count, c.Count, Capped(d), Capped(a), Capped(c));
    }

    /// <summary>
    /// The diff of applying <paramref name="upserts"/> and <paramref name="deleted"/> over what is held, for any
    /// replicated type: an upsert of a key not held (<paramref name="held"/> answers null) adds, one of other content
    /// (by <paramref name="contentHash"/>) changes, one of the same content changes nothing.
    /// </summary>
    public static ReplicationDiff Of<TEntry>(IEnumerable<TEntry> upserts, IEnumerable<TEntry> deleted, Func<TEntry, TEntry?> held,
        Func<TEntry, string> contentHash, Func<TEntry, string> name) where TEntry : class
    {
        ArgumentNullException.ThrowIfNull(upserts);
        ArgumentNullException.ThrowIfNull(held);
        ArgumentNullException.ThrowIfNull(contentHash);
        ArgumentNullException.ThrowIfNull(name);
        var changed = upserts.Select(e => (Entry: e, Held: held(e))).ToList();
        return Of(
            deleted.Select(name),
            changed.Where(c => c.Held is null).Select(c => name(c.Entry)),
            changed.Where(c => c.Held is { } h && contentHash(h) != contentHash(c.Entry)).Select(c => name(c.Entry)));
    }

    /// <summary><c>delete 2 (default/db, default/cache), add 1 (default/web), change 0</c>.</summary>
    public string Describe() => $"delete {Part(Deletes, DeleteNames)}, add {Part(Adds, AddNames)}, change {Part(Changes, ChangeNames)}";

    private static string Part(int count, ImmutableArray<string> names)
        => count == 0 ? "0" : $"{count} ({string.Join(", ", names)}{(count > names.Length ? $", and {count - names.Length} more" : "")})";

    private static ImmutableArray<string> Capped(List<string> names) => [.. names.Order(StringComparer.Ordinal).Take(NameCap)];
}

/// <summary>One round as the secondary sees it before applying it.</summary>
/// <param name="Applied">What the secondary has applied so far (index 0: never synced; epoch "": not known).</param>
/// <param name="Primary">Where the primary's answer stands.</param>
/// <param name="IsSnapshot">The answer is the primary's whole state, not a delta.</param>
/// <param name="LocalEntries">How many entries the secondary holds now.</param>
/// <param name="Diff">What applying the answer would change locally.</param>
public sealed record ReplicationRound(ReplicationPosition Applied, ReplicationPosition Primary, bool IsSnapshot, int LocalEntries, ReplicationDiff Diff);

/// <summary>A round held back for the operator: why, from where to where, what it would change, and since when.</summary>
public sealed record ReplicationHold(ReplicationHoldReason Reason, ReplicationPosition From, ReplicationPosition To, ReplicationDiff Diff, DateTimeOffset Since)
{
    /// <summary>The reason in words, starting with <c>held:</c> (status, CLI and /health show it).</summary>
    public string Summary => Reason switch
    {
        ReplicationHoldReason.FirstSync => "held: first sync would replace what this datacenter holds of its own",
        ReplicationHoldReason.PrimaryReplaced => $"held: primary replaced (epoch {From.ShortEpoch}→{To.ShortEpoch})",
        ReplicationHoldReason.IndexReset => $"held: primary index went back ({From.Index}→{To.Index}, epoch {To.ShortEpoch})",
        _ => "held: primary's snapshot would delete everything this datacenter holds",
    };

    /// <summary>
    /// Whether an adoption of this hold covers the primary's state at <paramref name="primary"/>: the same epoch, at or
    /// after the held index (changes the primary made since are the normal flow of the store the operator accepted).
    /// Another epoch, or the index reset again, is a different store: it needs its own adoption.
    /// </summary>
    public bool Covers(ReplicationPosition primary) => ReplicationHoldRule.Covers(To, primary);
}

/// <summary>
/// When a secondary must not follow its primary automatically. Consul's replicators (ACLs, config entries and so
/// intentions) make the secondary equal to the primary: whatever the primary lacks is deleted, and an index that went
/// backwards only forces a full compare. A primary rebuilt empty, restored from an old snapshot, or replaced by another
/// cluster that answers under its name therefore wipes the policy of every secondary within one round (Consul PR #8210
/// documents the same loss when joining; #3975 the same wipe by consul-replicate after a primary answered empty).
/// Here such a round is held until an operator adopts it: a new epoch or a reset index with anything to change, a
/// snapshot deleting every local entry, and the first sync into a datacenter with entries of its own. An operator's
/// ordinary deletes in the primary (same epoch, a delta) flow as before, even when they delete everything.
/// </summary>
public static class ReplicationHoldRule
{
    /// <summary>
    /// The hold for <paramref name="round"/>, or null to apply it. <paramref name="adopt"/> (the operator adopted, or
    /// <c>AdoptPrimaryState</c>) applies anything. <paramref name="current"/> is the hold already reported: when the
    /// new one is for the same reason and target epoch it keeps its <see cref="ReplicationHold.Since"/>.
    /// </summary>
    public static ReplicationHold? Decide(ReplicationRound round, bool adopt, ReplicationHold? current, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(round);
        if (adopt || round.Diff.IsEmpty) return null;
        var (applied, primary) = (round.Applied, round.Primary);
        ReplicationHoldReason? reason =
            applied.Index == 0 && string.IsNullOrEmpty(applied.Epoch) ? (round.LocalEntries > 0 ? ReplicationHoldReason.FirstSync : null)
            : !string.IsNullOrEmpty(applied.Epoch) && !string.IsNullOrEmpty(primary.Epoch) && applied.Epoch != primary.Epoch
                ? ReplicationHoldReason.PrimaryReplaced
            : primary.Index < applied.Index ? ReplicationHoldReason.IndexReset
            : round.IsSnapshot && round.LocalEntries > 0 && round.Diff.Deletes >= round.LocalEntries ? ReplicationHoldReason.DeletesEverything
            : null;
        if (reason is not { } r) return null;
        var since = current is { } c && c.Reason == r && c.To.Epoch == primary.Epoch ? c.Since : now;
        return new ReplicationHold(r, applied, primary, round.Diff, since);
    }

    /// <summary>Whether adopting a hold whose primary stood at <paramref name="held"/> covers <paramref name="primary"/> (see <see cref="ReplicationHold.Covers"/>).</summary>
    public static bool Covers(ReplicationPosition held, ReplicationPosition primary) => primary.Epoch == held.Epoch && primary.Index >= held.Index;
}
