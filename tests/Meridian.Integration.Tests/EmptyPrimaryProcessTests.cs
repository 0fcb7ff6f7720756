using System.Text.Json;
using Meridian.Integration.Tests.Processes;
using static Meridian.Integration.Tests.Federation;

namespace Meridian.Integration.Tests;

/// <summary>
/// Issue 12 §3: dc1 restarted on an empty PostgreSQL database, as real silo processes, seen and fixed through the
/// <c>meridian</c> CLI as an operator would: dc2 keeps every intention, its status shows the hold and the diff, and
/// <c>meridian replication adopt</c> applies the empty state once; later changes flow normally.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class EmptyPrimaryProcessTests(FederatedSilosFixture fx) : IClassFixture<FederatedSilosFixture>
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    private readonly string _id = Guid.NewGuid().ToString("N")[..10];

    private Task<CommandResult> Dc2Cli(params string[] args) => Cli.RunAsync(["--gateway", fx.Dc2Gateway, "--datacenter", "dc2", .. args]);

    private static JsonElement? Intentions(JsonElement list)
    {
        foreach (var r in list.EnumerateArray())
            if (r.GetProperty("ReplicationType").GetString() == "intentions") return r;
        return null;
    }

    [Fact]
    public async Task PrimaryRestartedOnEmptyDatabase_SecondaryKeepsEveryIntention_ShowsTheDiff_AdoptAppliesIt()
    {
        await fx.EnsureUpAsync();
        var (web, api, db, cache) = ($"web-{_id}", $"api-{_id}", $"db-{_id}", $"cache-{_id}");
        await fx.Dc1Client.UpsertIntentionAsync(Intention(web, api, "allow"));
        await fx.Dc1Client.UpsertIntentionAsync(Intention(api, db, "allow"));
        await fx.Dc1Client.UpsertIntentionAsync(Intention(web, cache, "deny"));
        var policy = await Poll.UntilAsync(() => fx.Dc2Client.ListIntentionsAsync(), l => l.Intentions.Length == 3,
            Converge, "dc1's three intentions in dc2", () => fx.Dc2!.Output);

        await fx.RestartDc1OnEmptyDatabaseAsync();

        var status = await Poll.UntilAsync(async () => Cli.Json(await Dc2Cli("replication", "status", "--json")),
            s => Intentions(s) is { } r && r.TryGetProperty("Held", out var h) && h.ValueKind == JsonValueKind.Object,
            Converge, "dc2's intention replication held", () => fx.Dc2!.Output);
        var held = Intentions(status)!.Value.GetProperty("Held");
        Assert.Equal("primary-replaced", held.GetProperty("Reason").GetString());
        Assert.Equal(3, held.GetProperty("Deletes").GetInt32());
        Assert.Equal([$"default/{api}", $"default/{cache}", $"default/{db}"],
            held.GetProperty("DeleteNames").EnumerateArray().Select(n => n.GetString()!));
        Assert.Equal(0, held.GetProperty("Adds").GetInt32());
        Assert.Equal(Rows(policy), Rows(await fx.Dc2Client.ListIntentionsAsync()));
        var human = await Dc2Cli("replication", "status");
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.Contains("held: primary replaced (epoch ", human.Stdout, StringComparison.Ordinal);
        Assert.Contains($"Would delete: 3 (default/{api}", human.Stdout, StringComparison.Ordinal);
        Assert.Contains("intention replication: held: primary replaced", (await fx.Dc2Client.GetStatusAsync()).Degraded, StringComparison.Ordinal);

        var adopt = await Dc2Cli("replication", "adopt");
        Assert.True(adopt.ExitCode == 0, adopt.ToString());
        Assert.Contains("adopted dc1's state", adopt.Stdout, StringComparison.Ordinal);
        Assert.Empty((await fx.Dc2Client.ListIntentionsAsync()).Intentions);
        var again = await Dc2Cli("replication", "adopt");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("nothing is held", again.Stdout, StringComparison.Ordinal);

        // The new dc1's changes reach dc2 as usual.
        var write = await fx.Dc1Client.UpsertIntentionAsync(Intention(web, api, "deny"));
        Assert.True(await fx.Dc2Client.WaitForReplicatedAsync(write.Index, Converge), $"dc2 did not apply primary index {write.Index}");
        Assert.True(Has(await fx.Dc2Client.ListIntentionsAsync(), web, api, "deny"));
    }
}
