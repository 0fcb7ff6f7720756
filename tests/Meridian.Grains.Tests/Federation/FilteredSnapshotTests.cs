namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// A primary with ACLs on answers a replication token without <c>intention:read</c> on some destinations a feed that
/// leaves them out and says so (<see cref="IntentionChangesDto.FilteredByAcls"/>, docs/acl.md): a secondary applying
/// such a snapshot must not take the missing entries for deleted ones (Consul's replication does).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class FilteredSnapshotTests
{
    private static IntentionEntryDto Entry(string destination, ulong index) => new()
    {
        Name = destination, Namespace = "default", Partition = "default", CreateIndex = index, ModifyIndex = index,
        Sources = [new SourceIntentionDto { Name = "web", Namespace = "default", Partition = "default", Action = "allow", Type = "consul" }],
    };

    [Fact]
    public async Task FilteredSnapshot_LeavesOutADestination_SecondaryDeletesNothing_AnUnfilteredOneDoes()
    {
        // A secondary whose link never connects: only the rounds applied here reach its registry.
        await using var dc2 = await DatacenterCluster.StartAsync("dc2", "dc1", new TestPrimaryLink("dc1"));
        const string epoch = "primary-epoch";
        await dc2.Registry.ApplyReplicatedAsync(new IntentionChangesDto
            { Index = 2, Epoch = epoch, IsSnapshot = true, Upserts = [Entry("api", 1), Entry("db", 2)] }, adoptPrimaryState: false);

        var filtered = await dc2.Registry.ApplyReplicatedAsync(new IntentionChangesDto
            { Index = 3, Epoch = epoch, IsSnapshot = true, FilteredByAcls = true, Upserts = [Entry("api", 1)] }, adoptPrimaryState: false);

        Assert.Null(filtered.Held);
        Assert.Equal(["api", "db"], (await dc2.Registry.ListAsync()).Intentions.Select(i => i.DestinationName).Order());
        Assert.Equal(3ul, await dc2.Registry.GetReplicatedIndexAsync());

        // The same snapshot unfiltered is the whole state: db is gone in the primary.
        await dc2.Registry.ApplyReplicatedAsync(new IntentionChangesDto
            { Index = 4, Epoch = epoch, IsSnapshot = true, Upserts = [Entry("api", 1)] }, adoptPrimaryState: false);
        Assert.Equal(["api"], (await dc2.Registry.ListAsync()).Intentions.Select(i => i.DestinationName));
    }
}
