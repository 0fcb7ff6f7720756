using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Meridian.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Meridian.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>Silos for the benchmarks: in this process (memory storage, no HTTP) or as a separate OS process.</summary>
internal static class SiloHarness
{
    /// <summary>
    /// A started in-process silo for datacenter dc1 (primary), memory storage, HTTP off. Dispose stops it.
    /// <paramref name="extra"/> adds configuration (Meridian:Ca:…, …).
    /// </summary>
    public static async Task<InProcessSilo> StartInProcessAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var builder = WebApplication.CreateBuilder();
        var config = new Dictionary<string, string?>
        {
            ["Meridian:Datacenter"] = "dc1",
            ["Meridian:PrimaryDatacenter"] = "dc1",
            ["Meridian:Storage:Provider"] = "Memory",
            ["Meridian:Endpoints:SiloPort"] = FreePort().ToString(),
            ["Meridian:Endpoints:GatewayPort"] = FreePort().ToString(),
            ["Meridian:Endpoints:HttpPort"] = "0",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) config[key] = value;
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.AddMeridianSilo();
        var app = builder.Build();
        await app.StartAsync();
        return new InProcessSilo(app, app.Services.GetRequiredService<IGrainFactory>());
    }

    /// <summary>
    /// A started in-process silo for <paramref name="datacenter"/> (memory storage, HTTP off) on free ports, like one
    /// datacenter of <c>meridian dev</c>. A secondary (datacenter != <paramref name="primary"/>) is pointed at
    /// <paramref name="primaryGateway"/> (HOST:PORT). <paramref name="extra"/> adds configuration (Meridian:Ca:…, …).
    /// Orleans' own logs are kept at Error so connection retries while a link is down do not flood the output.
    /// With <paramref name="gatewayBehindProxy"/> the gateway listens on <c>Listen</c> but advertises <c>Advertised</c>
    /// (Orleans' GatewayListeningEndpoint, as behind NAT): a TCP proxy on the advertised port can then carry a client's
    /// connection (an Orleans client addresses its messages to the gateway's advertised address, so a plain forwarder
    /// to a gateway that advertises its own port does not work).
    /// </summary>
    public static async Task<InProcessSilo> StartDatacenterAsync(string datacenter, string primary = "dc1", string? primaryGateway = null,
        IReadOnlyDictionary<string, string?>? extra = null, (int Advertised, int Listen)? gatewayBehindProxy = null)
    {
        var gatewayPort = gatewayBehindProxy?.Advertised ?? FreePort();
        var config = new Dictionary<string, string?>
        {
            ["Meridian:Datacenter"] = datacenter,
            ["Meridian:PrimaryDatacenter"] = primary,
            ["Meridian:Storage:Provider"] = "Memory",
            ["Meridian:Endpoints:Address"] = "127.0.0.1",
            ["Meridian:Endpoints:SiloPort"] = FreePort().ToString(),
            ["Meridian:Endpoints:GatewayPort"] = gatewayPort.ToString(),
            ["Meridian:Endpoints:HttpPort"] = "0",
        };
        if (primaryGateway is not null) config["Meridian:Primary:Gateways:0"] = primaryGateway;
        // The secondaries the scenarios start are federation members of the primary (issue 12).
        if (datacenter == primary) config["Meridian:Federation:Datacenters:0"] = "dc2";
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) config[k] = v;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        // HTTP is off for Meridian, but Kestrel would still bind its default :5000; two silos in one process would clash.
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddMeridianSilo();
        if (gatewayBehindProxy is { } nat)
            builder.Services.Configure<Orleans.Configuration.EndpointOptions>(o => o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Loopback, nat.Listen));
        var app = builder.Build();
        await app.StartAsync();
        return new InProcessSilo(app, app.Services.GetRequiredService<IGrainFactory>()) { GatewayPort = gatewayPort, Datacenter = datacenter };
    }

    /// <summary>A started SDK client host for datacenter dc1 through <paramref name="gatewayPort"/> on loopback, with mutual TLS when <paramref name="tls"/> is given.</summary>
    public static async Task<IHost> StartClientAsync(int gatewayPort, BenchTls? tls = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.AddMeridianClient(o =>
        {
            o.Gateways = [$"127.0.0.1:{gatewayPort}"];
            o.Datacenter = "dc1";
            (o.CaFile, o.ClientCertFile, o.ClientKeyFile) = (tls?.CaFile, tls?.ClientCertFile, tls?.ClientKeyFile);
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>Starts the built Meridian.Silo.dll as a child process (<paramref name="environment"/> added to its variables) and waits for /health to answer 200.</summary>
    public static async Task<ExternalSilo> StartExternalAsync(IReadOnlyDictionary<string, string?>? environment = null)
    {
        var dll = FindSiloDll();
        var (silo, gateway, http) = (FreePort(), FreePort(), FreePort());
        var psi = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["Meridian__Datacenter"] = "dc1";
        psi.Environment["Meridian__PrimaryDatacenter"] = "dc1";
        psi.Environment["Meridian__Storage__Provider"] = "Memory";
        psi.Environment["Meridian__Endpoints__SiloPort"] = silo.ToString();
        psi.Environment["Meridian__Endpoints__GatewayPort"] = gateway.ToString();
        psi.Environment["Meridian__Endpoints__HttpPort"] = http.ToString();
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) psi.Environment[k] = v;
        ClientGc.ClearFor(psi);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the silo");
        // Drain its output so it never blocks on a full pipe; keep the tail for error reports.
        var tail = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line) { if (line is null) return; tail.Enqueue(line); while (tail.Count > 50) tail.TryDequeue(out _); }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var external = new ExternalSilo(process, gateway, dll, http);
        // With TLS the HTTP port is HTTPS and wants a client certificate: present the silo's own (a server certificate
        // of the benchmark's throwaway CA, also good for client auth); the server is on loopback and was just started.
        var tls = environment?.GetValueOrDefault("Meridian__Tls__CertFile") is { } certFile && environment.GetValueOrDefault("Meridian__Tls__KeyFile") is { } keyFile;
        using var handler = new HttpClientHandler();
        if (tls)
        {
            handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator;
            handler.ClientCertificates.Add(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(
                environment!["Meridian__Tls__CertFile"]!, environment["Meridian__Tls__KeyFile"]));
        }
        using var http1 = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var scheme = tls ? "https" : "http";
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"silo exited with {process.ExitCode}:\n{string.Join('\n', tail)}");
            try
            {
                using var r = await http1.GetAsync($"{scheme}://127.0.0.1:{http}/health");
                if (r.StatusCode == HttpStatusCode.OK) return external;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                await external.DisposeAsync();
                throw new TimeoutException($"silo /health not 200 after 60 s:\n{string.Join('\n', tail)}");
            }
            await Task.Delay(200);
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    // The silo project is a reference of this one: its dll, deps and runtimeconfig are copied next to ours.
    private static string FindSiloDll()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "Meridian.Silo.dll");
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, "Meridian.Silo.runtimeconfig.json"))) return beside;
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Parent?.Name ?? "Release"; // bin/<cfg>/net10.0/
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "silo", "Meridian.Silo", "bin", configuration, "net10.0", "Meridian.Silo.dll");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("Meridian.Silo.dll not found above " + AppContext.BaseDirectory);
    }
}

internal sealed class InProcessSilo(WebApplication app, IGrainFactory grains) : IAsyncDisposable
{
    public IGrainFactory Grains { get; } = grains;
    public IServiceProvider Services => app.Services;
    public int GatewayPort { get; init; }
    public string Datacenter { get; init; } = "dc1";
    public string Gateway => $"127.0.0.1:{GatewayPort}";

    private bool _disposed;

    /// <summary>Stops the silo; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

internal sealed class ExternalSilo(Process process, int gatewayPort, string dll, int httpPort = 0) : IAsyncDisposable
{
    public int GatewayPort { get; } = gatewayPort;
    public int HttpPort { get; } = httpPort;
    public string Dll { get; } = dll;
    public int ProcessId => process.Id;

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
