using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Meridian.Client;

/// <summary>Opens a connection to one datacenter.</summary>
public interface IMeridianClientFactory
{
    /// <summary>
    /// Connects with <paramref name="options"/> (read once; later changes do not affect the connection), or throws
    /// <see cref="MeridianUnreachableException"/> naming the gateway.
    /// </summary>
    Task<MeridianConnection> ConnectAsync(MeridianClientOptions options, CancellationToken cancellationToken = default);
}

/// <summary>A connected client and what must be disposed to close it.</summary>
public sealed class MeridianConnection(IMeridianClient client, Func<ValueTask>? close = null) : IAsyncDisposable
{
    /// <summary>The client; usable until the connection is disposed.</summary>
    public IMeridianClient Client { get; } = client;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => close?.Invoke() ?? ValueTask.CompletedTask;
}

/// <summary>
/// Connections for programs that are not themselves a host (the CLI, a tool, a test): each a small host of its own
/// with <see cref="MeridianClientHostingExtensions.AddMeridianClient"/>, no configuration sources, no logging
/// providers and no signal handling (<see cref="PassiveHostLifetime"/>): the caller prints its own errors and owns
/// cancellation.
/// </summary>
public sealed class HostedMeridianClientFactory : IMeridianClientFactory
{
    // Closing is best effort: the caller already has its answer.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <inheritdoc />
    public async Task<MeridianConnection> ConnectAsync(MeridianClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<IHostLifetime, PassiveHostLifetime>();
        var copy = Copy(options);
        builder.AddMeridianClient(o => Copy(copy, o));
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new MeridianConnection(host.Services.GetRequiredService<IMeridianClient>(), async () =>
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            try
            {
                await host.StopAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
            {
                // The gateway went away after the call: the answer stands.
            }
            finally
            {
                host.Dispose();
            }
        });
    }

    /// <summary>A copy of <paramref name="from"/>, into <paramref name="to"/> when given.</summary>
    public static MeridianClientOptions Copy(MeridianClientOptions from, MeridianClientOptions? to = null)
    {
        ArgumentNullException.ThrowIfNull(from);
        to ??= new MeridianClientOptions();
        to.Gateways = [.. from.Gateways];
        to.Datacenter = from.Datacenter;
        to.ServiceId = from.ServiceId;
        to.ClusterId = from.ClusterId;
        to.Token = from.Token;
        to.ConnectTimeout = from.ConnectTimeout;
        to.FirstCallTimeout = from.FirstCallTimeout;
        to.CaFile = from.CaFile;
        to.ClientCertFile = from.ClientCertFile;
        to.ClientKeyFile = from.ClientKeyFile;
        to.VerifyServerHostname = from.VerifyServerHostname;
        to.TlsDomain = from.TlsDomain;
        return to;
    }
}

/// <summary>
/// A host lifetime that does not listen for Ctrl-C/SIGTERM: the program's own command owns cancellation, and several
/// hosts in one process (<c>meridian dev</c>, a client per datacenter) must not each react to the signal on their own.
/// </summary>
public sealed class PassiveHostLifetime : IHostLifetime
{
    /// <inheritdoc />
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// One client per datacenter of a federation, opened on first use and kept until disposed: the local one with the
/// given options, any other with the same token and TLS files and the gateways that datacenter registered
/// (<see cref="Grains.DatacenterInfoDto.Gateways"/>, from <see cref="IMeridianClient.GetDatacentersAsync"/> of the local
/// one) unless <paramref name="gateways"/> names them. Calls that take a <c>datacenter</c> argument (catalog, health,
/// prepared queries) are routed by the silo and need no client of the other datacenter; this is for everything else
/// (intentions, CA roots, certificates as that datacenter serves them).
/// </summary>
/// <remarks>
/// The registered gateways are the ones other datacenters' silos use (<c>Meridian:Wan:Gateways</c>); a client that
/// cannot reach them (another network) passes its own in <paramref name="gateways"/>. A connection that fails is not
/// kept: the next call tries again.
/// </remarks>
public sealed class MeridianClientPool(IMeridianClientFactory factory, MeridianClientOptions local,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? gateways = null) : IAsyncDisposable
{
    private readonly MeridianClientOptions _local = HostedMeridianClientFactory.Copy(local);
    private readonly ConcurrentDictionary<string, Lazy<Task<MeridianConnection>>> _connections = new(StringComparer.Ordinal);

    /// <summary>The datacenter of the local options.</summary>
    public string LocalDatacenter => _local.Datacenter;

    /// <summary>
    /// The client of <paramref name="datacenter"/> (null or empty: the local one). A datacenter the local one does not
    /// know, or that registered no gateways, is <see cref="Grains.UnknownDatacenterException"/> (Consul's
    /// <c>No path to datacenter</c>).
    /// </summary>
    public async Task<IMeridianClient> GetAsync(string? datacenter = null, CancellationToken cancellationToken = default)
    {
        var name = string.IsNullOrEmpty(datacenter) ? _local.Datacenter : datacenter;
        var lazy = _connections.GetOrAdd(name, n => new Lazy<Task<MeridianConnection>>(() => ConnectAsync(n, cancellationToken)));
        try
        {
            return (await lazy.Value).Client;
        }
        catch
        {
            _connections.TryRemove(new KeyValuePair<string, Lazy<Task<MeridianConnection>>>(name, lazy));
            throw;
        }
    }

    private async Task<MeridianConnection> ConnectAsync(string datacenter, CancellationToken cancellationToken)
    {
        if (datacenter == _local.Datacenter) return await factory.ConnectAsync(_local, cancellationToken);
        var options = HostedMeridianClientFactory.Copy(_local);
        options.Datacenter = datacenter;
        options.ClusterId = null;
        if (gateways?.TryGetValue(datacenter, out var given) == true)
        {
            options.Gateways = [.. given];
        }
        else
        {
            var local = await GetAsync(null, cancellationToken);
            var known = (await local.GetDatacentersAsync(cancellationToken)).Datacenters.FirstOrDefault(d => d.Name == datacenter);
            if (known is null || known.Gateways.IsDefaultOrEmpty) throw new Grains.UnknownDatacenterException(datacenter);
            options.Gateways = [.. known.Gateways];
            if (known.ClusterId.Length > 0) options.ClusterId = known.ClusterId;
        }
        return await factory.ConnectAsync(options, cancellationToken);
    }

    /// <summary>Closes every connection opened.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _connections.Values)
        {
            if (!lazy.IsValueCreated) continue;
            try
            {
                await (await lazy.Value).DisposeAsync();
            }
            catch (Exception) when (!lazy.Value.IsCompletedSuccessfully)
            {
                // Never connected: nothing to close.
            }
        }
        _connections.Clear();
    }
}
