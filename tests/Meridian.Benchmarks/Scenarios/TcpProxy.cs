using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// A loopback TCP forwarder used to take a datacenter link away and bring it back: <see cref="Block"/> resets every
/// open connection and resets new ones at once (the port keeps listening, so nothing has to re-bind); <see cref="Unblock"/>
/// forwards again.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly Task _accept;
    private volatile bool _blocked;

    public TcpProxy(int targetPort, int listenPort = 0)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        _listener = new TcpListener(IPAddress.Loopback, listenPort);
        _listener.Start();
        _accept = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Endpoint => $"127.0.0.1:{Port}";

    private int _accepted;
    private readonly ConcurrentQueue<(DateTimeOffset At, bool Reset)> _accepts = new();

    /// <summary>When each connection was accepted and whether it was reset because the proxy was blocked.</summary>
    public IReadOnlyList<(DateTimeOffset At, bool Reset)> Accepts => [.. _accepts];

    /// <summary>Connections accepted (forwarded or reset) so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public void Block()
    {
        _blocked = true;
        foreach (var s in _open.Keys) Reset(s);
    }

    public void Unblock() => _blocked = false;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch { return; }
            Interlocked.Increment(ref _accepted);
            _accepts.Enqueue((DateTimeOffset.UtcNow, _blocked));
            if (_blocked) { Reset(client); continue; }
            _ = Task.Run(async () =>
            {
                var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                client.NoDelay = true;
                try
                {
                    await upstream.ConnectAsync(_target, _stop.Token);
                    _open[client] = 0;
                    _open[upstream] = 0;
                    if (_blocked) { Reset(client); Reset(upstream); return; }
                    await Task.WhenAny(PumpAsync(client, upstream), PumpAsync(upstream, client));
                }
                catch { }
                finally
                {
                    Reset(client);
                    Reset(upstream);
                }
            });
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) return;
                for (var sent = 0; sent < n;) sent += await to.SendAsync(buffer.AsMemory(sent, n - sent), SocketFlags.None, _stop.Token);
            }
        }
        catch { }
    }

    private void Reset(Socket s)
    {
        _open.TryRemove(s, out _);
        try { s.LingerState = new LingerOption(true, 0); } catch { }
        try { s.Close(); } catch { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var s in _open.Keys) Reset(s);
        try { await _accept; } catch { }
        _stop.Dispose();
    }
}
