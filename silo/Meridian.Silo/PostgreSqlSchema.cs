using System.Globalization;
using Npgsql;

namespace Meridian.Silo;

/// <summary>
/// The Orleans ADO.NET schema for PostgreSQL (<c>sql/postgresql/*.sql</c>), applied through Npgsql so
/// no <c>psql</c> is needed at run time. The scripts are embedded in this assembly.
/// </summary>
/// <remarks>
/// A silo on PostgreSQL checks the schema before Orleans starts (<see cref="PostgreSqlSchemaInstaller"/>): it creates
/// it when <c>Meridian:Storage:CreateSchema</c> is true, else it refuses to start naming <see cref="InstallCommand"/>.
/// </remarks>
public static class PostgreSqlSchema
{
    private const string ResourcePrefix = "Meridian.Sql.PostgreSql.";

    /// <summary>The Orleans version whose ADO.NET query contract the scripts implement.</summary>
    public const string OrleansContractVersion = "10.4.2";

    /// <summary>
    /// Query keys the scripts install: everything the 10.4.2 clustering, persistence and reminders
    /// providers read (the providers refuse to start without their required keys), plus the optional
    /// <c>CleanupDefunctSiloEntryKey</c> and <c>DeleteStorageKey</c> that 10.4.2 uses when present.
    /// </summary>
    public static IReadOnlyList<string> ExpectedQueryKeys { get; } =
    [
        // Clustering (Microsoft.Orleans.Clustering.AdoNet)
        "GatewaysQueryKey", "MembershipReadRowKey", "MembershipReadAllKey", "InsertMembershipVersionKey",
        "UpdateIAmAlivetimeKey", "InsertMembershipKey", "UpdateMembershipKey", "DeleteMembershipTableEntriesKey",
        "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey",
        // Persistence (Microsoft.Orleans.Persistence.AdoNet)
        "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey",
        // Reminders (Microsoft.Orleans.Reminders.AdoNet)
        "ReadReminderRowsKey", "ReadRangeRows1Key", "ReadRangeRows2Key", "ReadReminderRowKey",
        "UpsertReminderRowKey", "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    /// <summary>Script file names in the order they must be applied (file-name order).</summary>
    public static IReadOnlyList<string> ScriptNames { get; } =
        [.. typeof(PostgreSqlSchema).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..])
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// The command an operator runs, from the repository root, to install the schema into the database of
    /// <paramref name="connectionString"/>: its host, port, user and database filled in (as sql/postgresql/README.md
    /// writes it), never its password (psql asks for it, or reads PGPASSWORD / ~/.pgpass).
    /// </summary>
    public static string InstallCommand(string connectionString)
    {
        var c = new NpgsqlConnectionStringBuilder(connectionString);
        var target = string.Join(' ', new[]
        {
            ("-h", c.Host), ("-p", c.Port.ToString(CultureInfo.InvariantCulture)),
            ("-U", c.Username), ("-d", c.Database),
        }.Where(o => !string.IsNullOrEmpty(o.Item2)).Select(o => $"{o.Item1} {ShellQuote(o.Item2!)}"));
        return $"for f in sql/postgresql/0*.sql; do psql -v ON_ERROR_STOP=1 --single-transaction {target} -f \"$f\"; done";
    }

    // Single-quoted for a POSIX shell unless plainly safe (a host name, a user, a database name).
    private static string ShellQuote(string value)
        => value.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' or '_' or ':' or '/')
            ? value
            : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Returns the text of one embedded script, e.g. <c>01-orleans-main.sql</c>.</summary>
    public static string ReadScript(string fileName)
    {
        using var stream = typeof(PostgreSqlSchema).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new ArgumentException($"No embedded script '{fileName}'. Known: {string.Join(", ", ScriptNames)}.", nameof(fileName));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    // Any fixed 64-bit number: the advisory lock that serialises schema installs ("meridian" in ASCII, hex).
    private const long InstallLockKey = 0x6d65726964696e;

    /// <summary>
    /// Applies every script in file-name order, each in its own transaction. Re-running is safe: the
    /// scripts only create what is missing and re-publish their query texts.
    /// </summary>
    public static async Task ApplyAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        if (ScriptNames.Count == 0)
        {
            throw new InvalidOperationException(
                $"No SQL scripts are embedded in {typeof(PostgreSqlSchema).Assembly.GetName().Name}; check the EmbeddedResource item in its project file.");
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var name in ScriptNames)
        {
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            // The silos of a datacenter start together on an empty database: two CREATE TABLE IF NOT EXISTS of the same
            // table in concurrent transactions fail one of them on pg_type's unique index. One script at a time.
            await using (var serialize = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({InstallLockKey})", connection, tx))
                await serialize.ExecuteNonQueryAsync(cancellationToken);
            await using (var command = new NpgsqlCommand(ReadScript(name), connection, tx))
            {
                try
                {
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (PostgresException e)
                {
                    throw new InvalidOperationException($"Applying {name} failed: {e.MessageText} (SQLSTATE {e.SqlState}).", e);
                }
            }
            await tx.CommitAsync(cancellationToken);
        }
    }

    /// <summary>Query keys from <see cref="ExpectedQueryKeys"/> that the database lacks (all of them when there is no <c>OrleansQuery</c> table).</summary>
    public static async Task<IReadOnlyList<string>> GetMissingQueryKeysAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);

        await using (var exists = new NpgsqlCommand("SELECT to_regclass('orleansquery') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return ExpectedQueryKeys;
            }
        }

        var present = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = new NpgsqlCommand("SELECT QueryKey FROM OrleansQuery", connection))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                present.Add(reader.GetString(0));
            }
        }
        return [.. ExpectedQueryKeys.Where(k => !present.Contains(k))];
    }

    /// <summary>True when the <c>OrleansQuery</c> table exists and holds every key in <see cref="ExpectedQueryKeys"/>.</summary>
    public static async Task<bool> IsInstalledAsync(string connectionString, CancellationToken cancellationToken = default) =>
        (await GetMissingQueryKeysAsync(connectionString, cancellationToken)).Count == 0;
}
