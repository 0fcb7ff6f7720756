using System.Net;
using System.Net.Sockets;
using Meridian.Client;
using Microsoft.Extensions.Logging;

namespace Meridian.Cli.Tests;

/// <summary>
/// <c>meridian dev</c> with real silos when a port is held by another process: the message names that port and the
/// option to change, never the CLI's default gateway.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class DevSiloStartTests
{
    [Fact]
    public async Task Dev_GatewayPortHeldByAnotherProcess_ExitsTwoNamingThePortAndTheOption()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var held = ((IPEndPoint)holder.LocalEndpoint).Port;
        var (_, siloPort) = TestPorts.FreeRanges(1);
        var error = new StringWriter();
        var context = new CliContext(new StringWriter(), error, new HostedMeridianClientFactory(), new WebApplicationSiloLauncher(new CapturingLoggerProvider()), _ => null);

        var code = await MeridianCli.RunAsync(["dev", "--gateway-port", $"{held}", "--http-port", "0", "--silo-port", $"{siloPort}"], context)
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal($"--gateway-port: port {held} is in use (gateway of dc1, 127.0.0.1:{held}); pick another --gateway-port", error.ToString().Trim());
    }

    // The check before the start cannot close the race with another process; the start's own failure must still be
    // recognisable (Kestrel binds HTTP after the silo started) and leave nothing running or logging behind.
    [Fact]
    public async Task Launcher_HttpPortTakenAtStart_FailsWithAddressInUse_AndStopsTheStartedSiloCleanly()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var held = ((IPEndPoint)holder.LocalEndpoint).Port;
        var (gatewayPort, siloPort) = TestPorts.FreeRanges(1);
        var logs = new CapturingLoggerProvider();
        var launcher = new WebApplicationSiloLauncher(logs);
        var plan = DevPlan.Create("dc1", null, gatewayPort, held, siloPort, null).Silos[0];
        Assert.Equal([held], launcher.PortsInUse(plan));

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => launcher.StartAsync(plan, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Contains(ExitCodes.Chain(ex), e => e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse });
        var disposed = logs.Since(0).Where(e => e.Level >= LogLevel.Error && e.Exception is ObjectDisposedException).ToList();
        Assert.True(disposed.Count == 0, $"{disposed.Count} error(s) from a disposed silo:\n{string.Join('\n', disposed.Take(3))}");
        var listening = new[] { gatewayPort, siloPort }.Where(TestPorts.Accepts).ToList();
        Assert.True(listening.Count == 0, $"still listening after the failed start: {string.Join(", ", listening)}");
    }
}
