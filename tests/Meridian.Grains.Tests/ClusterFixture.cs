using Meridian.Core.Certificates;
using Meridian.Grains.Certificates;
using Meridian.Grains.Hosting;
using Meridian.Grains.Intentions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Meridian.Grains.Tests;

/// <summary>
/// A Meridian datacenter on an in-process test cluster: memory grain storage under <see cref="MeridianStorage.Name"/>,
/// in-memory reminders and the silo services of <c>AddMeridianGrainServices</c>, wired as the silo host does.
/// Two silos by default, so the per-silo intention cache sync and signer sync run in a silo without the registry/CA.
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    /// <summary>The datacenter every test cluster serves.</summary>
    public const string Datacenter = "dc1";

    /// <summary>Bound on every wait for a cluster-side signal (a cache or signer catching up).</summary>
    public static readonly TimeSpan SignalTimeout = TimeSpan.FromSeconds(15);

    private InProcessTestCluster? _cluster;

    private readonly string _defaultIntentionPolicy;
    private readonly short _silos;

    public ClusterFixture() : this("", 2) { }

    protected ClusterFixture(string defaultIntentionPolicy, short silos)
        => (_defaultIntentionPolicy, _silos) = (defaultIntentionPolicy, silos);

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not started");

    /// <summary>
    /// The first silo's own client: calls through it come from inside the cluster (the silo's hosted client, as the
    /// silo's endpoints and hosted services call), so cluster-internal methods answer (docs/grain-surfaces.md).
    /// </summary>
    public IClusterClient Client => Cluster.Silos[0].ServiceProvider.GetRequiredService<IClusterClient>();

    /// <summary>A client of the gateway, as the SDK is: refused cluster-internal methods.</summary>
    public IClusterClient GatewayClient => Cluster.Client;

    /// <summary>Every silo's refusals of cluster-internal calls (<see cref="MeridianEventIds.ClusterInternalCallRefused"/>).</summary>
    public LogRecorder SealRefusals { get; } = new(MeridianEventIds.ClusterInternalCallRefused);

    public string PrimaryDatacenter => Datacenter;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(_silos);
        var context = new DatacenterContext(Datacenter, Datacenter, _defaultIntentionPolicy, "Memory");
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(MeridianStorage.Name);
            silo.UseInMemoryReminderService();
            silo.Services.AddSingleton(context);
            // Tests issue certificates in bursts (50 at once); the datacenter's CSR limits have their own tests
            // (CsrLimitTests), so this shared datacenter signs unlimited, as Consul's CSRMaxPerSecond = 0 does.
            silo.Services.AddSingleton(CaConfiguration.Default with { CsrMaxPerSecond = 0 });
            silo.Services.AddSingleton<ILoggerProvider>(SealRefusals);
            silo.AddMeridianGrainServices();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    public IEnumerable<IServiceProvider> SiloServices => Cluster.Silos.Select(s => s.ServiceProvider);

    /// <summary>Waits until every silo's intention cache reflects <paramref name="index"/> (the signal the cache raises).</summary>
    public async Task WaitForCachesAsync(ulong index)
    {
        foreach (var sp in SiloServices)
        {
            var cache = sp.GetRequiredService<IntentionCache>();
            var reached = await cache.WaitForIndexAsync(index, SignalTimeout, TimeProvider.System);
            Assert.True(reached, $"intention cache of a silo stayed at index {cache.Current.Index}, expected >= {index}");
        }
    }

    /// <summary>Waits until every silo's leaf signer reflects the CA's current roots index.</summary>
    public async Task WaitForSignersAsync()
    {
        var roots = await Client.GetGrain<ICertificateAuthorityGrain>(Datacenter).GetRootsAsync();
        using var cts = new CancellationTokenSource(SignalTimeout);
        foreach (var sp in SiloServices)
        {
            var signer = sp.GetRequiredService<LocalSigner>();
            while (true)
            {
                var replaced = signer.Replaced; // captured before the check so a refresh in between is not missed
                if (signer.Current is { } s && s.RootsIndex >= roots.Index) break;
                try { await replaced.WaitAsync(cts.Token); }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"signer of a silo stayed at roots index {signer.Current?.RootsIndex}, expected >= {roots.Index}");
                }
            }
        }
    }
}

/// <summary>A one-silo datacenter whose <c>default_intention_policy</c> is <c>deny</c>.</summary>
public sealed class DenyClusterFixture : ClusterFixture
{
    public DenyClusterFixture() : base("deny", 1) { }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Cluster";
}

[CollectionDefinition(Name)]
public sealed class DenyClusterCollection : ICollectionFixture<DenyClusterFixture>
{
    public const string Name = "DenyCluster";
}
