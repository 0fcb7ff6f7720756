using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Meridian.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Cli.Tests;

/// <summary>
/// The SDK's start against addresses that are not a gateway: it ends (the test timeout is the bound, speed is not
/// asserted), with an error that says what answered, and without Orleans' logging.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MeridianClientConnectTests
{
    [Fact(Timeout = 60_000)]
    public async Task Start_PortAcceptsAndSaysNothing_FailsWithTheGatewayAndAHint()
    {
        using var silent = new SilentListener();
        var error = await Assert.ThrowsAsync<MeridianUnreachableException>(() => StartAsync(silent.Gateway, new CapturingLoggerProvider()));
        Assert.Contains($"{silent.Gateway} accepted the connection but did not answer", error.Message);
        Assert.Contains("is it a Meridian gateway? `meridian dev` serves dc1 on 127.0.0.1:30000", error.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task Start_NothingListens_SaysSo()
    {
        var gateway = $"127.0.0.1:{FreePort()}";
        var error = await Assert.ThrowsAsync<MeridianUnreachableException>(() => StartAsync(gateway, new CapturingLoggerProvider()));
        Assert.Contains($"nothing listens at {gateway}", error.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task Start_WithoutTlsAgainstATlsOnlyPort_SaysItRequiresTlsAndWhichOptions()
    {
        // Before: "closed the connection: it is not a gateway of dc1 (check --datacenter); is it a Meridian gateway?"
        using var tls = new TlsOnlyListener();
        var error = await Assert.ThrowsAsync<MeridianUnreachableException>(() => StartAsync(tls.Gateway, new CapturingLoggerProvider()));
        Assert.Equal(
            $"cannot reach datacenter dc1: {tls.Gateway} requires TLS: pass --ca-file, --client-cert and --client-key (or set MERIDIAN_CACERT, " +
            "MERIDIAN_CLIENT_CERT and MERIDIAN_CLIENT_KEY; in the SDK, Meridian:Client:CaFile, ClientCertFile and ClientKeyFile)",
            error.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task Start_WithoutTlsAgainstAPortThatCloses_StillSaysItIsNotAGateway()
    {
        using var closing = new ClosingListener();
        var error = await Assert.ThrowsAsync<MeridianUnreachableException>(() => StartAsync(closing.Gateway, new CapturingLoggerProvider()));
        Assert.Contains($"{closing.Gateway} closed the connection: it is not a gateway of dc1 (check --datacenter)", error.Message);
        Assert.DoesNotContain("TLS", error.Message);
    }

    [Fact(Timeout = 60_000)]
    public async Task Probe_PortThatClosesOutlastsTheTimeout_StaysNotOrleans()
    {
        // Each attempt takes about 30 ms here, so the probe's 30 attempts outlast its 500 ms: the timeout strikes an
        // attempt half-way (in its connect or its read). Before: that attempt's "nothing listens" or "silent" was the
        // finding, for a port that had closed on every earlier attempt (the CLI then said nothing listened at a TLS gateway).
        // 500 ms, not less: on a loaded machine no attempt at all may finish within 100 ms, and "silent" is then true.
        using var closing = new ClosingListener(closeAfter: TimeSpan.FromMilliseconds(30));
        var endpoint = IPEndPoint.Parse(closing.Gateway);
        for (var i = 0; i < 5; i++)
            Assert.Equal(GatewayAnswer.NotOrleans, (await GatewayProbe.ProbeAsync(endpoint, "meridian-dc1", TimeSpan.FromMilliseconds(500))).Answer);
    }

    [Theory]
    [InlineData(new byte[] { 0x16, 0x03, 0x03, 0x00, 0x7a }, true)]   // TLS 1.2/1.3 ServerHello record
    [InlineData(new byte[] { 0x15, 0x03, 0x01, 0x00, 0x02 }, true)]   // alert (e.g. handshake_failure) in a 3.1 record
    [InlineData(new byte[] { 0x16, 0x03, 0x00 }, true)]               // SSL 3.0 record header, first three bytes
    [InlineData(new byte[] { 0x17, 0x03, 0x03, 0x00, 0x10 }, false)]  // application data: never a server's first record
    [InlineData(new byte[] { 0x16, 0x02, 0x00 }, false)]              // not a 3.x record version
    [InlineData(new byte[] { 0x16, 0x03, 0x05 }, false)]
    [InlineData(new byte[] { 0x16, 0x03 }, false)]                    // too short to tell
    [InlineData(new byte[] { 0x4a, 0x00, 0x00, 0x00, 0x01 }, false)]  // an Orleans preamble: a little-endian length
    [InlineData(new byte[0], false)]                                  // closed without a byte
    public void IsTlsRecord_ServerFirstBytes_Classified(byte[] received, bool tls)
        => Assert.Equal(tls, TlsProbe.IsTlsRecord(received));

    [Fact(Timeout = 60_000)]
    public async Task Start_ByDefault_OrleansLogsNothingBelowWarningAndNoConnectionFailures()
    {
        var logs = new CapturingLoggerProvider();
        await Assert.ThrowsAsync<MeridianUnreachableException>(() => StartAsync($"127.0.0.1:{FreePort()}", logs));
        var orleans = logs.Entries.Where(e => e.Category.StartsWith("Orleans", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(orleans, e => e.Level < LogLevel.Warning);
        // The start's exception says it all; a warning with a stack trace before it says it twice.
        Assert.DoesNotContain(orleans, e => e.HasException);
    }

    private static async Task StartAsync(string gateway, CapturingLoggerProvider logs)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(logs);
        builder.AddMeridianClient(o => o.Gateways = [gateway]);
        using var host = builder.Build();
        await host.StartAsync();
        await host.StopAsync();
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A TCP port that accepts every connection and never sends a byte.</summary>
    private sealed class SilentListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly ConcurrentBag<Socket> _accepted = [];
        private readonly CancellationTokenSource _stop = new();

        public SilentListener()
        {
            _listener.Start();
            Gateway = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            _ = AcceptAsync();
        }

        public string Gateway { get; }

        private async Task AcceptAsync()
        {
            try
            {
                while (true) _accepted.Add(await _listener.AcceptSocketAsync(_stop.Token));
            }
            catch (OperationCanceledException)
            {
                // Disposed.
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            foreach (var socket in _accepted) socket.Dispose();
            _stop.Dispose();
        }
    }

    /// <summary>
    /// A TCP port that speaks only TLS and requires a client certificate, as a gateway with Meridian:Tls does: a client
    /// that sends anything but a ClientHello sees the connection close.
    /// </summary>
    private sealed class TlsOnlyListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly X509Certificate2 _certificate;

        public TlsOnlyListener()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=server.dc1.meridian", key, HashAlgorithmName.SHA256);
            using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            // Re-imported so the key is usable by SslStream on every platform.
            _certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
            _listener.Start();
            Gateway = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            _ = AcceptAsync();
        }

        public string Gateway { get; }

        private async Task AcceptAsync()
        {
            try
            {
                while (true) _ = ServeAsync(await _listener.AcceptSocketAsync(_stop.Token));
            }
            catch (OperationCanceledException)
            {
                // Disposed.
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
            try
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null,
                }, _stop.Token);
            }
            catch (Exception e) when (e is AuthenticationException or IOException or OperationCanceledException)
            {
                // A client without TLS, or without a certificate: the connection closes, as at a TLS gateway.
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _certificate.Dispose();
            _stop.Dispose();
        }
    }

    /// <summary>A TCP port that closes every connection after its first bytes arrive (neither Orleans nor TLS), after a pause if given.</summary>
    private sealed class ClosingListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly TimeSpan _closeAfter;

        public ClosingListener(TimeSpan closeAfter = default)
        {
            _closeAfter = closeAfter;
            _listener.Start();
            Gateway = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
            _ = AcceptAsync();
        }

        public string Gateway { get; }

        private async Task AcceptAsync()
        {
            try
            {
                while (true) _ = CloseAsync(await _listener.AcceptSocketAsync(_stop.Token));
            }
            catch (OperationCanceledException)
            {
                // Disposed.
            }
        }

        private async Task CloseAsync(Socket socket)
        {
            using (socket)
            {
                try
                {
                    await socket.ReceiveAsync(new byte[64], SocketFlags.None, _stop.Token);
                    if (_closeAfter > TimeSpan.Zero) await Task.Delay(_closeAfter, _stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException)
                {
                    // Disposed, or the client left first.
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }

    private sealed record LogEntry(string Category, LogLevel Level, bool HasException);

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<LogEntry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => entries.Enqueue(new LogEntry(category, logLevel, exception is not null));
        }
    }
}
