using System.Collections.Concurrent;
using Meridian.Core.Certificates;
using Meridian.Core.Federation;
using Meridian.Grains.Certificates;
using Meridian.Grains.Hosting;
using Meridian.Grains.Intentions;
using Meridian.Grains.Replication;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Meridian.Grains.Tests.Federation;

/// <summary>A call that went through a datacenter's client (for a primary: what its secondaries' links carried).</summary>
public sealed record ClientCall(string Interface, string Method, object?[] Arguments, object? Result);

/// <summary>
/// One Meridian datacenter as its own <see cref="InProcessTestCluster"/> (own ClusterId, own in-memory transport):
/// storage is a <see cref="DatacenterStore"/> that records every write, secondaries reach the primary through a
/// <see cref="TestPrimaryLink"/>, and replication/re-issue settings are small so rounds turn over in about a second.
/// </summary>
public sealed class DatacenterCluster : IAsyncDisposable
{
    /// <summary>Long-poll length of the replicator and the root watcher: a cut link is noticed within it.</summary>
    public static readonly TimeSpan PollWait = TimeSpan.FromSeconds(2);

    /// <summary>The federation members every test primary lists.</summary>
    public static readonly IReadOnlyList<string> Secondaries = ["dc2", "dc3"];

    /// <summary>Jitter window for re-issuing certificates after a root change.</summary>
    public static readonly TimeSpan ReissueWindow = TimeSpan.FromSeconds(1);

    private readonly InProcessTestCluster _cluster;
    private readonly ConcurrentQueue<ClientCall> _calls = new();

    private DatacenterCluster(string name, string primary, DatacenterStore store, TestPrimaryLink? link, InProcessTestCluster cluster)
        => (Name, Primary, Store, Link, _cluster) = (name, primary, store, link, cluster);

    public string Name { get; }
    public string Primary { get; }
    public DatacenterStore Store { get; }
    public TestPrimaryLink? Link { get; }
    /// <summary>
    /// The first silo's own client: calls through it come from inside the cluster (the silo's hosted client, as the
    /// silo's endpoints and hosted services call), so cluster-internal methods answer (docs/grain-surfaces.md).
    /// </summary>
    public IClusterClient Client => _cluster.Silos[0].ServiceProvider.GetRequiredService<IClusterClient>();

    /// <summary>A client of the gateway, as the SDK and a secondary's link are: refused cluster-internal methods.</summary>
    public IClusterClient GatewayClient => _cluster.Client;

    /// <summary>Every call made through this datacenter's gateway client (for a primary, its secondaries' links).</summary>
    public IReadOnlyList<ClientCall> ClientCalls => [.. _calls];

    public IIntentionRegistryGrain Registry => Client.GetGrain<IIntentionRegistryGrain>(Name);
    public ICertificateAuthorityGrain Ca => Client.GetGrain<ICertificateAuthorityGrain>(Name);
    public IAuthorizerGrain Authorizer => Client.GetGrain<IAuthorizerGrain>(Name);
    public IIntentionReplicatorGrain Replicator => Client.GetGrain<IIntentionReplicatorGrain>(Name);
    public IServiceCertificateGrain Certificate(string service) => Client.GetGrain<IServiceCertificateGrain>($"{Name}/{service}");

    public IEnumerable<IServiceProvider> SiloServices => _cluster.Silos.Select(s => s.ServiceProvider);

    /// <summary>
    /// Starts a datacenter. A secondary needs <paramref name="link"/>; <paramref name="store"/> defaults to a fresh one;
    /// <paramref name="services"/> registers extra silo services before Meridian's (a <see cref="TimeProvider"/>, …).
    /// </summary>
    public static async Task<DatacenterCluster> StartAsync(
        string name, string primary, TestPrimaryLink? link = null, DatacenterStore? store = null, short silos = 1, bool adoptPrimaryState = false,
        Action<IServiceCollection>? services = null)
    {
        if (name != primary && link is null) throw new ArgumentException("a secondary needs a link", nameof(link));
        store ??= new DatacenterStore(name);
        var context = new DatacenterContext(name, primary, "", "Memory");
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ClusterId = $"meridian-{name}-{Guid.NewGuid():N}";
        builder.Options.ServiceId = "meridian-federation-tests";
        DatacenterCluster? created = null;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseInMemoryReminderService();
            silo.Services.AddKeyedSingleton<IGrainStorage>(MeridianStorage.Name,
                (sp, _) => new RecordingGrainStorage(store, sp.GetRequiredKeyedService<IGrainStorageSerializer>(MeridianStorage.Name)));
            silo.Services.AddSingleton(context);
            silo.Services.AddSingleton(CaConfiguration.Default);
            // The secondaries these tests start (dc2, dc3) are members of the primary's federation (issue 12).
            silo.Services.AddSingleton(new FederationMembers(name == primary ? Secondaries : []));
            // Registered before AddMeridianGrainServices, whose TryAdd then keeps these.
            silo.Services.AddSingleton(new ReplicationSettings(PollWait, adoptPrimaryState, TimeSpan.FromSeconds(1)));
            silo.Services.AddSingleton(new ReissueSettings(ReissueWindow, 2000));
            if (link is not null) silo.Services.AddSingleton<IPrimaryDatacenterLink>(link);
            services?.Invoke(silo.Services);
            silo.AddMeridianGrainServices();
        });
        builder.ConfigureClient(client => client.AddOutgoingGrainCallFilter(async call =>
        {
            await call.Invoke();
            var args = Enumerable.Range(0, call.Request.GetArgumentCount()).Select(call.Request.GetArgument).ToArray();
            created?._calls.Enqueue(new ClientCall(call.InterfaceName, call.MethodName, args, call.Result));
        }));
        var cluster = builder.Build();
        created = new DatacenterCluster(name, primary, store, link, cluster);
        await cluster.DeployAsync();
        return created;
    }

    /// <summary>A secondary of <paramref name="primary"/> with a connected link.</summary>
    public static async Task<DatacenterCluster> StartSecondaryAsync(
        string name, DatacenterCluster primary, DatacenterStore? store = null, short silos = 1, bool adoptPrimaryState = false)
    {
        var link = new TestPrimaryLink(primary.Name);
        link.PointTo(primary.GatewayClient);
        link.Connect();
        return await StartAsync(name, primary.Name, link, store, silos, adoptPrimaryState);
    }

    /// <summary>
    /// The operator accepts a replaced primary on purpose (issue 12 §3, <c>meridian ca adopt-primary</c>), through the
    /// gateway as the SDK does: without it a secondary follows no primary of another trust domain than the one it pinned.
    /// </summary>
    public async Task AdoptPrimaryAsync(DatacenterCluster primary)
        => await GatewayClient.GetGrain<ICertificateAuthorityGrain>(Name).AdoptPrimaryAsync((await primary.Ca.GetRootsAsync()).TrustDomain);

    /// <summary>Stops the datacenter abruptly (a fixture's end, or a primary that is wiped).</summary>
    /// <remarks>
    /// NOTE: a graceful stop of a two-silo in-process cluster takes about 30 s here (the existing ClusterFixture too); the
    /// tests have nothing left to flush, so the silos are killed, all at once.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_cluster.Silos.ToList().Select(s => _cluster.KillSiloAsync(s)));
        await _cluster.DisposeAsync();
    }

    /// <summary>Read-your-writes: waits until this datacenter applied the primary's <paramref name="primaryIndex"/>, then until every silo's cache shows it.</summary>
    public async Task WaitForReplicatedAsync(ulong primaryIndex)
    {
        if (Name != Primary)
        {
            var reached = await Registry.WaitForReplicatedAsync(primaryIndex, Poll.Timeout);
            var status = await Replicator.GetStatusAsync();
            Assert.True(reached, $"{Name} did not apply primary index {primaryIndex} within {Poll.Timeout}; replicated index " +
                $"{await Registry.GetReplicatedIndexAsync()}, last error '{status.LastErrorMessage}' at {status.LastError:O}");
        }
        await WaitForCachesAsync((await Registry.ListAsync()).Index);
    }

    /// <summary>Waits until every silo's intention cache (what authorize reads) reflects the local index.</summary>
    public async Task WaitForCachesAsync(ulong localIndex)
    {
        foreach (var sp in SiloServices)
        {
            var cache = sp.GetRequiredService<IntentionCache>();
            var reached = await cache.WaitForIndexAsync(localIndex, Poll.Timeout, TimeProvider.System);
            Assert.True(reached, $"an intention cache of {Name} stayed at index {cache.Current.Index}, expected >= {localIndex}");
        }
    }

    /// <summary>Waits until this datacenter's CA and every silo's signer are on <paramref name="activeRootId"/>.</summary>
    public async Task WaitForSignersOnRootAsync(string activeRootId)
    {
        await Poll.UntilAsync(async () => (await Ca.GetStatusAsync()).ActiveRootID == activeRootId,
            async () => $"CA of {Name} on root '{(await Ca.GetStatusAsync()).ActiveRootID}', degraded '{(await Ca.GetStatusAsync()).Degraded}', expected {activeRootId}");
        foreach (var sp in SiloServices)
        {
            var signer = sp.GetRequiredService<LocalSigner>();
            await Poll.UntilAsync(() => Task.FromResult(signer.Current?.ActiveRootId == activeRootId),
                () => Task.FromResult($"a signer of {Name} on root '{signer.Current?.ActiveRootId}', expected {activeRootId}"),
                _ => signer.Replaced);
        }
    }

    /// <summary>Every stored private key of this datacenter (base64 bodies), from every state it wrote.</summary>
    public IReadOnlySet<string> OwnPrivateKeys()
        => Store.Writes.SelectMany(w => FederationText.PrivateKeyBodies(w.Text)).ToHashSet();
}

/// <summary>Bounded waits on real conditions; a timeout fails with the caller's description of the current state.</summary>
public static class Poll
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    // Pace for conditions that have no signal to await (a replicator's status): a poll interval, not a wait for an outcome.
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public static async Task UntilAsync(Func<Task<bool>> condition, Func<Task<string>> describe,
        Func<CancellationToken, Task>? signal = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        while (!await condition())
        {
            try
            {
                await (signal is null ? Task.Delay(Interval, cts.Token) : signal(cts.Token).WaitAsync(cts.Token));
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                if (await condition()) return;
                Assert.Fail($"timed out after {timeout ?? Timeout}: {await describe()}");
            }
        }
    }
}
