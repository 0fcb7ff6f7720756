using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Meridian.Client;
using Meridian.Grains;
using Meridian.Proxy;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// The connect proxy (issue 17) in one datacenter: web's proxy dials db's proxy over mutual TLS, db's proxy forwards to
/// a local server. Three numbers, each next to the same measurement without proxies in the same run:
/// <list type="bullet">
/// <item>throughput of one bulk stream through both proxies as a ratio to a direct loopback TCP connection (target ≥ 0.5);</item>
/// <item>new connections per second with the full path: TCP + mTLS handshake + authorize (decision cache off) + one byte echoed;</item>
/// <item>the p99 latency the pair adds to a 64-byte request/response at 1,000 requests/s (target ≤ 1 ms).</item>
/// </list>
/// <c>MERIDIAN_BENCH_SECONDS</c> shortens the measured windows (a smoke run).
/// </summary>
internal static class ProxyScenario
{
    private const int ConnectConcurrency = 8;
    private const double RequestRate = 1000;
    private const int MessageBytes = 64;

    public static async Task RunAsync()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("MERIDIAN_BENCH_SECONDS"), out var s) && s > 0 ? s : 8;
        var (warmup, measured) = (TimeSpan.FromSeconds(Math.Max(1, seconds / 3)), TimeSpan.FromSeconds(seconds));
        var bulkBytes = (long)Math.Min(512, 64 * seconds) << 20;
        Console.WriteLine($"proxy: two connect proxies (web -> db, mutual TLS, authorize on every connection) vs direct loopback TCP; " +
            $"bulk {bulkBytes >> 20} MiB, {ConnectConcurrency} connecting loops, {RequestRate:N0} req/s of {MessageBytes} B; warm-up {warmup.TotalSeconds} s, " +
            $"measured {measured.TotalSeconds} s; {Environment.ProcessorCount} cores, load {Latency.Load()}");

        await using var dc1 = await SiloHarness.StartDatacenterAsync("dc1");
        using var host = await SiloHarness.StartClientAsync(dc1.GatewayPort);
        var client = host.Services.GetRequiredService<IMeridianClient>();
        // Warnings only: one line per refused connection or failed dial, so a bad run says why.
        var logs = host.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>();
        await using var app = new BenchServer();
        await client.UpsertIntentionAsync(new IntentionDto { SourceName = "bench-web", DestinationName = "bench-db", Action = "allow" });
        await using var db = new ConnectProxy(client, new ProxyOptions
        {
            Service = "bench-db", Listen = new IPEndPoint(IPAddress.Loopback, 0), LocalApp = new DnsEndPoint("127.0.0.1", app.Port),
            Node = "bench-node", AuthorizeCacheTtl = TimeSpan.Zero,
        }, logs.CreateLogger("Meridian.Proxy"));
        await db.StartAsync();
        await using var web = new ConnectProxy(client, new ProxyOptions
        {
            Service = "bench-web", Upstreams = [new ProxyUpstream(ProxyUpstream.Service, "bench-db", "", "127.0.0.1", 0)],
        }, logs.CreateLogger("Meridian.Proxy"));
        await web.StartAsync();
        var direct = new IPEndPoint(IPAddress.Loopback, app.Port);
        var proxied = web.UpstreamEndpoints[0].Endpoint;
        await Federation.RetryAsync(async () => await BenchServer.EchoOnceAsync(proxied) ? true : throw new InvalidOperationException("no echo"),
            TimeSpan.FromSeconds(30), "an echo through both proxies");

        // 1. Bulk throughput, direct then proxied (each once to warm up, then measured).
        await BenchServer.SinkAsync(direct, bulkBytes / 8);
        var directRate = await BenchServer.SinkAsync(direct, bulkBytes);
        await BenchServer.SinkAsync(proxied, bulkBytes / 8);
        var proxiedRate = await BenchServer.SinkAsync(proxied, bulkBytes);
        var ratio = proxiedRate / directRate;
        Console.WriteLine($"  bulk stream: direct {directRate / (1 << 20):N0} MiB/s, through two proxies {proxiedRate / (1 << 20):N0} MiB/s, ratio {ratio:F2} (target >= 0.5)");

        // 2. New connections per second: every one is a TCP connect, two TLS handshakes' worth of work, one authorize.
        var connects = await Latency.ClosedLoopAsync(ConnectConcurrency, warmup, measured, async (_, _) =>
        {
            if (!await BenchServer.EchoOnceAsync(proxied)) throw new InvalidOperationException("connection refused or closed");
        });
        AuthorizeScenario.Print("new mTLS connection + authorize", connects);
        var directConnects = await Latency.ClosedLoopAsync(ConnectConcurrency, warmup, measured, async (_, _) =>
        {
            if (!await BenchServer.EchoOnceAsync(direct)) throw new InvalidOperationException("direct echo failed");
        });
        AuthorizeScenario.Print("new direct TCP connection", directConnects);

        // 3. Added latency of a small request/response at a fixed rate, over kept-open connections.
        await using var directPool = await ConnectionPool.OpenAsync(direct);
        await using var proxiedPool = await ConnectionPool.OpenAsync(proxied);
        var directRr = await Latency.PacedAsync(RequestRate, warmup, measured, _ => directPool.RoundTripAsync());
        AuthorizeScenario.Print($"{MessageBytes} B request/response, direct", directRr);
        var proxiedRr = await Latency.PacedAsync(RequestRate, warmup, measured, _ => proxiedPool.RoundTripAsync());
        AuthorizeScenario.Print($"{MessageBytes} B request/response, proxied", proxiedRr);
        var added = proxiedRr.P99Ms - directRr.P99Ms;
        Console.WriteLine($"  p99 added by the proxy pair at {RequestRate:N0} req/s: {added:F3} ms (target <= 1 ms)");
        var c = db.Counters;
        Console.WriteLine($"  db's proxy: {c.AcceptedInbound:N0} accepted, {c.Refused} refused, {c.Failed} failed, {c.Bytes >> 20:N0} MiB");

        Console.WriteLine(JsonSerializer.Serialize(new
        {
            scenario = "proxy",
            bulk_direct_mib_s = Math.Round(directRate / (1 << 20), 1),
            bulk_proxied_mib_s = Math.Round(proxiedRate / (1 << 20), 1),
            bulk_ratio = Math.Round(ratio, 3),
            connections_per_s = Math.Round(connects.PerSecond),
            connection_p99_ms = Math.Round(connects.P99Ms, 3),
            connection_errors = connects.Errors,
            direct_connections_per_s = Math.Round(directConnects.PerSecond),
            rr_direct_p99_ms = Math.Round(directRr.P99Ms, 3),
            rr_proxied_p99_ms = Math.Round(proxiedRr.P99Ms, 3),
            rr_added_p99_ms = Math.Round(added, 3),
            rr_errors = proxiedRr.Errors + directRr.Errors,
            refused = c.Refused,
            failed = c.Failed + web.Counters.Failed,
        }));
    }

    /// <summary>
    /// A fixed set of kept-open connections for request/response: a call waits for an idle one (so an overloaded run
    /// shows as queueing in the latency, not as a growing number of new connections), uses it, returns it.
    /// </summary>
    private sealed class ConnectionPool : IAsyncDisposable
    {
        private const int Size = 32;
        private readonly System.Threading.Channels.Channel<TcpClient> _idle = System.Threading.Channels.Channel.CreateUnbounded<TcpClient>();
        private readonly List<TcpClient> _all = [];

        private ConnectionPool() { }

        public static async Task<ConnectionPool> OpenAsync(IPEndPoint endpoint)
        {
            var pool = new ConnectionPool();
            for (var i = 0; i < Size; i++)
            {
                var connection = new TcpClient { NoDelay = true };
                await connection.ConnectAsync(endpoint);
                pool._all.Add(connection);
                pool._idle.Writer.TryWrite(connection);
            }
            return pool;
        }

        public async Task RoundTripAsync()
        {
            var connection = await _idle.Reader.ReadAsync();
            try
            {
                var request = new byte[MessageBytes];
                var response = new byte[MessageBytes];
                var stream = connection.GetStream();
                await stream.WriteAsync(request);
                await stream.ReadExactlyAsync(response);
            }
            finally
            {
                _idle.Writer.TryWrite(connection);
            }
        }

        public ValueTask DisposeAsync()
        {
            foreach (var c in _all) c.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// The application behind db's proxy: echoes, except that a connection whose first byte is <c>S</c> is a sink
    /// (reads until end of stream, answers the byte count as 8 bytes).
    /// </summary>
    private sealed class BenchServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public BenchServer()
        {
            _listener.Start(1024);
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient c;
                    try { c = await _listener.AcceptTcpClientAsync(_stop.Token); }
                    catch (Exception) { return; }
                    _ = Task.Run(() => ServeAsync(c));
                }
            });
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        private static async Task ServeAsync(TcpClient c)
        {
            using (c)
            {
                c.NoDelay = true;
                var stream = c.GetStream();
                var buffer = new byte[64 * 1024];
                try
                {
                    var n = await stream.ReadAsync(buffer);
                    if (n == 0) return;
                    if (buffer[0] == (byte)'S')
                    {
                        long total = n;
                        while ((n = await stream.ReadAsync(buffer)) > 0) total += n;
                        BinaryPrimitives.WriteInt64LittleEndian(buffer, total);
                        await stream.WriteAsync(buffer.AsMemory(0, 8));
                    }
                    else
                    {
                        do await stream.WriteAsync(buffer.AsMemory(0, n));
                        while ((n = await stream.ReadAsync(buffer)) > 0);
                    }
                    c.Client.Shutdown(SocketShutdown.Send);
                }
                catch (Exception)
                {
                    // The caller went away.
                }
            }
        }

        /// <summary>Bytes per second of one stream of <paramref name="bytes"/> to the sink, until its count came back.</summary>
        public static async Task<double> SinkAsync(IPEndPoint endpoint, long bytes)
        {
            using var c = new TcpClient { NoDelay = true };
            await c.ConnectAsync(endpoint);
            var stream = c.GetStream();
            var chunk = new byte[64 * 1024];
            chunk[0] = (byte)'S';
            var started = Stopwatch.GetTimestamp();
            for (long sent = 0; sent < bytes; sent += chunk.Length) await stream.WriteAsync(chunk);
            c.Client.Shutdown(SocketShutdown.Send);
            var count = new byte[8];
            await stream.ReadExactlyAsync(count);
            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var received = BinaryPrimitives.ReadInt64LittleEndian(count);
            if (received < bytes) throw new InvalidOperationException($"the sink counted {received} of {bytes} bytes");
            return received / elapsed;
        }

        /// <summary>A new connection, one byte there and back, closed.</summary>
        public static async Task<bool> EchoOnceAsync(IPEndPoint endpoint)
        {
            using var c = new TcpClient { NoDelay = true };
            await c.ConnectAsync(endpoint);
            var stream = c.GetStream();
            await stream.WriteAsync("e"u8.ToArray());
            var one = new byte[1];
            return await stream.ReadAsync(one) == 1 && one[0] == (byte)'e';
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _loop;
            _stop.Dispose();
        }
    }
}
