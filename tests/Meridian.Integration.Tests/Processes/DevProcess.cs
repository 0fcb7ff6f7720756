using System.Globalization;
using System.Text.Json;

namespace Meridian.Integration.Tests.Processes;

/// <summary><c>meridian dev</c> as a real process on free ports, ready once it prints its ready line.</summary>
public sealed class DevProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    private readonly ChildProcess _process;

    private DevProcess(ChildProcess process, int gatewayPort, int siloPort)
    {
        _process = process;
        Gateway = $"127.0.0.1:{gatewayPort}";
        SiloEndpoint = $"127.0.0.1:{siloPort}";
    }

    /// <summary>dc1's HTTP port (set by <see cref="StartAsync"/>).</summary>
    public int HttpPort { get; private init; }

    /// <summary>The dc1 gateway, HOST:PORT.</summary>
    public string Gateway { get; }

    /// <summary>Each datacenter's HTTP base URL (dashboard, /health), <c>http://127.0.0.1:PORT</c>; set by <see cref="StartFederatedAsync"/>.</summary>
    public IReadOnlyDictionary<string, string> HttpBases { get; private set; } = new Dictionary<string, string>();

    /// <summary>The silo-to-silo endpoint of the gateway's silo, HOST:PORT (not a gateway).</summary>
    public string SiloEndpoint { get; }

    /// <summary>Everything printed so far (banner first).</summary>
    public string Output => _process.Output;

    /// <summary>With <c>--tls</c>: the <c>--ca-file … --client-cert … --client-key …</c> the banner told clients to pass.</summary>
    public IReadOnlyList<string> TlsArguments { get; private set; } = [];

    /// <summary>With <c>--acl</c>: the management token the banner printed.</summary>
    public string ManagementToken { get; private set; } = "";

    /// <summary>
    /// <c>meridian dev</c> (dc1) on free ports; with <paramref name="tls"/>, <c>--tls</c>, and
    /// <see cref="TlsArguments"/> read from the banner; with <paramref name="acl"/>, <c>--acl</c> and
    /// <see cref="ManagementToken"/>.
    /// </summary>
    public static async Task<DevProcess> StartAsync(string? postgres = null, bool tls = false, bool acl = false)
    {
        var ports = FreePorts.Take(3);
        List<string> args =
        [
            "dev",
            "--gateway-port", ports[0].ToString(CultureInfo.InvariantCulture),
            "--http-port", ports[1].ToString(CultureInfo.InvariantCulture),
            "--silo-port", ports[2].ToString(CultureInfo.InvariantCulture),
        ];
        if (postgres is not null) args.AddRange(["--postgres", postgres]);
        if (tls) args.Add("--tls");
        if (acl) args.Add("--acl");
        var dev = new DevProcess(ChildProcess.StartDotnet(Binaries.Cli, args), ports[0], ports[2]) { HttpPort = ports[1] };
        try
        {
            var ready = await dev._process.WaitForLineAsync(l => l.StartsWith("meridian dev: ready", StringComparison.Ordinal), ReadyTimeout);
            Assert.Equal($"meridian dev: ready dc1={dev.Gateway}", ready.Trim());
            if (tls)
            {
                var line = dev.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("--ca-file ", StringComparison.Ordinal));
                Assert.True(line is not null, $"meridian dev --tls printed no --ca-file line:\n{dev.Output}");
                dev.TlsArguments = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }
            if (acl)
            {
                const string Prefix = "management token: ";
                var line = dev.Output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
                Assert.True(line is not null, $"meridian dev --acl printed no management token:\n{dev.Output}");
                dev.ManagementToken = line[Prefix.Length..].Trim();
            }
            return dev;
        }
        catch
        {
            await dev.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// <c>meridian dev --datacenters A,B,… --primary P</c> on three free consecutive port ranges; returns the process
    /// and each datacenter's gateway, once the ready line names them all.
    /// </summary>
    public static async Task<(DevProcess Dev, IReadOnlyDictionary<string, string> Gateways)> StartFederatedAsync(string[] datacenters, string primary)
    {
        var n = datacenters.Length;
        var first = FreePorts.TakeConsecutive(3 * n);
        var (gatewayPort, httpPort, siloPort) = (first, first + n, first + 2 * n);
        string[] args =
        [
            "dev", "--datacenters", string.Join(',', datacenters), "--primary", primary,
            "--gateway-port", gatewayPort.ToString(CultureInfo.InvariantCulture),
            "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
            "--silo-port", siloPort.ToString(CultureInfo.InvariantCulture),
        ];
        var gateways = datacenters.Select((dc, k) => (dc, $"127.0.0.1:{gatewayPort + k}")).ToDictionary(p => p.dc, p => p.Item2);
        var index = Array.IndexOf(datacenters, primary);
        var dev = new DevProcess(ChildProcess.StartDotnet(Binaries.Cli, args), gatewayPort + index, siloPort + index)
        {
            HttpBases = datacenters.Select((dc, k) => (dc, $"http://127.0.0.1:{httpPort + k}")).ToDictionary(p => p.dc, p => p.Item2),
        };
        try
        {
            var ready = await dev._process.WaitForLineAsync(l => l.StartsWith("meridian dev: ready", StringComparison.Ordinal), ReadyTimeout);
            Assert.Equal("meridian dev: ready " + string.Join(' ', datacenters.Select(dc => $"{dc}={gateways[dc]}")), ready.Trim());
            return (dev, gateways);
        }
        catch
        {
            await dev.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>meridian --gateway GATEWAY args…</c> against this dev process.</summary>
    public Task<CommandResult> CliAsync(params string[] args) => Cli.RunAsync(["--gateway", Gateway, .. args]);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>The <c>meridian</c> CLI as a real process.</summary>
public static class Cli
{
    public static Task<CommandResult> RunAsync(params string[] args) => Commands.RunDotnetAsync(Binaries.Cli, args);

    /// <summary>Asserts exit 0 and parses stdout as one JSON document.</summary>
    public static JsonElement Json(CommandResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        using var doc = JsonDocument.Parse(result.Stdout);
        return doc.RootElement.Clone();
    }
}
