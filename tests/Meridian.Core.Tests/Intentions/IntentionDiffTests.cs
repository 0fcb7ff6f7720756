using Meridian.Core.Intentions;
using static Meridian.Core.Tests.Intentions.IntentionTestData;

namespace Meridian.Core.Tests.Intentions;

[Trait("Category", "Unit")]
public sealed class IntentionDiffTests
{
    private static ServiceIntentionsEntry E(string name, ulong modifyIndex, IntentionAction action = IntentionAction.Allow, string ns = "")
        => Valid(EntryIn(ns, name, Src("web", action))) with { CreateIndex = 1, ModifyIndex = modifyIndex };

    public static TheoryData<string, ServiceIntentionsEntry[], ServiceIntentionsEntry[], ulong, ulong, string[], string[], int, bool> Cases() => new()
    {
        { "local only -> delete", [E("db", 5)], [], 10, 10, ["db"], [], 0, false },
        { "remote only -> upsert", [], [E("db", 5)], 10, 12, [], ["db"], 0, false },
        { "both, same content -> unchanged", [E("db", 5)], [E("db", 11)], 10, 12, [], [], 1, false },
        { "both, changed after last index -> upsert", [E("db", 5)], [E("db", 11, IntentionAction.Deny)], 10, 12, [], ["db"], 0, false },
        { "both, different but not modified since last index -> unchanged", [E("db", 5)], [E("db", 9, IntentionAction.Deny)], 10, 12, [], [], 1, false },
        { "first round (last index 0) compares by hash", [E("db", 5)], [E("db", 3, IntentionAction.Deny)], 0, 12, [], ["db"], 0, false },
        { "index went backwards -> full resync by hash", [E("db", 50), E("api", 50)], [E("db", 3, IntentionAction.Deny), E("api", 3)], 100, 7, [], ["db"], 1, true },
        { "index went backwards, same content -> unchanged", [E("db", 50)], [E("db", 3)], 100, 7, [], [], 1, true },
        { "key includes namespace", [E("db", 5, ns: "ops")], [E("db", 5)], 10, 10, ["db"], ["db"], 0, false },
        {
            "mixed, unsorted inputs",
            [E("zeta", 5), E("alpha", 5), E("mid", 5)],
            [E("mid", 11, IntentionAction.Deny), E("beta", 11), E("zeta", 11)],
            10, 12, ["alpha"], ["beta", "mid"], 1, false
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compute_Inputs_ProducesDeletesUpsertsAndUnchanged(string scenario, ServiceIntentionsEntry[] local, ServiceIntentionsEntry[] remote,
        ulong lastRemoteIndex, ulong remoteIndex, string[] deletes, string[] upserts, int unchanged, bool fullResync)
    {
        var diff = IntentionDiff.Compute(local, remote, lastRemoteIndex, remoteIndex);
        Assert.False(string.IsNullOrEmpty(scenario));
        Assert.Equal(deletes, diff.Deletes.Select(e => e.Name));
        Assert.Equal(upserts, diff.Upserts.Select(e => e.Name));
        Assert.Equal(unchanged, diff.Unchanged);
        Assert.Equal(fullResync, diff.FullResync);
    }

    [Fact]
    public void Compute_Upsert_CarriesRemoteEntry()
    {
        var remote = E("db", 11, IntentionAction.Deny);
        var diff = IntentionDiff.Compute([E("db", 5)], [remote], 10, 12);
        Assert.Same(remote, Assert.Single(diff.Upserts));
    }

    [Fact]
    public void ContentHash_IndexesDiffer_SameHash()
        => Assert.Equal(IntentionDiff.ContentHash(E("db", 5)), IntentionDiff.ContentHash(E("db", 500) with { CreateIndex = 77 }));

    [Fact]
    public void ContentHash_MetaInsertionOrder_SameHash()
    {
        var a = E("db", 1) with { Meta = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } };
        var b = E("db", 1) with { Meta = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } };
        Assert.Equal(IntentionDiff.ContentHash(a), IntentionDiff.ContentHash(b));
    }

    [Fact]
    public void ContentHash_UnnormalizedAndNormalized_SameHash()
        => Assert.Equal(IntentionDiff.ContentHash(Entry("db", Src("web"))), IntentionDiff.ContentHash(Valid(Entry("db", Src("web")))));

    public static TheoryData<ServiceIntentionsEntry, string> ContentChanges() => new()
    {
        { E("db", 1) with { Name = "db2" }, "name" },
        { E("db", 1) with { Namespace = "ops" }, "namespace" },
        { E("db", 1) with { Meta = new Dictionary<string, string> { ["k"] = "v" } }, "meta" },
        { Valid(Entry("db", Src("web", IntentionAction.Deny))), "action" },
        { Valid(Entry("db", Src("web", srcDc: "dc1"))), "source datacenter" },
        { Valid(Entry("db", Src("web", dstDc: "dc1"))), "destination datacenter" },
        { Valid(Entry("db", Src("web") with { Description = "x" })), "description" },
        { Valid(Entry("db", Src("web"), Src("api"))), "extra source" },
        { Valid(Entry("db", L7("web"))), "permissions" },
        { Valid(Entry("db", Src("webx"))), "source name" },
    };

    [Theory]
    [MemberData(nameof(ContentChanges))]
    public void ContentHash_ContentChanged_DifferentHash(ServiceIntentionsEntry changed, string what)
    {
        Assert.NotEqual(IntentionDiff.ContentHash(E("db", 1)), IntentionDiff.ContentHash(changed));
        Assert.NotEmpty(what);
    }

    [Fact]
    public void ContentHash_Value_IsLowerHexSha256()
        => Assert.Matches("^[0-9a-f]{64}$", IntentionDiff.ContentHash(E("db", 1)));
}
