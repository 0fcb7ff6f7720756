using System.Net.Sockets;
using Meridian.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Meridian.Silo;

/// <summary>
/// Runs before the silo starts: the Orleans ADO.NET providers cannot start without the <c>OrleansQuery</c> table.
/// Creates the schema when it is missing and <c>Meridian:Storage:CreateSchema</c> is true; otherwise fails the start
/// with the exact command to run. The connection string is never logged.
/// </summary>
internal sealed partial class PostgreSqlSchemaInstaller(IOptions<StorageOptions> options, ILogger<PostgreSqlSchemaInstaller> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var storage = options.Value;
        var (missing, problem) = await InspectAsync(storage, cancellationToken);
        if (missing.Count > 0 && !storage.CreateSchema) LogMissing(logger, missing.Count);
        if (problem is not null) throw new SiloStartupException(problem);
        if (missing.Count == 0) return;
        await PostgreSqlSchema.ApplyAsync(storage.ConnectionString!, cancellationToken);
        LogInstalled(logger, PostgreSqlSchema.ScriptNames.Count, PostgreSqlSchema.OrleansContractVersion);
    }

    /// <summary>
    /// Connects and reads which query keys the database lacks. <c>Problem</c> is what stops the start: the server
    /// cannot be reached (named by host:port only, because the connection string carries the password), or the schema
    /// is missing and <c>Meridian:Storage:CreateSchema</c> is false (with the command to run). Read-only: the silo
    /// program calls it before anything starts (<see cref="SiloPreflight"/>).
    /// </summary>
    internal static async Task<(IReadOnlyList<string> Missing, string? Problem)> InspectAsync(StorageOptions storage, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> missing;
        try
        {
            missing = await PostgreSqlSchema.GetMissingQueryKeysAsync(storage.ConnectionString!, cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException)
        {
            // The first query is the first connection: a server that is down, a wrong host or password ends here.
            var target = new NpgsqlConnectionStringBuilder(storage.ConnectionString);
            return ([], $"{StorageOptions.SectionName}:ConnectionString: cannot connect to PostgreSQL at {target.Host}:{target.Port}: {Describe(e)}");
        }
        if (missing.Count == 0 || storage.CreateSchema) return (missing, null);
        return (missing,
            $"The PostgreSQL database has no Meridian/Orleans schema ({missing.Count} query keys missing, e.g. {missing[0]}). " +
            $"Run: {PostgreSqlSchema.InstallCommand(storage.ConnectionString!)} -- or set Meridian:Storage:CreateSchema=true to let the silo create it.");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Npgsql's own message ("Failed to connect to 127.0.0.1:1") says less than its cause ("Connection refused").
    private static string Describe(Exception e) => e switch
    {
        PostgresException p => p.MessageText,
        { InnerException: { } inner } => inner.Message,
        _ => e.Message,
    };

    [LoggerMessage(EventId = MeridianEventIds.SchemaInstalled, Level = LogLevel.Information,
        Message = "Created the PostgreSQL schema ({ScriptCount} scripts, Orleans {OrleansVersion} ADO.NET contract)")]
    private static partial void LogInstalled(ILogger logger, int scriptCount, string orleansVersion);

    [LoggerMessage(EventId = MeridianEventIds.SchemaMissing, Level = LogLevel.Error,
        Message = "The PostgreSQL schema is missing {MissingKeys} query keys and Meridian:Storage:CreateSchema is false")]
    private static partial void LogMissing(ILogger logger, int missingKeys);
}

/// <summary>A start-up problem the operator has to fix; its message says what and how. The silo exits with code 2.</summary>
public sealed class SiloStartupException(string message) : Exception(message);
