using Meridian.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Meridian.Grains.Tests;

/// <summary>
/// A one-silo primary datacenter (dc1) for a single test that needs its own silo services (a broken CA configuration,
/// a movable clock): the configure callback runs before <c>AddMeridianGrainServices</c>, whose TryAdds keep them.
/// </summary>
public sealed class CustomCluster(InProcessTestCluster cluster) : IAsyncDisposable
{
    public const string Datacenter = "dc1";

    /// <summary>
    /// The first silo's own client: calls through it come from inside the cluster (the silo's hosted client, as the
    /// silo's endpoints and hosted services call), so cluster-internal methods answer (docs/grain-surfaces.md).
    /// </summary>
    public IClusterClient Client => cluster.Silos[0].ServiceProvider.GetRequiredService<IClusterClient>();

    /// <summary>A client of the gateway, as the SDK is: refused cluster-internal methods.</summary>
    public IClusterClient GatewayClient => cluster.Client;

    public IServiceProvider SiloServices => cluster.Silos[0].ServiceProvider;

    /// <summary>Every silo's services, in start order.</summary>
    public IReadOnlyList<IServiceProvider> AllSiloServices => [.. cluster.Silos.Select(s => s.ServiceProvider)];

    public ICertificateAuthorityGrain Ca => Client.GetGrain<ICertificateAuthorityGrain>(Datacenter);

    public static async Task<CustomCluster> StartAsync(Action<IServiceCollection> configure, short silos = 1)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ClusterId = $"meridian-custom-{Guid.NewGuid():N}";
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(MeridianStorage.Name);
            silo.UseInMemoryReminderService();
            silo.Services.AddSingleton(new DatacenterContext(Datacenter, Datacenter, "", "Memory"));
            configure(silo.Services);
            silo.AddMeridianGrainServices();
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new CustomCluster(cluster);
    }

    /// <summary>Kills the silo (nothing to flush; a graceful stop of a test cluster takes tens of seconds).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var silo in cluster.Silos.ToList()) await cluster.KillSiloAsync(silo);
        await cluster.DisposeAsync();
    }
}

/// <summary>The system clock shifted by <see cref="Offset"/>: CA code sees time pass while timers keep running in real time.</summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
