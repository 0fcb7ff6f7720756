using System.Net;
using Meridian.Testing;
using Meridian.Silo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;
using static Meridian.Integration.Tests.PostgreSqlSchemaTests;

namespace Meridian.Integration.Tests;

/// <summary>
/// The membership query keys driven directly through the real <see cref="AdoNetClusteringTable"/>
/// (10.4.2), including the conditional paths a healthy test cluster rarely takes: lost races,
/// duplicate rows, dead-silo clean-up and the gateway list.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class MembershipTableTests(PostgresFixture fx)
{
    private static readonly DateTime Now = TruncateToMilliseconds(DateTime.UtcNow);

    [Fact]
    public async Task MembershipTable_FullLifecycle_HonoursVersionsAndCleansUpDeadSilo()
    {
        var db = await fx.CreateDatabaseAsync();
        const string clusterId = "dc-membership";
        var table = await CreateTableAsync(db, clusterId);

        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var silo = SiloAddress.New(IPAddress.Loopback, 11111, 42);
        var entry = Entry(silo, SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(entry, empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(entry, empty.Version.Next()));            // stale table version
        var afterInsert = await table.ReadAllAsync();
        Assert.Equal(1, afterInsert.Version.Version);
        Assert.False(await table.InsertRowAsync(entry, afterInsert.Version.Next()));      // duplicate silo row...
        Assert.Equal(1, (await table.ReadAllAsync()).Version.Version);                    // ...undoes its version bump

        var (read, etag) = Assert.Single((await table.ReadRowAsync(silo)).Members);
        Assert.Equal((silo, "silo-1", "host-1", SiloStatus.Active, 30000, Now, Now),
            (read.SiloAddress, read.SiloName, read.HostName, read.Status, read.ProxyPort, read.StartTime, read.IAmAliveTime));

        var gateways = await CreateGatewayListAsync(db, clusterId);
        Assert.Equal([SiloAddress.New(IPAddress.Loopback, 30000, 42).ToGatewayUri()], await gateways.GetGatewaysAsync());

        entry.IAmAliveTime = Now.AddSeconds(5);
        await table.UpdateIAmAliveAsync(entry);
        Assert.Equal(Now.AddSeconds(5), Assert.Single((await table.ReadRowAsync(silo)).Members).Item1.IAmAliveTime);

        // Declared dead by another silo whose view carries an older heartbeat: the newer one is kept.
        var voter = SiloAddress.New(IPAddress.Loopback, 11112, 7);
        var dead = Entry(silo, SiloStatus.Dead);
        dead.SuspectTimes = [Tuple.Create(voter, Now)];
        var version = (await table.ReadAllAsync()).Version;
        Assert.True(await table.UpdateRowAsync(dead, etag, version.Next()));
        Assert.False(await table.UpdateRowAsync(dead, etag, version.Next()));            // stale table version
        var unknown = Entry(SiloAddress.New(IPAddress.Loopback, 11113, 1), SiloStatus.Dead);
        var current = (await table.ReadAllAsync()).Version;
        Assert.False(await table.UpdateRowAsync(unknown, etag, current.Next()));         // no such silo...
        Assert.Equal(current.Version, (await table.ReadAllAsync()).Version.Version);     // ...and no version bump

        var (deadRead, _) = Assert.Single((await table.ReadRowAsync(silo)).Members);
        Assert.Equal(SiloStatus.Dead, deadRead.Status);
        Assert.Equal(Now.AddSeconds(5), deadRead.IAmAliveTime);
        Assert.Equal(voter, Assert.Single(deadRead.SuspectTimes!).Item1);
        Assert.Empty(await gateways.GetGatewaysAsync());                                  // only Active silos are gateways

        await table.CleanupDefunctSiloEntriesAsync(Now.AddMinutes(-1));                  // not old enough yet
        Assert.Single((await table.ReadAllAsync()).Members);
        await table.CleanupDefunctSiloEntriesAsync(Now.AddMinutes(1));                   // CleanupDefunctSiloEntryKey
        Assert.Empty((await table.ReadAllAsync()).Members);

        await table.DeleteMembershipTableEntriesAsync(clusterId);
        Assert.Equal(0L, await ScalarAsync(db, "SELECT count(*) FROM OrleansMembershipVersionTable WHERE DeploymentId = @c", ("c", clusterId)));
    }

    [Fact]
    public async Task CleanupDefunctSiloEntries_WithoutOptionalKey_FallbackDeletesOnlyOldDeadRows()
    {
        var db = await fx.CreateDatabaseAsync();
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync();
            await using var delete = new NpgsqlCommand("DELETE FROM OrleansQuery WHERE QueryKey = 'CleanupDefunctSiloEntryKey'", connection);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
        var table = await CreateTableAsync(db, "dc-fallback");

        var active = Entry(SiloAddress.New(IPAddress.Loopback, 11111, 1), SiloStatus.Active);
        var dead = Entry(SiloAddress.New(IPAddress.Loopback, 11112, 1), SiloStatus.Dead);
        Assert.True(await table.InsertRowAsync(active, (await table.ReadAllAsync()).Version.Next()));
        Assert.True(await table.InsertRowAsync(dead, (await table.ReadAllAsync()).Version.Next()));

        await table.CleanupDefunctSiloEntriesAsync(Now.AddMinutes(1));                   // CleanupDefunctSiloEntriesKey

        var (left, _) = Assert.Single((await table.ReadAllAsync()).Members);
        Assert.Equal(active.SiloAddress, left.SiloAddress);
    }

    private static async Task<AdoNetClusteringTable> CreateTableAsync(string db, string clusterId)
    {
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "svc-membership" }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = TestSilo.Invariant, ConnectionString = db }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        return table;
    }

    private static async Task<IGatewayListProvider> CreateGatewayListAsync(string db, string clusterId)
    {
        var provider = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions { Invariant = TestSilo.Invariant, ConnectionString = db }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "svc-membership" }));
        await provider.InitializeGatewayListProviderAsync();
        return provider;
    }

    private static MembershipEntry Entry(SiloAddress silo, SiloStatus status) => new()
    {
        SiloAddress = silo,
        SiloName = "silo-1",
        HostName = "host-1",
        Status = status,
        ProxyPort = 30000,
        StartTime = Now,
        IAmAliveTime = Now,
    };

    // The table stores milliseconds (timestamptz(3)); compare like with like.
    private static DateTime TruncateToMilliseconds(DateTime t) =>
        new(t.Ticks - t.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
}
