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
}
