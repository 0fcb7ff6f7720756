using Xunit;

namespace Meridian.Testing;

/// <summary>
/// xunit fixture (class or collection) handing out fresh databases on the run-wide shared
/// <see cref="PostgresServer"/>. Disposing the fixture drops its databases on an external server
/// (<c>MERIDIAN_TEST_PG</c>); the last fixture disposed stops a throwaway server (and its databases).
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly List<string> _databases = [];
    private PostgresServer? _server;

    /// <summary>The shared server (available after <see cref="InitializeAsync"/>).</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgresFixture is not initialized.");

    public async Task InitializeAsync() => _server = await PostgresServer.AcquireSharedAsync();

    /// <summary>A new database with sql/postgresql/*.sql applied in order; returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default) =>
        TrackAsync(Server.CreateDatabaseAsync(applySchema: true, cancellationToken));

    /// <summary>A new database without any schema; returns its connection string.</summary>
    public Task<string> CreateEmptyDatabaseAsync(CancellationToken cancellationToken = default) =>
        TrackAsync(Server.CreateDatabaseAsync(applySchema: false, cancellationToken));

    public async Task DisposeAsync()
    {
        if (_server is not { } server)
        {
            return;
        }
        try
        {
            if (!server.IsThrowaway)
            {
                string[] databases;
                lock (_databases)
                {
                    databases = [.. _databases];
                }
                foreach (var db in databases)
                {
                    await server.DropDatabaseAsync(db);
                }
            }
        }
        finally
        {
            await PostgresServer.ReleaseSharedAsync(server);
        }
    }

    private async Task<string> TrackAsync(Task<string> create)
    {
        var connectionString = await create;
        lock (_databases)
        {
            _databases.Add(connectionString);
        }
        return connectionString;
    }
}
