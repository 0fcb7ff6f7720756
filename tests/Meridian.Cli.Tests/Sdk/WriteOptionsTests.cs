using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli.Tests.Sdk;

/// <summary>Read-your-writes as an SDK write option (what <c>--wait-replicated</c> passes through).</summary>
[Trait("Category", "Unit")]
public sealed class WriteOptionsTests
{
    private static readonly IntentionDto Intention = new() { SourceName = "web", DestinationName = "db", Action = "allow" };

    [Fact]
    public async Task ReadYourWrites_WriteThroughSecondary_WaitsForThePrimaryIndex()
    {
        var client = new FakeMeridianClient { CommittedIn = "dc0" };
        IMeridianClient sdk = client;
        var result = await sdk.UpsertIntentionAsync(Intention, new WriteOptions { ReadYourWrites = true });
        Assert.Equal(42UL, result.Index);
        Assert.Equal(("wait-replicated", 42UL), client.Last<(string, ulong)>());
    }

    [Fact]
    public async Task Default_DoesNotWait()
    {
        var client = new FakeMeridianClient { CommittedIn = "dc0" };
        IMeridianClient sdk = client;
        await sdk.DeleteIntentionAsync(new IntentionRefDto { Source = "web", Destination = "db" }, WriteOptions.Default);
        Assert.Empty(client.Requests.OfType<(string, ulong)>());
    }

    [Fact]
    public async Task ReadYourWrites_NotReplicatedInTime_ThrowsUnavailableNamingTheIndex()
    {
        IMeridianClient sdk = new FakeMeridianClient { CommittedIn = "dc0", Replicated = false };
        var error = await Assert.ThrowsAsync<ReplicationWaitTimeoutException>(() =>
            sdk.UpsertIntentionAsync(Intention, new WriteOptions { ReadYourWrites = true, MaxWait = TimeSpan.FromSeconds(30) }));
        Assert.Equal(("dc0", 42UL), (error.CommittedIn, error.Index));
        var failure = MeridianFailure.Classify(error);
        Assert.Equal(MeridianErrorKind.Unavailable, failure.Kind);
        Assert.Equal("written in dc0 at index 42, but not replicated into dc1 within 30s", failure.Message);
    }

    [Fact]
    public async Task Cli_WaitReplicatedTimeout_ExitsUnreachableWithTheSdkMessage()
    {
        var cli = new CliHarness();
        cli.Client.CommittedIn = "dc0";
        cli.Client.Replicated = false;
        var result = await cli.RunAsync("intention", "delete", "--source", "web", "--destination", "db", "--wait-replicated");
        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Equal("meridian: written in dc0 at index 43, but not replicated into dc1 within 1m0s", Assert.Single(result.ErrorLines));
    }
}
