using Meridian.Core.Replication;

namespace Meridian.Core.Tests.Replication;

[Trait("Category", "Unit")]
public sealed class ReplicaDiffTests
{
    // A replicated type the diff knows nothing about: the diff reads it only through the shape.
    public sealed record Item(string Key, string Content, ulong ModifyIndex);

    private static readonly ReplicaShape<Item, string> Shape = new(i => i.Key, StringComparer.Ordinal, i => i.Content, i => i.ModifyIndex);

    public static TheoryData<string, Item[], Item[], ulong, ulong, string[], string[], int, bool> Cases() => new()
    {
        { "local only -> delete", [new("a", "x", 5)], [], 10, 10, ["a"], [], 0, false },
        { "remote only -> upsert", [], [new("a", "x", 5)], 10, 12, [], ["a"], 0, false },
        { "same content -> unchanged", [new("a", "x", 5)], [new("a", "x", 11)], 10, 12, [], [], 1, false },
        { "changed after the last index -> upsert", [new("a", "x", 5)], [new("a", "y", 11)], 10, 12, [], ["a"], 0, false },
        { "changed but not since the last index -> unchanged", [new("a", "x", 5)], [new("a", "y", 9)], 10, 12, [], [], 1, false },
        { "index went back -> compared by content", [new("a", "x", 50), new("b", "x", 50)], [new("a", "y", 3), new("b", "x", 3)], 100, 7, [], ["a"], 1, true },
        { "unsorted inputs -> key order", [new("z", "x", 5), new("a", "x", 5)], [new("m", "x", 11), new("c", "x", 11)], 10, 12, ["a", "z"], ["c", "m"], 0, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compute_Inputs_DeletesUpsertsAndUnchanged(string scenario, Item[] local, Item[] remote,
        ulong lastRemoteIndex, ulong remoteIndex, string[] deletes, string[] upserts, int unchanged, bool fullResync)
    {
        var diff = ReplicaDiff.Compute(local, remote, Shape, lastRemoteIndex, remoteIndex);
        Assert.False(string.IsNullOrEmpty(scenario));
        Assert.Equal(deletes, diff.Deletes.Select(i => i.Key));
        Assert.Equal(upserts, diff.Upserts.Select(i => i.Key));
        Assert.Equal(unchanged, diff.Unchanged);
        Assert.Equal(fullResync, diff.FullResync);
    }
}
