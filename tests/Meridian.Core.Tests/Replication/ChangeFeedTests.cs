using Meridian.Core.Federation;
using Meridian.Core.Replication;

namespace Meridian.Core.Tests.Replication;

[Trait("Category", "Unit")]
public sealed class ChangeFeedTests
{
    private const string E = "epoch-a";

    // A feed of epoch E started at index 10, then changes 11 {a}, 12 {b, c}, 13 {a}.
    private static ChangeFeed Feed(int maxLoggedKeys = ChangeFeed.DefaultMaxLoggedKeys)
    {
        var feed = new ChangeFeed(E, 10, maxLoggedKeys);
        feed.Record(11, ["a"]);
        feed.Record(12, ["b", "c"]);
        feed.Record(13, ["a"]);
        return feed;
    }

    public static TheoryData<string, ulong, string, SnapshotReason, string[]> Cases() => new()
    {
        { "one change behind -> its keys", 12, E, SnapshotReason.None, ["a"] },
        { "several changes behind -> every key once", 10, E, SnapshotReason.None, ["a", "b", "c"] },
        { "up to date -> empty delta", 13, E, SnapshotReason.None, [] },
        { "no epoch known -> trusted on the index", 11, "", SnapshotReason.None, ["a", "b", "c"] },
        { "holds nothing -> snapshot", 0, E, SnapshotReason.NothingHeld, [] },
        { "another epoch, even at the same index -> snapshot", 13, "epoch-b", SnapshotReason.OtherEpoch, [] },
        { "ahead of the feed -> snapshot", 14, E, SnapshotReason.IndexAhead, [] },
        { "before where the feed started -> snapshot", 9, E, SnapshotReason.OlderThanHorizon, [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Since_Position_DeltaOrSnapshotWithReason(string scenario, ulong index, string epoch, SnapshotReason reason, string[] keys)
    {
        var changes = Feed().Since(new ReplicationPosition(index, epoch));
        Assert.False(string.IsNullOrEmpty(scenario));
        Assert.Equal(reason, changes.Snapshot);
        Assert.Equal(reason != SnapshotReason.None, changes.IsSnapshot);
        Assert.Equal(keys, changes.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Record_BeyondMaxLoggedKeys_DropsOldestAndRaisesHorizon()
    {
        // 4 keys logged with room for 3: the record of 11 goes, so 11 is the horizon.
        var feed = Feed(maxLoggedKeys: 3);
        Assert.Equal(11UL, feed.Horizon);
        Assert.Equal(SnapshotReason.OlderThanHorizon, feed.Since(new(10, E)).Snapshot);
        Assert.Equal(["a", "b", "c"], feed.Since(new(11, E)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Record_OneRecordLargerThanTheLog_KeepsIt()
    {
        var feed = new ChangeFeed(E, 0, maxLoggedKeys: 2);
        feed.Record(1, ["a"]);
        feed.Record(2, ["b", "c", "d"]);
        Assert.Equal(1UL, feed.Horizon);
        Assert.Equal(["b", "c", "d"], feed.Since(new(1, E)).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Record_IndexNotAhead_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => Feed().Record(13, ["x"]));

    [Theory]
    [InlineData(13, E, true)]
    [InlineData(13, "", true)]
    [InlineData(12, E, false)]
    [InlineData(13, "epoch-b", false)]
    public void IsUpToDate_Position_OnlyAtTheIndexOfThisEpoch(ulong index, string epoch, bool upToDate)
        => Assert.Equal(upToDate, Feed().IsUpToDate(new(index, epoch)));

    [Fact]
    public void Resolve_Delta_UpsertsWhatIsHeldAndDeletesTheRest()
    {
        var held = new Dictionary<string, string> { ["a"] = "entry a" };
        var (upserts, deletes) = Feed().Since(new(11, E)).Resolve(k => held.GetValueOrDefault(k));
        Assert.Equal(["entry a"], upserts);
        Assert.Equal(["b", "c"], deletes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Position_AfterRecords_IsLatestIndexAndEpoch()
        => Assert.Equal(new ReplicationPosition(13, E), Feed().Position);
}
