using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Meridian.Integration.Tests;

/// <summary>
/// A silo using all three Orleans ADO.NET providers against the database passed in
/// <see cref="ConnectionStringKey"/>; the client finds gateways through the same database.
/// </summary>
public sealed class TestSilo : ISiloConfigurator
{
    public const string ConnectionStringKey = "Meridian:Tests:PostgresConnectionString";
    public const string StorageName = "probe-store";
    public const string Invariant = "Npgsql";

    public void Configure(ISiloBuilder silo)
    {
        var db = silo.Configuration[ConnectionStringKey]
            ?? throw new InvalidOperationException($"{ConnectionStringKey} missing from the test cluster properties.");
        silo.UseAdoNetClustering(o => { o.Invariant = Invariant; o.ConnectionString = db; });
        silo.AddAdoNetGrainStorage(StorageName, o => { o.Invariant = Invariant; o.ConnectionString = db; });
        silo.UseAdoNetReminderService(o => { o.Invariant = Invariant; o.ConnectionString = db; });
        // Default minimum is 1 minute; the restart test needs a tick within seconds (Orleans logs a warning).
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
    }

    /// <summary>Builds a one-silo cluster on real ADO.NET membership (not the test harness' in-memory table).</summary>
    public static TestCluster Build(string connectionString, string clusterId, string serviceId)
    {
        var builder = new TestClusterBuilder(1);
        builder.Options.ClusterId = clusterId;
        builder.Options.ServiceId = serviceId;
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ConnectionStringKey] = connectionString;
        builder.AddSiloBuilderConfigurator<TestSilo>();
        builder.AddClientBuilderConfigurator<TestClient>();
        return builder.Build();
    }
}

public sealed class TestClient : IClientBuilderConfigurator
{
    public void Configure(IConfiguration configuration, IClientBuilder client)
    {
        var db = configuration[TestSilo.ConnectionStringKey]
            ?? throw new InvalidOperationException($"{TestSilo.ConnectionStringKey} missing from the test cluster properties.");
        // Gateways come from GatewaysQueryKey.
        client.UseAdoNetClustering(o => { o.Invariant = TestSilo.Invariant; o.ConnectionString = db; });
    }
}
