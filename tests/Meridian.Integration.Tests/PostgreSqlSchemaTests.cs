using System.Globalization;
using Meridian.Integration.Tests.Processes;
using Meridian.Testing;
using Meridian.Silo;
using Npgsql;

namespace Meridian.Integration.Tests;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class PostgreSqlSchemaTests(PostgresFixture fx)
{
    [Fact]
    public void ScriptNames_EmbeddedInOrder()
    {
        Assert.Equal(
            ["01-orleans-main.sql", "02-orleans-clustering.sql", "03-orleans-persistence.sql", "04-orleans-reminders.sql"],
            PostgreSqlSchema.ScriptNames);
    }

    [Fact]
    public async Task ApplyAsync_SilosOfADatacenterTogetherOnAnEmptyDatabase_EveryInstallSucceeds()
    {
        // compose starts a datacenter's silos at once. Before: concurrent CREATE TABLE IF NOT EXISTS failed one of
        // them on pg_type's unique index (duplicate key), and that silo exited.
        var db = await fx.CreateEmptyDatabaseAsync();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgreSqlSchema.ApplyAsync(db))));

        Assert.Empty(await PostgreSqlSchema.GetMissingQueryKeysAsync(db));
    }

    [Fact]
    public async Task SiloProcess_EmptyDatabaseWithoutCreateSchema_ExitsWith2AndTheCommand_NoCrash()
    {
        var db = await fx.CreateEmptyDatabaseAsync();
        var ports = FreePorts.Take(3);
        await using var silo = ChildProcess.StartDotnet(Binaries.Silo, [], new Dictionary<string, string?>
        {
            ["Meridian__Datacenter"] = "dc1",
            ["Meridian__PrimaryDatacenter"] = "dc1",
            ["Meridian__Storage__Provider"] = "PostgreSql",
            ["Meridian__Storage__ConnectionString"] = db,
            ["Meridian__Storage__CreateSchema"] = "false",
            ["Meridian__Ca__KeyEncryptionKeyFile"] = TestKeyEncryptionKey.SharedFile,
            ["Meridian__Endpoints__Address"] = "127.0.0.1",
            ["Meridian__Endpoints__SiloPort"] = ports[0].ToString(CultureInfo.InvariantCulture),
            ["Meridian__Endpoints__GatewayPort"] = ports[1].ToString(CultureInfo.InvariantCulture),
            ["Meridian__Endpoints__HttpPort"] = ports[2].ToString(CultureInfo.InvariantCulture),
        });

        var code = await silo.WaitForExitAsync(TimeSpan.FromMinutes(2));

        // Exit 2 with the fix in one line on stderr; before, an unhandled exception aborted the process (134).
        Assert.True(code == 2, $"exit {code}\n{silo.Output}");
        Assert.Contains("meridian silo: The PostgreSQL database has no Meridian/Orleans schema", silo.Output, StringComparison.Ordinal);
        // The command names this database's host, port, user and database (as sql/postgresql/README.md does), never a password.
        var target = new Npgsql.NpgsqlConnectionStringBuilder(db);
        Assert.Contains(PostgreSqlSchema.InstallCommand(db), silo.Output, StringComparison.Ordinal);
        Assert.Contains($"-h {target.Host} -p {target.Port} -U {target.Username} -d {target.Database} -f \"$f\"", silo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", silo.Output, StringComparison.Ordinal);
        Assert.False(await PostgreSqlSchema.IsInstalledAsync(db)); // nothing was written
    }

    [Theory]
    [InlineData("Host=db.internal;Port=5433;Database=meridian;Username=meridian;Password=s3cret-pw",
        "-h db.internal -p 5433 -U meridian -d meridian -f")]
    [InlineData("Host=127.0.0.1;Database=my db;Username=o'neil;Password=s3cret-pw",
        "-h 127.0.0.1 -p 5432 -U 'o'\\''neil' -d 'my db' -f")]
    public void InstallCommand_NamesHostPortUserDatabase_NeverThePassword(string connectionString, string expected)
    {
        var command = PostgreSqlSchema.InstallCommand(connectionString);
        Assert.Contains(expected, command, StringComparison.Ordinal);
        Assert.StartsWith("for f in sql/postgresql/0*.sql; do psql -v ON_ERROR_STOP=1 --single-transaction ", command, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-pw", command, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IsInstalled_EmptyDatabase_FalseThenTrueAfterApply()
    {
        var db = await fx.CreateEmptyDatabaseAsync();

        Assert.False(await PostgreSqlSchema.IsInstalledAsync(db));
        Assert.Equal(PostgreSqlSchema.ExpectedQueryKeys, await PostgreSqlSchema.GetMissingQueryKeysAsync(db));

        await PostgreSqlSchema.ApplyAsync(db);

        Assert.True(await PostgreSqlSchema.IsInstalledAsync(db));
    }

    [Fact]
    public async Task IsInstalled_KeyMissing_FalseAndNamesIt()
    {
        var db = await fx.CreateDatabaseAsync();
        await ExecuteAsync(db, "DELETE FROM OrleansQuery WHERE QueryKey = 'UpsertReminderRowKey'");

        Assert.False(await PostgreSqlSchema.IsInstalledAsync(db));
        Assert.Equal(["UpsertReminderRowKey"], await PostgreSqlSchema.GetMissingQueryKeysAsync(db));
    }

    [Fact]
    public async Task Apply_Twice_SucceedsAndKeepsData()
    {
        var db = await fx.CreateDatabaseAsync();
        await ExecuteAsync(db, "INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES ('keep-me')");
        await ExecuteAsync(db, "UPDATE OrleansQuery SET QueryText = 'stale' WHERE QueryKey = 'GatewaysQueryKey'");

        await PostgreSqlSchema.ApplyAsync(db);

        Assert.True(await PostgreSqlSchema.IsInstalledAsync(db));
        Assert.Equal(1L, await ScalarAsync(db, "SELECT count(*) FROM OrleansMembershipVersionTable WHERE DeploymentId = 'keep-me'"));
        // Re-running re-publishes the script's query text.
        Assert.Contains("ProxyPort", (string)(await ScalarAsync(db, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'GatewaysQueryKey'"))!);
        Assert.Equal((long)PostgreSqlSchema.ExpectedQueryKeys.Count, await ScalarAsync(db, "SELECT count(*) FROM OrleansQuery"));
    }

    private static async Task ExecuteAsync(string db, string sql)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<object?> ScalarAsync(string db, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteScalarAsync();
    }
}
