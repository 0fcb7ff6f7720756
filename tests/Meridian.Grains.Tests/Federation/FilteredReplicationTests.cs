namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// "A filtered round deletes nothing" in a secondary's registry (Meridian.Core.Replication.FilteredRound): a snapshot
/// the primary filtered by the replication token's permissions leaves what it does not show in place; Consul's
/// replicators delete it.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class FilteredReplicationTests
{
    private const string Epoch = "0123456789abcdef0123456789abcdef";

    private static IntentionEntryDto Entry(string destination, string source, ulong index) => new()
    {
        Name = destination, Namespace = "default", Partition = "default", CreateIndex = index, ModifyIndex = index,
        Sources = [new SourceIntentionDto { Name = source, Namespace = "default", Partition = "default", Action = "allow", Type = "consul" }],
    };

    private static async Task<string[]> DestinationsAsync(DatacenterCluster dc)
        => [.. (await dc.Registry.ListAsync()).Intentions.Select(i => i.DestinationName).Distinct().Order(StringComparer.Ordinal)];

    [Fact]
    public async Task ApplyReplicated_FilteredSnapshot_DeletesNothing_WholeSnapshotAndFilteredDelta_Delete()
    {
        // A secondary whose link never connects: its replicator makes no round, the test plays the primary's answers.
        await using var dc2 = await DatacenterCluster.StartAsync("dc2", "dc1", new TestPrimaryLink("dc1"));
        var registry = dc2.Registry;
        var first = await registry.ApplyReplicatedAsync(new IntentionChangesDto
        {
            Index = 5, Epoch = Epoch, IsSnapshot = true, Upserts = [Entry("db", "web", 3), Entry("cache", "web", 4), Entry("queue", "api", 5)],
        }, adoptPrimaryState: false);
        Assert.Equal((3, 0), (first.Changes, first.WithheldDeletes));

        // The token cannot read db and queue: the primary's snapshot leaves them out and says so.
        var filtered = await registry.ApplyReplicatedAsync(new IntentionChangesDto
        {
            Index = 6, Epoch = Epoch, IsSnapshot = true, FilteredByAcls = true, Upserts = [Entry("cache", "api", 6)],
        }, adoptPrimaryState: false);
        Assert.Null(filtered.Held);
        Assert.Equal((1, 2), (filtered.Changes, filtered.WithheldDeletes));
        Assert.Equal(["cache", "db", "queue"], await DestinationsAsync(dc2));
        Assert.Equal(new IntentionPositionDto(6, Epoch), await registry.GetReplicatedPositionAsync());

        // A delta names its deletes (the primary removed the key): applied even when filtered.
        var delta = await registry.ApplyReplicatedAsync(new IntentionChangesDto
        {
            Index = 7, Epoch = Epoch, FilteredByAcls = true, DeletedDestinations = ["default/default/queue"],
        }, adoptPrimaryState: false);
        Assert.Equal((1, 0), (delta.Changes, delta.WithheldDeletes));
        Assert.Equal(["cache", "db"], await DestinationsAsync(dc2));

        // With the token fixed, the whole snapshot deletes what the primary no longer holds.
        var whole = await registry.ApplyReplicatedAsync(new IntentionChangesDto
        {
            Index = 8, Epoch = Epoch, IsSnapshot = true, Upserts = [Entry("cache", "api", 6)],
        }, adoptPrimaryState: false);
        Assert.Equal((1, 0), (whole.Changes, whole.WithheldDeletes));
        Assert.Equal(["cache"], await DestinationsAsync(dc2));
    }
}
