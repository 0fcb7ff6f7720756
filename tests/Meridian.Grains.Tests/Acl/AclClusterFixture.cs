using System.Collections.Concurrent;
using System.Security.Cryptography;
using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Meridian.Grains.Tests.Acl;

/// <summary>
/// A two-silo primary datacenter with ACLs on, default deny and an initial management token (so bootstrap is already
/// used up here; <see cref="AclBootstrapTests"/> runs its own). Every log line of both silos is kept, so tests can prove
/// no secret was ever logged.
/// </summary>
public sealed class AclClusterFixture : IAsyncLifetime
{
    public const string Datacenter = "dc1";

    /// <summary>The initial management token's SecretID.</summary>
    public string ManagementSecret { get; } = Guid.NewGuid().ToString("D");

    public static byte[] HashKey { get; } = RandomNumberGenerator.GetBytes(32);

    public AllLogs Logs { get; } = new();

    private InProcessTestCluster? _cluster;

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not started");

    /// <summary>The first silo's own client (cluster-internal methods answer).</summary>
    public IClusterClient Client => Cluster.Silos[0].ServiceProvider.GetRequiredService<IClusterClient>();

    public IAclStoreGrain Store => Client.GetGrain<IAclStoreGrain>(Datacenter);

    public IEnumerable<AclAuthorizerSource> Resolvers => Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<AclAuthorizerSource>());

    public static AclSettings Settings(string? initialManagement, string? resetFile = null) => new()
    {
        Enabled = true,
        DefaultPolicy = AclDefaultPolicy.Deny,
        Hasher = new AclSecretHasher(HashKey),
        InitialManagementToken = initialManagement,
        BootstrapResetFile = resetFile,
    };

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ClusterId = $"meridian-acl-{Guid.NewGuid():N}";
        var settings = Settings(ManagementSecret);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(MeridianStorage.Name);
            silo.UseInMemoryReminderService();
            silo.Services.AddSingleton(new DatacenterContext(Datacenter, Datacenter, "", "Memory"));
            silo.Services.AddSingleton(settings);
            silo.Services.AddSingleton<ILoggerProvider>(Logs);
            silo.AddMeridianGrainServices();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    /// <summary>Waits until every silo's resolver has seen store index <paramref name="index"/>.</summary>
    public async Task WaitForResolversAsync(ulong index)
    {
        foreach (var resolver in Resolvers)
            Assert.True(await resolver.WaitForIndexAsync(index, ClusterFixture.SignalTimeout), $"a silo's ACL cache stayed at index {resolver.Index}, expected >= {index}");
    }
}

[CollectionDefinition(Name)]
public sealed class AclClusterCollection : ICollectionFixture<AclClusterFixture>
{
    public const string Name = "AclCluster";
}

/// <summary>Every log line (message and exception) of the silos it is registered in.</summary>
public sealed class AllLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName.StartsWith("Meridian", StringComparison.Ordinal));

    public void Dispose()
    {
    }

    // Meridian's own lines at every level; the runtime's from Information (its Debug output is large and about messages).
    private sealed class Logger(AllLogs logs, bool meridian) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => meridian || logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) logs._lines.Enqueue($"{eventId.Id} {formatter(state, exception)} {exception}");
        }
    }
}
