using Meridian.Testing;
using Meridian.Silo;
using static Meridian.Integration.Tests.PostgreSqlSchemaTests;

namespace Meridian.Integration.Tests;

/// <summary>
/// Our sql/postgresql scripts under the real Orleans ADO.NET providers (clustering, persistence,
/// reminders) in a test cluster, across an ungraceful cluster loss.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class AdoNetProvidersTests(PostgresFixture fx)
{
    private static readonly TimeSpan TickTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task ClusterKilled_NewClusterSameService_ReadsStateAndRunsReminder()
    {
        var db = await fx.CreateDatabaseAsync();
        var serviceId = $"svc-{Guid.NewGuid():N}";
        var key = $"probe-{Guid.NewGuid():N}";
        const string reminder = "tick";

        var first = TestSilo.Build(db, clusterId: "dc1-first", serviceId);
        await using (first)
        {
            await first.DeployAsync();
            var grain = first.Client.GetGrain<IPersistenceProbeGrain>(key);

            Assert.Equal(new ProbeSnapshot("v1", "1", true), await grain.SetAsync("v1"));
            Assert.Equal(new ProbeSnapshot("v2", "2", true), await grain.SetAsync("v2"));
            await grain.RegisterReminderAsync(reminder, dueTime: TimeSpan.FromSeconds(1), period: TimeSpan.FromSeconds(2));

            Assert.Equal(1L, await ScalarAsync(db,
                "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = 'dc1-first' AND Status = 3 AND ProxyPort > 0"));
            Assert.Equal(2, await ScalarAsync(db,
                "SELECT Version FROM OrleansStorage WHERE ServiceId = @s AND GrainIdExtensionString = @k", ("s", serviceId), ("k", key)));
            Assert.Equal(2000L, await ScalarAsync(db,
                "SELECT Period FROM OrleansRemindersTable WHERE ServiceId = @s AND ReminderName = @r AND GrainId LIKE '%' || @k",
                ("s", serviceId), ("r", reminder), ("k", key)));

            // Lose the whole cluster without a graceful shutdown: no grain deactivation, no final state writes.
            await first.KillClientAsync();
            await first.KillSiloAsync(first.Primary!);
        }

        // NOTE: TestCluster's "kill" is a host stop with a cancelled token, not a process crash: the
        // silo still declares itself Dead (6) through UpdateMembershipKey. A crashed silo's row stays
        // Active until others vote it Dead; MembershipTableTests covers that path at the table level.
        Assert.Equal(6, await ScalarAsync(db,
            "SELECT Status FROM OrleansMembershipTable WHERE DeploymentId = 'dc1-first'"));

        // A new deployment (new ClusterId) of the same service (same ServiceId): state and reminders
        // are keyed by ServiceId, so both must carry over.
        ReminderTicks.Reset(key, reminder);
        var tick = ReminderTicks.NextTickAsync(key, reminder);
        var second = TestSilo.Build(db, clusterId: "dc1-second", serviceId);
        await using (second)
        {
            await second.DeployAsync();

            // The reminder service of the new silo loads the reminder from the table and activates the grain itself.
            await tick.WaitAsync(TickTimeout);

            var grain = second.Client.GetGrain<IPersistenceProbeGrain>(key);
            Assert.Equal(new ProbeSnapshot("v2", "2", true), await grain.GetAsync());
            Assert.True(await grain.HasReminderAsync(reminder));
            Assert.Equal(new ProbeSnapshot("v3", "3", true), await grain.SetAsync("v3"));

            await grain.ClearAsync();
            Assert.Equal(4, await ScalarAsync(db,
                "SELECT Version FROM OrleansStorage WHERE ServiceId = @s AND GrainIdExtensionString = @k AND PayloadBinary IS NULL",
                ("s", serviceId), ("k", key)));

            await grain.UnregisterReminderAsync(reminder);
            Assert.Equal(0L, await ScalarAsync(db,
                "SELECT count(*) FROM OrleansRemindersTable WHERE ServiceId = @s", ("s", serviceId)));

            Assert.Equal(1L, await ScalarAsync(db,
                "SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = 'dc1-second' AND Status = 3"));
        }
    }
}
