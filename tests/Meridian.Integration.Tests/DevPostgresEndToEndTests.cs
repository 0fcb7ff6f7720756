using Meridian.Integration.Tests.Processes;
using Meridian.Testing;
using static Meridian.Integration.Tests.PostgreSqlSchemaTests;

namespace Meridian.Integration.Tests;

/// <summary><c>meridian dev --postgres</c> as a real process: state goes to the database, and the banner says so.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
[Trait("Category", "EndToEnd")]
public sealed class DevPostgresEndToEndTests(PostgresFixture fx)
{
    [Fact]
    public async Task DevWithPostgres_BannerSaysPostgres_WritesLandInTheDatabase()
    {
        // An empty database: the silo creates the schema itself.
        var db = await fx.CreateEmptyDatabaseAsync();
        var id = Guid.NewGuid().ToString("N")[..12];
        await using var dev = await DevProcess.StartAsync(postgres: db);

        Assert.DoesNotContain("in memory", dev.Output);
        Assert.Contains("stored in PostgreSQL", dev.Output);
        // The connection string (with its password) is never printed.
        Assert.DoesNotContain(db, dev.Output);

        var status = Cli.Json(await dev.CliAsync("status", "--json"));
        Assert.Equal("PostgreSql", status.GetProperty("StorageProvider").GetString());

        var upsert = await dev.CliAsync("intention", "upsert", "--source", $"web-{id}", "--destination", $"db-{id}", "--action", "allow");
        Assert.True(upsert.ExitCode == 0, upsert.ToString());
        Assert.True(await ScalarAsync(db, "SELECT count(*) FROM OrleansStorage WHERE GrainIdExtensionString LIKE '%' || @k",
            ("k", $"db-{id}")) is > 0L, "the intention grain's state is not in OrleansStorage");
    }
}
