using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
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
