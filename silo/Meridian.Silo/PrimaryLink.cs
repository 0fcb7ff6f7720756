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
/// primary (ORLEANS-NOTES §4: a blocking connect held a silo's start for minutes).
/// </summary>
internal sealed class PrimaryLink : IPrimaryDatacenterLink, IHostedService, IAsyncDisposable, IClusterConnectionStatusObserver
{
    private readonly IHost _host;
    private readonly string _primary;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _connect = Task.CompletedTask;
    // Completed while at least one of the primary's gateways is connected; replaced when the last one is lost, so a
    // call made while the primary is down fails fast instead of waiting for Orleans' response timeout.
    private volatile TaskCompletionSource _gatewayUp = NewCompleted();
    // Cancelled when the connection is lost: long-polls in flight end at once instead of waiting for a reply that
    // died with the connection (measured: up to the 10.5-minute response timeout).
    private volatile CancellationTokenSource _connection = new();

    public PrimaryLink(string primaryDatacenter, string serviceId, string clusterId, IPEndPoint[] gateways)
    {
        _primary = primaryDatacenter;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o => { o.ServiceId = serviceId; o.ClusterId = clusterId; });
            client.UseStaticClustering(gateways);
            // Re-check the primary's gateways every few seconds, so a secondary is back within seconds of the primary.
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            client.UseConnectionRetryFilter(async (_, ct) => { await Task.Delay(TimeSpan.FromSeconds(1), ct); return true; });
            client.Services.AddSingleton<IClusterConnectionStatusObserver>(this);
        });
        _host = builder.Build();
    }

    public bool IsConnected => _ready.Task.IsCompletedSuccessfully && _gatewayUp.Task.IsCompleted;

    public CancellationToken ConnectionLost => _connection.Token;

    public async Task<IGrainFactory> GetPrimaryAsync(TimeSpan wait, CancellationToken cancellationToken = default)
    {
        try
        {
            await _ready.Task.WaitAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new DatacenterUnreachableException(_primary, $"the primary datacenter {_primary} is unreachable (still connecting)");
        }
        try
        {
            await _gatewayUp.Task.WaitAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new DatacenterUnreachableException(_primary, $"the primary datacenter {_primary} is unreachable (connection lost, reconnecting)");
        }
        return _host.Services.GetRequiredService<IClusterClient>();
    }

    void IClusterConnectionStatusObserver.NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways > 0) _gatewayUp.TrySetResult();
        else NotifyLost();
    }

    void IClusterConnectionStatusObserver.NotifyClusterConnectionLost() => NotifyLost();

    private void NotifyLost()
    {
        if (_gatewayUp.Task.IsCompleted) _gatewayUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lost = Interlocked.Exchange(ref _connection, new CancellationTokenSource());
        lost.Cancel();
        lost.Dispose();
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
}

/// <summary>
/// Replication settings of a secondary. Section <c>Meridian:Replication</c>: <c>PollWait</c> (default 00:05:00, how long
/// one long-poll on the primary waits), <c>AdoptPrimaryState</c> (default false: the first sync into a secondary that
/// holds its own intentions is refused with a diff instead of deleting them).
/// </summary>
public static class ReplicationOptions
{
    public const string SectionName = "Meridian:Replication";
}
