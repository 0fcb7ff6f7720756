using Meridian.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
        var missing = await PostgreSqlSchema.GetMissingQueryKeysAsync(storage.ConnectionString!, cancellationToken);
        if (missing.Count == 0) return;
        if (!storage.CreateSchema)
        {
            LogMissing(logger, missing.Count);
            throw new SiloStartupException(
                $"The PostgreSQL database has no Meridian/Orleans schema ({missing.Count} query keys missing, e.g. {missing[0]}). " +
                $"Run: {PostgreSqlSchema.InstallCommand(storage.ConnectionString!)} -- or set Meridian:Storage:CreateSchema=true to let the silo create it.");
        }
        await PostgreSqlSchema.ApplyAsync(storage.ConnectionString!, cancellationToken);
        LogInstalled(logger, PostgreSqlSchema.ScriptNames.Count, PostgreSqlSchema.OrleansContractVersion);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = MeridianEventIds.SchemaInstalled, Level = LogLevel.Information,
        Message = "Created the PostgreSQL schema ({ScriptCount} scripts, Orleans {OrleansVersion} ADO.NET contract)")]
    private static partial void LogInstalled(ILogger logger, int scriptCount, string orleansVersion);

    [LoggerMessage(EventId = MeridianEventIds.SchemaMissing, Level = LogLevel.Error,
        Message = "The PostgreSQL schema is missing {MissingKeys} query keys and Meridian:Storage:CreateSchema is false")]
    private static partial void LogMissing(ILogger logger, int missingKeys);
}

/// <summary>A start-up problem the operator has to fix; its message says what and how. The silo exits with code 2.</summary>
public sealed class SiloStartupException(string message) : Exception(message);
