using System.Net;
using Meridian.Grains;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace Meridian.Silo;

/// <summary>Where a secondary finds the primary's gateways. Section <c>Meridian:Primary</c>.</summary>
public sealed class PrimaryOptions
{
    public const string SectionName = "Meridian:Primary";

    /// <summary>The primary's gateway endpoints, <c>HOST:PORT</c> (required in a secondary).</summary>
    public List<string> Gateways { get; set; } = [];

    /// <summary>The primary cluster's Orleans ClusterId. Default: <c>meridian-&lt;PrimaryDatacenter&gt;</c>.</summary>
    public string? ClusterId { get; set; }
}

/// <summary>
/// <see cref="IPrimaryDatacenterLink"/> over a private Orleans client host (never <c>UseOrleansClient</c> on the silo's
/// own builder). It connects in the background and retries forever, so the secondary's start never waits for the
/// primary (ORLEANS-NOTES §4: a blocking connect held a silo's start for minutes). When the connection to the primary
/// is lost, long-polls in flight are cancelled at once and a fresh client replaces the old one: the old client was
/// measured to take ~55 s to notice that the primary's gateway was back; a fresh one connects within a second.
/// </summary>
internal sealed class PrimaryLink : IPrimaryDatacenterLink, IHostedService, IAsyncDisposable
{
    /// <summary>Pause between connection attempts while the primary cannot be reached.</summary>
    internal static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(200);

    private readonly string _primary;
    // A link to the primary (replication's) or to any other datacenter (DatacenterLinks): only the texts differ.
    private readonly bool _isPrimary;
    private readonly Func<CancellationToken, Task<string?>>? _diagnose;
    private readonly Func<IClusterConnectionStatusObserver, IHost> _build;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private Task _connect = Task.CompletedTask;
    private volatile IHost _host;
    private int _generation;
    private int _reconnecting;
    // Completed while the current client is connected; replaced when the connection is lost, so a call made while the
    // primary is down fails fast instead of waiting for Orleans' response timeout.
    private volatile TaskCompletionSource _gatewayUp = NewCompleted();
    // Cancelled when the connection is lost: long-polls in flight end at once instead of waiting for a reply that
    // died with the connection (measured: up to the 10.5-minute response timeout).
    private volatile CancellationTokenSource _connection = new();

    public PrimaryLink(string primaryDatacenter, string serviceId, string clusterId, IPEndPoint[] gateways,
        Orleans.Connections.Security.TlsOptions? tls = null, Func<CancellationToken, Task<string?>>? diagnose = null, bool isPrimary = true)
    {
        _primary = primaryDatacenter;
        _isPrimary = isPrimary;
        _diagnose = diagnose;
        _build = observer =>
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.UseOrleansClient(client =>
            {
                client.Configure<ClusterOptions>(o => { o.ServiceId = serviceId; o.ClusterId = clusterId; });
                client.UseStaticClustering(gateways);
                // With VerifyServerHostname the options require server.<primary dc>.<domain>: a secondary follows only
                // a server of the datacenter it was told is the primary.
                if (tls is not null) client.Configure<ClientConnectionOptions>(o => o.ConfigureConnection(c => c.UseClientTls(tls)));
                // Retry often: a failed attempt against a primary that is down costs one refused TCP connect, and the
                // retry interval is the floor of how soon a secondary notices the primary is back (1 s before: the
                // catch-up benchmark spent 0.5-0.8 s of its 2 s waiting for the next attempt).
                client.UseConnectionRetryFilter(async (_, ct) => { await Task.Delay(RetryInterval, ct); return true; });
                client.Configure<ConnectionOptions>(o => o.ConnectionRetryDelay = RetryInterval);
                // A primary of several silos: a gateway that failed is skipped until the list is refreshed, so a
                // silo restarted (a rolling restart) is used again within this period instead of Orleans' minute.
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = Client.MeridianClientOptions.GatewayRefreshPeriod);
                client.Services.AddSingleton(observer);
            });
            return builder.Build();
        };
        _host = _build(new Observer(this, 0));
    }

    public bool IsConnected => _ready.Task.IsCompletedSuccessfully && _gatewayUp.Task.IsCompleted;

    public CancellationToken ConnectionLost => _connection.Token;

    public Task Connected => _ready.Task.IsCompletedSuccessfully ? _gatewayUp.Task : _ready.Task;

    public async Task<IGrainFactory> GetPrimaryAsync(TimeSpan wait, CancellationToken cancellationToken = default)
    {
        try
        {
            await _ready.Task.WaitAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new DatacenterUnreachableException(_primary, _isPrimary
                ? $"the primary datacenter {_primary} is unreachable (still connecting){await DiagnoseAsync(cancellationToken)}"
                : $"Remote DC has no server currently reachable: {_primary} (still connecting){await DiagnoseAsync(cancellationToken)}");
        }
        try
        {
            await _gatewayUp.Task.WaitAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new DatacenterUnreachableException(_primary, _isPrimary
                ? $"the primary datacenter {_primary} is unreachable (connection lost, reconnecting)"
                : $"Remote DC has no server currently reachable: {_primary} (connection lost, reconnecting)");
        }
        return _host.Services.GetRequiredService<IClusterClient>();
    }

    // Orleans reports a refused TLS handshake only as a closed connection: say what the primary's gateway did (refused
    // this silo's certificate, showed one of another datacenter, does not speak TLS), so the status says why.
    private async Task<string> DiagnoseAsync(CancellationToken cancellationToken)
    {
        if (_diagnose is null) return "";
        try
        {
            return await _diagnose(cancellationToken) is { } why ? $": {why}" : "";
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            return "";
        }
    }

    private void OnGatewayCount(int generation, int count, int previous)
    {
        if (generation != Volatile.Read(ref _generation)) return; // a retired client
        if (count <= 0)
        {
            OnLost(generation);
            return;
        }
        _gatewayUp.TrySetResult();
        // One gateway of a primary of several silos was lost (killed, stopped): the Orleans client does not fail the
        // calls in flight through it, nor those that reached grains of that silo through another gateway; a long-poll
        // among them would wait for its own bound (PollWait, 5 minutes by default). End the calls in flight now: the
        // followers poll again through the gateways left (PrimaryFollowerGrain does not count that as a failed round).
        if (count < previous) EndCallsInFlight(generation);
    }

    private void EndCallsInFlight(int generation)
    {
        lock (_lock)
        {
            if (generation != _generation) return;
            var lost = Interlocked.Exchange(ref _connection, new CancellationTokenSource());
            lost.Cancel();
            lost.Dispose();
        }
    }

    private void OnLost(int generation)
    {
        lock (_lock)
        {
            if (generation != _generation) return;
            if (_gatewayUp.Task.IsCompleted) _gatewayUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var lost = Interlocked.Exchange(ref _connection, new CancellationTokenSource());
            lost.Cancel();
            lost.Dispose();
        }
        if (!_stop.IsCancellationRequested && Interlocked.CompareExchange(ref _reconnecting, 1, 0) == 0)
            _ = Task.Run(ReconnectAsync);
    }

    // Replace the client: build and connect a fresh one (retrying until the primary answers), then retire the old one.
    private async Task ReconnectAsync()
    {
        try
        {
            IHost fresh, old;
            int generation;
            lock (_lock)
            {
                generation = ++_generation;
                old = _host;
            }
            fresh = _build(new Observer(this, generation));
            await fresh.StartAsync(_stop.Token);
            lock (_lock)
            {
                _host = fresh;
                // Calls still in flight on the old client are about to fail: mark them as lost with the connection
                // so their rounds retry at once on the fresh client.
                var stale = Interlocked.Exchange(ref _connection, new CancellationTokenSource());
                stale.Cancel();
                stale.Dispose();
                _gatewayUp.TrySetResult();
            }
            using var retire = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await old.StopAsync(retire.Token); } catch (Exception) { /* the old connection is gone anyway */ }
            old.Dispose();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        finally
        {
            Volatile.Write(ref _reconnecting, 0);
        }
    }

    private static TaskCompletionSource NewCompleted()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        tcs.SetResult();
        return tcs;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _connect = Task.Run(async () =>
        {
            try
            {
                await _host.StartAsync(_stop.Token);
                _ready.TrySetResult();
            }
            catch (Exception e)
            {
                _ready.TrySetException(e);
            }
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _connect;
        if (_ready.Task.IsCompletedSuccessfully) await _host.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Dispose();
        if (_host is IAsyncDisposable d) await d.DisposeAsync();
        else _host.Dispose();
    }

    // One per client generation, so callbacks from a retired client are ignored.
    private sealed class Observer(PrimaryLink link, int generation) : IClusterConnectionStatusObserver
    {
        public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
            => link.OnGatewayCount(generation, currentNumberOfGateways, previousNumberOfGateways);

        public void NotifyClusterConnectionLost() => link.OnLost(generation);
    }
}

/// <summary>
/// Replication settings of a secondary. Section <c>Meridian:Replication</c>: <c>PollWait</c> (default 00:05:00, how long
/// one long-poll on the primary waits), <c>AdoptPrimaryState</c> (default false: the first sync into a secondary that
/// holds its own intentions, and a replaced or reset primary's state, are held with a diff until
/// <c>meridian replication adopt</c> instead of deleting what the secondary holds).
/// </summary>
public static class ReplicationOptions
{
    public const string SectionName = "Meridian:Replication";
}
