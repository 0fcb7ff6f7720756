using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace Meridian.Testing;

/// <summary>
/// A TCP proxy that adds a fixed one-way delay to every byte in both directions, to inject WAN latency between
/// datacenters on one machine: point a datacenter's registered gateways (<c>Meridian:Wan:Gateways</c>) at
/// <see cref="Endpoint"/> and every link to it sees a round trip of about twice <see cref="Delay"/> more. The delay is
/// latency, not a bandwidth limit: reads go on while earlier chunks wait for their due time, order is kept.
/// </summary>
public sealed class DelayProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly Task _accept;
    private int _disposed;

    private DelayProxy(TcpListener listener, IPEndPoint target, TimeSpan delay)
    {
        (_listener, _target, Delay) = (listener, target, delay);
        _accept = Task.Run(AcceptAsync);
    }

    /// <summary>The added one-way delay.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Where to connect instead of the target: <c>127.0.0.1:port</c>.</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary><see cref="Endpoint"/> as <c>HOST:PORT</c>.</summary>
    public string Address => $"{Endpoint.Address}:{Endpoint.Port}";

    /// <summary>
    /// Listens on 127.0.0.1:<paramref name="listenPort"/> (0: any free port; tests that restart what listens should
    /// pass one from their FreePorts) and forwards each connection to <paramref name="target"/>, delayed.
    /// </summary>
    public static DelayProxy Start(IPEndPoint target, TimeSpan delay, int listenPort = 0)
    {
        ArgumentNullException.ThrowIfNull(target);
        var listener = new TcpListener(IPAddress.Loopback, listenPort);
        listener.Start();
        return new DelayProxy(listener, target, delay);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            lock (_pumps) _pumps.Add(Task.Run(() => ServeAsync(inbound)));
        }
    }

    private async Task ServeAsync(TcpClient inbound)
    {
        using var _ = inbound;
        using var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(_target, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            return; // the target is down: the caller sees its connection closed, as with a refused connect
        }
        inbound.NoDelay = outbound.NoDelay = true;
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var a = PumpAsync(inbound.GetStream(), outbound.GetStream(), connection);
        var b = PumpAsync(outbound.GetStream(), inbound.GetStream(), connection);
        await Task.WhenAny(a, b);
        await connection.CancelAsync(); // one side closed: close both
        await Task.WhenAll(a, b);
    }

    // Reader and writer run apart: each chunk is written at (time read + Delay).
    private async Task PumpAsync(NetworkStream from, NetworkStream to, CancellationTokenSource connection)
    {
        var ct = connection.Token;
        var queue = Channel.CreateUnbounded<(long Due, byte[] Data)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var writer = Task.Run(async () =>
        {
            try
            {
                await foreach (var (due, data) in queue.Reader.ReadAllAsync(ct))
                {
                    var wait = TimeSpan.FromTicks(due - DateTime.UtcNow.Ticks);
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
                    await to.WriteAsync(data, ct);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
            finally
            {
                await connection.CancelAsync();
            }
        });
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, ct);
                if (read == 0) break;
                queue.Writer.TryWrite((DateTime.UtcNow.Ticks + Delay.Ticks, buffer[..read]));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
        queue.Writer.TryComplete();
        await writer;
    }

    /// <summary>Stops listening and closes every connection; idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        Task[] pumps;
        lock (_pumps) pumps = [.. _pumps];
        await Task.WhenAll(pumps);
        _stop.Dispose();
    }
}
