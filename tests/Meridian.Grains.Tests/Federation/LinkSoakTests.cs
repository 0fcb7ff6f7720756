namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// The link to the primary drops and returns again and again while the primary keeps changing intentions (creates,
/// updates, deletes): after every return the secondary catches up, and in the end it lists exactly what the primary
/// lists. While the link is down the secondary keeps deciding from its last replicated state.
/// </summary>
[Collection(FederationCollection.Name), Trait("Category", "Cluster")]
public sealed class LinkSoakTests(TwoDatacenterFixture fx)
{
    private const int Cycles = 6;
    private const int WritesPerOutage = 25;
    private const int Destinations = 11; // odd: i % 2 and i % 11 name 22 distinct source/destination pairs

    [Fact]
    public async Task RepeatedLinkDrops_WhileThePrimaryWrites_SecondaryCatchesUpEveryTime()
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        string Src(int i) => $"soak-{run}-src{i % 2}";
        string Dst(int i) => $"soak-{run}-dst{i % Destinations}";
        var roots = await fx.FollowedRootsAsync();
        var link = fx.Dc2.Link!;
        var random = new Random(42);
        var writes = 0;

        // One write: create or flip an intention, or delete it (a third of the time), on a small set of pairs so the
        // same entries change many times across outages and destinations lose their last source (a whole-entry delete).
        async Task<ulong> WriteAsync()
        {
            var i = random.Next(2 * Destinations);
            var index = random.Next(3) == 0
                ? (await fx.Dc1.Registry.DeleteAsync(new() { Source = Src(i), Destination = Dst(i) })).Index
                : (await fx.Dc1.Registry.UpsertAsync(new()
                {
                    SourceName = Src(i), DestinationName = Dst(i), Action = random.Next(2) == 0 ? "allow" : "deny",
                    Description = $"write {writes}",
                })).Index;
            writes++;
            return index;
        }

        try
        {
            for (var cycle = 0; cycle < Cycles; cycle++)
            {
                var before = await fx.Dc2.Registry.GetReplicatedIndexAsync();
                link.Disconnect();
                ulong last = 0;
                for (var w = 0; w < WritesPerOutage; w++) last = Math.Max(last, await WriteAsync());

                // Still deciding from local state: whatever dc2 holds for a destination, authorize answers from it.
                var local = (await fx.Dc2.Registry.ListAsync()).Intentions.FirstOrDefault(x => x.SourceName.StartsWith($"soak-{run}", StringComparison.Ordinal));
                if (local is not null)
                {
                    var decision = await fx.Dc2.Authorizer.AuthorizeAsync(new()
                    {
                        Target = local.DestinationName,
                        ClientCertURI = $"spiffe://{roots.TrustDomain}/ns/default/dc/dc2/svc/{local.SourceName}",
                    });
                    Assert.Equal(local.Action == "allow", decision.Authorized);
                }
                Assert.Equal(before, await fx.Dc2.Registry.GetReplicatedIndexAsync()); // nothing arrives while the link is down

                link.Connect();
                // Writes go on right after the return, racing the catch-up round.
                for (var w = 0; w < 5; w++) last = Math.Max(last, await WriteAsync());
                await fx.Dc2.WaitForReplicatedAsync(last);
            }
        }
        finally
        {
            link.Connect();
        }

        await IntentionContent.ConvergedAsync(fx.Dc1, fx.Dc2);
        await IntentionContent.ConvergedAsync(fx.Dc1, fx.Dc3); // dc3's link never dropped
        var status = await fx.Dc2.Replicator.GetStatusAsync();
        Assert.True(status.LastSuccess > status.LastError, $"LastSuccess {status.LastSuccess:O} not after LastError {status.LastError:O}: {status.LastErrorMessage}");
        Assert.Equal(0ul, status.Lag);
        Assert.Equal(Cycles * (WritesPerOutage + 5), writes);
    }
}
