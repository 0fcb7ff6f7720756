using Meridian.Core.Intentions;
using static Meridian.Core.Tests.Intentions.IntentionTestData;

namespace Meridian.Core.Tests.Intentions;

[Trait("Category", "Unit")]
public sealed class DestinationMatchIndexTests
{
    private static string[] Sources(DestinationMatchIndex index, string ns, string name)
        => [.. index.ForDestination(ns, name).Select(i => $"{i.SourceNS}/{i.SourceName}=>{i.DestinationNS}/{i.DestinationName}")];

    [Fact]
    public void Create_NamedDestinations_EachHasItsOwnSortedList()
    {
        var index = DestinationMatchIndex.Create(
        [
            Valid(Entry("db", Src("*", IntentionAction.Deny), Src("web"))),
            Valid(Entry("api", Src("web"))),
        ], 7);

        Assert.Equal(7UL, index.Index);
        Assert.Equal(2, index.EntryCount);
        Assert.Equal(["default/web=>default/db", "default/*=>default/db"], Sources(index, "default", "db"));
        Assert.Equal(["default/web=>default/api"], Sources(index, "", "api"));
        Assert.Empty(index.ForDestination("default", "unknown"));
    }

    [Fact]
    public void Wildcards_FeedTheListsOfTheirNamespace_AndOfEveryNamespace()
    {
        var index = DestinationMatchIndex.Create(
        [
            Valid(Entry("db", Src("web"))),
            Valid(EntryIn("default", "*", Src("ops"))),
            Valid(EntryIn("*", "*", Src("audit", IntentionAction.Deny))),
        ], 3);

        Assert.Equal(["default/web=>default/db", "default/ops=>default/*", "default/audit=>*/*"], Sources(index, "default", "db"));
        // A destination without its own entry falls back to the namespace wildcard's list, then to */*.
        Assert.Equal(["default/ops=>default/*", "default/audit=>*/*"], Sources(index, "default", "cache"));
        Assert.Equal(["default/audit=>*/*"], Sources(index, "finance", "ledger"));
    }

    [Fact]
    public void Apply_WildcardChange_RecomputesTheNamedListsItFeeds()
    {
        var index = DestinationMatchIndex.Create([Valid(Entry("db", Src("web")))], 1);
        var withWildcard = index.Apply([Valid(EntryIn("*", "*", Src("audit")))], [], 2);
        Assert.Equal(["default/web=>default/db", "default/audit=>*/*"], Sources(withWildcard, "default", "db"));

        var removed = withWildcard.Apply([], [DestinationMatchIndex.KeyOf("*", "*")], 3);
        Assert.Equal(["default/web=>default/db"], Sources(removed, "default", "db"));
        Assert.Empty(removed.ForDestination("finance", "ledger"));
    }

    [Fact]
    public void Apply_Delete_RemovesTheEntryAndItsList()
    {
        var index = DestinationMatchIndex.Create([Valid(Entry("db", Src("web"))), Valid(Entry("api", Src("web")))], 4);
        var after = index.Apply([], [DestinationMatchIndex.KeyOf("default", "db"), DestinationMatchIndex.KeyOf("default", "absent")], 5);

        Assert.Equal(5UL, after.Index);
        Assert.Equal(1, after.EntryCount);
        Assert.Null(after.Find("default/default/db"));
        Assert.Empty(after.ForDestination("default", "db"));
        Assert.Equal(["default/web=>default/api"], Sources(after, "default", "api"));
    }

    [Fact]
    public void Apply_ReturnsANewSnapshot_AndLeavesTheOldOneUnchanged()
    {
        var before = DestinationMatchIndex.Create([Valid(Entry("db", Src("web")))], 1);
        var oldList = before.ForDestination("default", "db");

        var after = before.Apply([Valid(Entry("db", Src("web", IntentionAction.Deny), Src("api")))], [], 2);

        Assert.Equal(1UL, before.Index);
        Assert.Equal(oldList, before.ForDestination("default", "db"));
        Assert.Equal(IntentionAction.Allow, Assert.Single(before.ForDestination("default", "db")).Action);
        Assert.Equal(2, after.ForDestination("default", "db").Length);
        Assert.Equal(IntentionAction.Deny, after.ForDestination("default", "db").Single(i => i.SourceName == "web").Action);
    }

    [Fact]
    public void Find_AndKeyOf_UsePartitionNamespaceName()
    {
        var entry = Valid(EntryIn("finance", "ledger", Src("web")));
        var index = DestinationMatchIndex.Create([entry], 1);

        Assert.Equal("default/finance/ledger", DestinationMatchIndex.KeyOf(entry));
        Assert.Equal("default/finance/ledger", DestinationMatchIndex.KeyOf("finance", "ledger"));
        Assert.Equal("default/default/db", DestinationMatchIndex.KeyOf("", "db"));
        Assert.Same(entry, index.Find("default/finance/ledger"));
        Assert.Null(index.Find("default/default/ledger"));
        Assert.Throws<FormatException>(() => index.Find("ledger"));
    }
}
