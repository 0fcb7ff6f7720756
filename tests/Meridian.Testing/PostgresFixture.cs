using Xunit;

namespace Meridian.Testing;

/// <summary>
/// xunit fixture (class or collection) handing out fresh databases on the run-wide shared
/// <see cref="PostgresServer"/>. Disposing the fixture leaves the server running for other
/// fixtures; the server stops when the test process exits.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    /// <summary>The shared server (available after <see cref="InitializeAsync"/>).</summary>
    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgresFixture is not initialized.");

    public async Task InitializeAsync() => _server = await PostgresServer.GetSharedAsync();

    /// <summary>A new database with sql/postgresql/*.sql applied in order; returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default) =>
        Server.CreateDatabaseAsync(applySchema: true, cancellationToken);

    /// <summary>A new database without any schema; returns its connection string.</summary>
    public Task<string> CreateEmptyDatabaseAsync(CancellationToken cancellationToken = default) =>
        Server.CreateDatabaseAsync(applySchema: false, cancellationToken);

    public Task DisposeAsync() => Task.CompletedTask;
}
