using Meridian.Core.Federation;

namespace Meridian.Core.Tests.Federation;

[Trait("Category", "Unit")]
public sealed class ReplicationHoldRuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 1, 0, 0, TimeSpan.Zero);
    private const string X = "aaaaaaaa11111111", Y = "bbbbbbbb22222222";

    private static ReplicationDiff Diff(int deletes, int adds, int changes)
        => ReplicationDiff.Of(Names("del", deletes), Names("add", adds), Names("chg", changes));

    private static ReplicationDiff Diff(string counts)
    {
        var n = counts.Split('/').Select(int.Parse).ToArray();
        return Diff(n[0], n[1], n[2]);
    }

    private static IEnumerable<string> Names(string prefix, int count) => Enumerable.Range(0, count).Select(i => $"default/{prefix}{i:D3}");

    public static TheoryData<string, ulong, string, ulong, string, bool, int, string, ReplicationHoldReason?> Rounds => new()
    {
        // name, applied index, applied epoch, primary index, primary epoch, snapshot, local entries, deletes/adds/changes, expected
        { "delta, same epoch, an operator's upsert", 5, X, 6, X, false, 3, "0/1/0", null },
        { "delta, same epoch, an operator deleted everything", 5, X, 8, X, false, 3, "3/0/0", null },
        { "snapshot, same epoch, deletes some (poller older than the change log)", 5, X, 90, X, true, 3, "2/4/1", null },
        { "snapshot, same epoch, deletes everything", 5, X, 90, X, true, 3, "3/0/0", ReplicationHoldReason.DeletesEverything },
        { "snapshot, new epoch, empty primary", 5, X, 0, Y, true, 3, "3/0/0", ReplicationHoldReason.PrimaryReplaced },
        { "snapshot, new epoch, higher index, adds only", 5, X, 40, Y, true, 3, "0/2/0", ReplicationHoldReason.PrimaryReplaced },
        { "snapshot, new epoch, same content", 5, X, 5, Y, true, 3, "0/0/0", null },
        { "snapshot, same epoch, index went back", 9, X, 4, X, true, 3, "1/0/1", ReplicationHoldReason.IndexReset },
        { "snapshot, no epochs (older primary), index went back", 9, "", 4, "", true, 3, "1/0/0", ReplicationHoldReason.IndexReset },
        { "first answer with an epoch (after an upgrade), ahead", 9, "", 12, X, true, 3, "0/1/0", null },
        { "first sync into a datacenter with entries of its own", 0, "", 7, X, true, 2, "2/1/0", ReplicationHoldReason.FirstSync },
        { "first sync into an empty datacenter", 0, "", 7, X, true, 0, "0/5/0", null },
        { "first sync, the same entries already held", 0, "", 7, X, true, 2, "0/0/0", null },
    };

    [Theory]
    [MemberData(nameof(Rounds))]
    public void Decide_Round_HoldsOrApplies(string name, ulong appliedIndex, string appliedEpoch, ulong primaryIndex, string primaryEpoch,
        bool snapshot, int local, string diff, ReplicationHoldReason? expected)
    {
        var round = new ReplicationRound(new(appliedIndex, appliedEpoch), new(primaryIndex, primaryEpoch), snapshot, local, Diff(diff));

        var hold = ReplicationHoldRule.Decide(round, adopt: false, current: null, Now);

        Assert.True(expected == hold?.Reason, $"{name}: expected {expected?.ToString() ?? "apply"}, got {hold?.Reason.ToString() ?? "apply"}");
        if (hold is null) return;
        Assert.Equal((round.Applied, round.Primary, round.Diff, Now), (hold.From, hold.To, hold.Diff, hold.Since));
        Assert.StartsWith("held: ", hold.Summary, StringComparison.Ordinal);
        // Adopting (the command, or AdoptPrimaryState) applies every round the rule would hold.
        Assert.Null(ReplicationHoldRule.Decide(round, adopt: true, current: null, Now));
    }

    [Fact]
    public void Decide_SameReasonAndTargetEpoch_KeepsSince_OtherTarget_StartsAnew()
    {
        var round = new ReplicationRound(new(5, X), new(0, Y), true, 3, Diff(3, 0, 0));
        var first = ReplicationHoldRule.Decide(round, false, null, Now)!;

        var later = ReplicationHoldRule.Decide(round with { Primary = new(2, Y), Diff = Diff(3, 1, 0) }, false, first, Now.AddMinutes(5))!;
        var replacedAgain = ReplicationHoldRule.Decide(round with { Primary = new(0, "cccccccc") }, false, later, Now.AddMinutes(9))!;

        Assert.Equal(Now, later.Since);
        Assert.Equal(new ReplicationPosition(2, Y), later.To);
        Assert.Equal(Now.AddMinutes(9), replacedAgain.Since);
    }

    [Fact]
    public void Summary_PrimaryReplaced_NamesBothShortEpochs()
    {
        var hold = ReplicationHoldRule.Decide(new(new(5, X), new(0, Y), true, 3, Diff(3, 0, 0)), false, null, Now)!;

        Assert.Equal("held: primary replaced (epoch aaaaaaaa→bbbbbbbb)", hold.Summary);
    }

    [Theory]
    [InlineData(0ul, Y, true)]     // the held state itself
    [InlineData(7ul, Y, true)]     // the same store, changed since (normal flow)
    [InlineData(0ul, "cccccccc", false)] // replaced again: another store
    [InlineData(0ul, X, false)]    // back to the old epoch
    public void Covers_PrimaryPosition_OnlyTheHeldEpochAtOrAfterTheHeldIndex(ulong index, string epoch, bool covered)
    {
        var hold = new ReplicationHold(ReplicationHoldReason.PrimaryReplaced, new(5, X), new(0, Y), Diff(3, 0, 0), Now);

        Assert.Equal(covered, hold.Covers(new(index, epoch)));
    }

    [Fact]
    public void Covers_IndexReset_IndexBelowTheHeldOne_IsNotCovered()
    {
        var hold = new ReplicationHold(ReplicationHoldReason.IndexReset, new(9, X), new(4, X), Diff(1, 0, 0), Now);

        Assert.True(hold.Covers(new(4, X)));
        Assert.False(hold.Covers(new(2, X)));
    }

    [Fact]
    public void Diff_ManyNames_CountsAllSortsAndCapsTheList()
    {
        var diff = ReplicationDiff.Of(Names("del", 25).Reverse(), ["default/web"], []);

        Assert.Equal((25, 1, 0), (diff.Deletes, diff.Adds, diff.Changes));
        Assert.Equal(ReplicationDiff.NameCap, diff.DeleteNames.Length);
        Assert.Equal("default/del000", diff.DeleteNames[0]);
        Assert.Equal("delete 25 (default/del000, default/del001, default/del002, default/del003, default/del004, default/del005, " +
            "default/del006, default/del007, default/del008, default/del009, and 15 more), add 1 (default/web), change 0", diff.Describe());
    }

    private sealed record Item(string Key, string Content);

    [Fact]
    public void Diff_OfEntriesOverWhatIsHeld_TellsAddsFromChangesAndSkipsSameContent()
    {
        var held = new Dictionary<string, Item> { ["db"] = new("db", "x"), ["api"] = new("api", "x"), ["old"] = new("old", "x") };
        var diff = ReplicationDiff.Of<Item>(
            upserts: [new("web", "x"), new("db", "y"), new("api", "x")], deleted: [held["old"]],
            held: e => held.GetValueOrDefault(e.Key), contentHash: e => e.Content, name: e => e.Key);

        Assert.Equal("delete 1 (old), add 1 (web), change 1 (db)", diff.Describe());
    }

    [Theory]
    [InlineData("delta, same epoch", X, X, false, false)]
    [InlineData("delta, another epoch", X, Y, false, true)]
    [InlineData("snapshot, another epoch (the only way across)", X, Y, true, false)]
    [InlineData("delta, nothing applied yet", "", Y, false, false)]
    [InlineData("delta from an older primary without epochs", X, "", false, false)]
    public void CrossEpochDelta_OnlyASnapshotCrossesEpochs(string name, string applied, string incoming, bool snapshot, bool refused)
    {
        var problem = new ReplicationPosition(5, applied).CrossEpochDeltaProblem(new(6, incoming), snapshot, "dc1");
        Assert.True(refused == problem is not null, $"{name}: {problem ?? "(applies)"}");
        if (problem is not null) Assert.Equal($"a delta from epoch {Y} of dc1 cannot apply on top of epoch {X}: only a snapshot crosses epochs", problem);
    }
}
