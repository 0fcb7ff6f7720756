namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// Read-your-writes across datacenters: once <c>WaitForReplicatedAsync</c> says a secondary applied a primary index,
/// the secondary's reads show that write, even while the round that applies it is still persisting.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ReplicatedVisibilityTests
{
    [Fact]
    public async Task WaitForReplicated_AnswersOnlyOnceTheRoundIsVisible_NotWhileItsWritesAreInFlight()
    {
        var secondaryStore = new DatacenterStore("dc2");
        await using var primary = await DatacenterCluster.StartAsync("dc1", "dc1");
        await using var secondary = await DatacenterCluster.StartSecondaryAsync("dc2", primary, secondaryStore);
        var first = await primary.Registry.UpsertAsync(new() { SourceName = "web", DestinationName = "api", Action = "allow" });
        await secondary.WaitForReplicatedAsync(first.Index);

        // dc2's database is slow: its next intention-entry write waits for the gate.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        secondaryStore.BeforeWrite = type =>
        {
            if (type != typeof(Meridian.Grains.Intentions.IntentionGrainState)) return Task.CompletedTask;
            held.TrySetResult();
            return gate.Task;
        };
        var write = await primary.Registry.UpsertAsync(new() { SourceName = "web", DestinationName = "db", Action = "deny" });
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30)); // dc2's round is applying the write now

        var reader = Task.Run(async () =>
        {
            var reached = await secondary.Registry.WaitForReplicatedAsync(write.Index, TimeSpan.FromSeconds(30));
            return (reached, list: await secondary.Registry.ListAsync());
        });
        // Opened when the reader is done or after a few seconds, whichever comes first: a reader answered while the
        // round's writes are held has seen a position its reads do not show yet.
        await Task.WhenAny(reader, Task.Delay(TimeSpan.FromSeconds(3)));
        gate.TrySetResult();
        var (reached, list) = await reader;

        Assert.True(reached, "dc2 did not apply the write");
        Assert.Contains(list.Intentions, i => i.DestinationName == "db" && i.Action == "deny");
    }
}
