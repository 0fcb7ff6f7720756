using Meridian.Core.Federation;
using Meridian.Core.Replication;

namespace Meridian.Core.Tests.Replication;

[Trait("Category", "Unit")]
public sealed class FilteredRoundTests
{
    public static TheoryData<string, bool, bool, string[], string[], string[], int> Cases() => new()
    {
        // scenario, snapshot, filtered, upserts, deletes -> applied deletes, withheld
        { "whole snapshot: absent entries are deleted", true, false, ["a"], ["b", "c"], ["b", "c"], 0 },
        { "filtered snapshot: absent entries are only unseen", true, true, ["a"], ["b", "c"], [], 2 },
        { "filtered snapshot deleting nothing: nothing withheld", true, true, ["a"], [], [], 0 },
        { "whole delta: named deletes apply", false, false, ["a"], ["b"], ["b"], 0 },
        { "filtered delta: named deletes still apply", false, true, ["a"], ["b"], ["b"], 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Apply_Answer_WithholdsOnlyAFilteredSnapshotsDeletes(string scenario, bool snapshot, bool filtered, string[] upserts,
        string[] deletes, string[] applied, int withheld)
    {
        var round = FilteredRound.Apply(snapshot, filtered, upserts, deletes);
        Assert.False(string.IsNullOrEmpty(scenario));
        Assert.Equal(upserts, round.Upserts); // what the token could read always applies
        Assert.Equal(applied, round.Deletes);
        Assert.Equal(withheld, round.Withheld);
    }

    public static TheoryData<string, ulong, bool, ulong> NextRequests() => new()
    {
        // scenario, applied index, last answer filtered -> index asked from (the epoch is always the applied one)
        { "whole answer: a delta from the applied index", 42, false, 42 },
        { "filtered answer: a snapshot (index 0), so skipped entries arrive once readable", 42, true, 0 },
        { "never synced, whole: index 0 already asks a snapshot", 0, false, 0 },
        { "never synced, filtered: still a snapshot", 0, true, 0 },
    };

    [Theory]
    [MemberData(nameof(NextRequests))]
    public void NextRequest_LastAnswer_AsksSnapshotWhileFiltered(string scenario, ulong applied, bool filtered, ulong asked)
    {
        var next = FilteredRound.NextRequest(new ReplicationPosition(applied, "e1"), filtered);
        Assert.False(string.IsNullOrEmpty(scenario));
        Assert.Equal(new ReplicationPosition(asked, "e1"), next);
    }

    [Theory]
    [InlineData(2, 2)]      // a test's short poll: as is
    [InlineData(30, 30)]    // at the cap
    [InlineData(300, 30)]   // the 5-minute default: capped, so a fixed token shows within 30 s
    public void ResyncWait_PollWait_CappedAt30Seconds(int pollSeconds, int expectedSeconds)
        => Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), FilteredRound.ResyncWait(TimeSpan.FromSeconds(pollSeconds)));
}
