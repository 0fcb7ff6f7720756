using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Meridian.Client;
using Meridian.Proxy;

namespace Meridian.Integration.Tests;

/// <summary>
/// A TCP echo service standing in for an application behind a proxy: echoes every byte, closes after the caller's
/// end of stream, and counts the connections it accepted (a refused caller must never reach it). With a
/// banner, sends it first, so a test can tell which instance answered.
/// </summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly string _banner;
    private int _accepted;

    public EchoServer(string banner = "")
    {
        _banner = banner;
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public DnsEndPoint Endpoint => new("127.0.0.1", Port);

    public int Accepted => Volatile.Read(ref _accepted);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            Interlocked.Increment(ref _accepted);
            _connections.Add(Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        var stream = client.GetStream();
                        if (_banner.Length > 0) await stream.WriteAsync(Encoding.ASCII.GetBytes(_banner), _stop.Token);
                        await stream.CopyToAsync(stream, _stop.Token);
                        client.Client.Shutdown(SocketShutdown.Send);
                    }
                    catch (Exception) { /* the caller went away */ }
                }
            }));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        foreach (var c in _connections) await c;
        _stop.Dispose();
    }
}

/// <summary>What a client of the proxy's local upstream listener does: connect, send, read the answer to the end.</summary>
public static class ProxyClient
{
    /// <summary>Sends <paramref name="message"/>, half-closes, returns everything received until the other end closes.</summary>
    public static async Task<string> ExchangeAsync(IPEndPoint endpoint, string message, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(endpoint, cts.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(message), cts.Token);
        client.Client.Shutdown(SocketShutdown.Send);
        using var received = new MemoryStream();
        await stream.CopyToAsync(received, cts.Token);
        return Encoding.ASCII.GetString(received.ToArray());
    }
}

/// <summary>
/// An <see cref="IMeridianClient"/> that records every call and its arguments before passing it on: what the SDK was
/// asked to send, for the key-custody check.
/// </summary>
public class RecordingClient : DispatchProxy
{
    private IMeridianClient _inner = null!;

    public ConcurrentQueue<(string Method, object?[] Args)> Calls { get; } = new();

    public static (IMeridianClient Client, RecordingClient Recorder) Wrap(IMeridianClient inner)
    {
        var client = Create<IMeridianClient, RecordingClient>();
        var recorder = (RecordingClient)(object)client;
        recorder._inner = inner;
        return (client, recorder);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        Calls.Enqueue((targetMethod!.Name, args ?? []));
        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

/// <summary>Starting proxies the way the CLI does, with the options a test needs.</summary>
public static class Proxies
{
    public static async Task<ConnectProxy> StartAsync(IMeridianClient client, ProxyOptions options)
    {
        var proxy = new ConnectProxy(client, options);
        try
        {
            await proxy.StartAsync();
            return proxy;
        }
        catch
        {
            await proxy.DisposeAsync();
            throw;
        }
    }

    /// <summary>An inbound (registered) proxy of <paramref name="service"/> in front of <paramref name="app"/> on loopback.</summary>
    public static ProxyOptions Inbound(string service, EchoServer app, string node, Action<ProxyHandshake>? onHandshake = null) => new()
    {
        Service = service,
        Listen = new IPEndPoint(IPAddress.Loopback, 0),
        LocalApp = app.Endpoint,
        Node = node,
        DrainTimeout = TimeSpan.FromSeconds(5),
        OnHandshake = onHandshake,
    };

    /// <summary>An upstream-only proxy of <paramref name="service"/> (not registered), local ports chosen by the system.</summary>
    public static ProxyOptions Upstreams(string service, params ProxyUpstream[] upstreams) => new()
    {
        Service = service,
        Upstreams = [.. upstreams],
        DrainTimeout = TimeSpan.FromSeconds(5),
    };

    public static IPEndPoint Local(ConnectProxy proxy, string destination) =>
        proxy.UpstreamEndpoints.Single(u => u.Upstream.DestinationName == destination).Endpoint;
}
