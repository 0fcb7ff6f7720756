using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli.Tests.Sdk;

/// <summary>
/// The SDK's blocking calls against a real silo (the ACL fixture's, as the management token): answered at once for
/// index 0, when the index passes, or with the current value when the wait ends; never an index of 0.
/// </summary>
[Collection(AclSiloCollection.Name), Trait("Category", "Cluster")]
public sealed class SdkWatchTests(AclSiloFixture fx)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private Task<MeridianConnection> ConnectAsync() => new HostedMeridianClientFactory().ConnectAsync(new MeridianClientOptions
    {
        Gateways = [fx.Gateway], Datacenter = "dc1", Token = fx.ManagementSecret, ConnectTimeout = TimeSpan.FromSeconds(20),
    });

    [Fact]
    public async Task WatchIntentions_AnswersWhenAWriteMovesTheIndex_WithTheNewList()
    {
        await using var connection = await ConnectAsync();
        var client = connection.Client;
        var now = await client.WatchIntentionsAsync(0, TimeSpan.FromMinutes(5)).WaitAsync(Deadline);
        Assert.True(now.Index >= 1);

        var watch = client.WatchIntentionsAsync(now.Index, TimeSpan.FromMinutes(1));
        var destination = $"db-{Guid.NewGuid():N}"[..16];
        var written = await client.UpsertIntentionAsync(new IntentionDto { SourceName = "web", DestinationName = destination, Action = "allow" });
        var changed = await watch.WaitAsync(Deadline);
        Assert.True(changed.Index > now.Index, $"index {changed.Index} after {now.Index}");
        Assert.True(changed.Index >= written.Index);
        Assert.Contains(changed.Value.Intentions, i => i.DestinationName == destination);
    }

    [Fact]
    public async Task WatchIntentions_NothingChanges_AnswersTheCurrentListWhenTheWaitEnds()
    {
        await using var connection = await ConnectAsync();
        var client = connection.Client;
        var now = await client.WatchIntentionsAsync(0, TimeSpan.Zero).WaitAsync(Deadline);
        var same = await client.WatchIntentionsAsync(now.Index, TimeSpan.FromMilliseconds(300)).WaitAsync(Deadline);
        Assert.Equal(now.Index, same.Index);
        Assert.Equal(now.Value.Intentions.Select(i => i.DestinationName), same.Value.Intentions.Select(i => i.DestinationName));
    }

    [Fact]
    public async Task WatchIntentions_IndexAheadOfTheStore_AnswersAtOnceSoTheCallerStartsOver()
    {
        await using var connection = await ConnectAsync();
        var client = connection.Client;
        var now = await client.WatchIntentionsAsync(0, TimeSpan.Zero).WaitAsync(Deadline);
        // A ten-minute wait that must not be served: the index went backwards (as after a rebuilt store).
        var answer = await client.WatchIntentionsAsync(now.Index + 1_000_000, TimeSpan.FromMinutes(10)).WaitAsync(Deadline);
        Assert.True(answer.Index < now.Index + 1_000_000);
    }

    [Fact]
    public async Task WatchCaRoots_AnswersWhenTheRootRotates_WithTheNewActiveRoot()
    {
        await using var connection = await ConnectAsync();
        var client = connection.Client;
        var now = await client.WatchCaRootsAsync(0, TimeSpan.FromMinutes(5)).WaitAsync(Deadline);
        Assert.True(now.Index >= 1);
        Assert.NotEmpty(now.Value.Roots);

        var unchanged = await client.WatchCaRootsAsync(now.Index, TimeSpan.FromMilliseconds(300)).WaitAsync(Deadline);
        Assert.Equal((now.Index, now.Value.ActiveRootID), (unchanged.Index, unchanged.Value.ActiveRootID));

        var watch = client.WatchCaRootsAsync(now.Index, TimeSpan.FromMinutes(1));
        var rotated = await client.RotateCaAsync();
        var changed = await watch.WaitAsync(Deadline);
        Assert.True(changed.Index > now.Index, $"index {changed.Index} after {now.Index}");
        // The watch may wake at the rotation's first write (the new root staged) or its last: poll to the active one.
        using var deadline = new CancellationTokenSource(Deadline);
        var latest = changed;
        while (latest.Value.ActiveRootID != rotated.ActiveRootID)
            latest = await client.WatchCaRootsAsync(latest.Index, TimeSpan.FromSeconds(30), deadline.Token);
        Assert.Contains(latest.Value.Roots, r => r.ID == now.Value.ActiveRootID);
    }

    [Fact]
    public async Task Certificate_WaitWithTheKnownSerial_AnswersTheCurrentOneWhenTheWaitEnds()
    {
        await using var connection = await ConnectAsync();
        var client = connection.Client;
        var service = $"svc-{Guid.NewGuid():N}"[..16];
        var issued = await client.GetCertificateAsync(service).WaitAsync(Deadline);
        var again = await client.GetCertificateAsync(service, issued.SerialNumber, TimeSpan.FromMilliseconds(300)).WaitAsync(Deadline);
        Assert.Equal(issued.SerialNumber, again.SerialNumber);
    }

    [Fact]
    public async Task Pool_LocalDatacenter_IsTheConnectedOne_UnknownOneIsNoPath()
    {
        await using var pool = new MeridianClientPool(new HostedMeridianClientFactory(), new MeridianClientOptions
        {
            Gateways = [fx.Gateway], Datacenter = "dc1", Token = fx.ManagementSecret, ConnectTimeout = TimeSpan.FromSeconds(20),
        });
        var local = await pool.GetAsync();
        Assert.Same(local, await pool.GetAsync("dc1"));
        Assert.Equal("dc1", (await local.GetStatusAsync()).Datacenter);
        var error = await Assert.ThrowsAsync<UnknownDatacenterException>(() => pool.GetAsync("dc9"));
        Assert.Equal("dc9", error.Datacenter);
    }
}
