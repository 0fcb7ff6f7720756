using System.Globalization;
using Meridian.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Meridian.Integration.Tests.Processes;

/// <summary>One Meridian silo (<c>dotnet Meridian.Silo.dll</c>) on PostgreSQL, configured through environment variables.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly HttpClient PlainHttp = new() { Timeout = TimeSpan.FromSeconds(5) };

    private readonly ChildProcess _process;

    private SiloProcess(ChildProcess process, string address, int gatewayPort, int httpPort, HttpClient http, bool https)
    {
        _process = process;
        Address = address;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
        Http = http;
        HttpBase = $"{(https ? "https" : "http")}://{address}:{httpPort}";
    }

    /// <summary>The address the silo binds (<c>Meridian:Endpoints:Address</c>; 127.0.0.1 when that is 0.0.0.0).</summary>
    public string Address { get; }
    public int GatewayPort { get; }
    public int HttpPort { get; }
    public string Gateway => $"{Address}:{GatewayPort}";

    /// <summary><c>http(s)://ADDRESS:HTTPPORT</c>.</summary>
    public string HttpBase { get; }

    /// <summary>A client of the HTTP port: with TLS, trusting only the silo's CA and presenting the given client certificate.</summary>
    public HttpClient Http { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the silo printed so far, for failure messages.</summary>
    public string Output => _process.Output;

    /// <summary>Starts the silo and waits until <c>/health</c> answers 200 (the datacenter grain, CA included, is up).</summary>
    public static Task<SiloProcess> StartAsync(string connectionString, int siloPort, int gatewayPort, int httpPort) =>
        StartAsync(connectionString, siloPort, gatewayPort, httpPort, "dc1", "dc1", primaryGateway: null, extra: null);

    /// <summary>
    /// Starts a silo of <paramref name="datacenter"/>. A primary is waited for until <c>/health</c> answers 200; a
    /// secondary only until <c>/health</c> answers at all (it is 503 "degraded" until its CA holds an intermediate
    /// signed by the primary: wait for that through the SDK's status).
    /// </summary>
    public static async Task<SiloProcess> StartAsync(string connectionString, int siloPort, int gatewayPort, int httpPort,
        string datacenter, string primaryDatacenter, string? primaryGateway, IReadOnlyDictionary<string, string>? extra, SiloHttps? https = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Meridian__Datacenter"] = datacenter,
            ["Meridian__PrimaryDatacenter"] = primaryDatacenter,
            ["Meridian__Storage__Provider"] = "PostgreSql",
            ["Meridian__Storage__ConnectionString"] = connectionString,
            ["Meridian__Ca__KeyEncryptionKeyFile"] = TestKeyEncryptionKey.SharedFile,
            ["Meridian__Endpoints__Address"] = "127.0.0.1",
            ["Meridian__Endpoints__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Meridian__Endpoints__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Meridian__Endpoints__HttpPort"] = httpPort.ToString(CultureInfo.InvariantCulture),
        };
        if (primaryGateway is not null) environment["Meridian__Primary__Gateways__0"] = primaryGateway;
        // The secondaries these tests start are federation members of the primary (issue 12); extra may override.
        if (datacenter == primaryDatacenter) (environment["Meridian__Federation__Datacenters__0"], environment["Meridian__Federation__Datacenters__1"]) = ("dc2", "dc3");
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) environment[key] = value;
        var http = https is null ? PlainHttp : https.CreateClient();
        // A silo bound to every interface (as in a container) is reached on loopback.
        var address = environment["Meridian__Endpoints__Address"] is "0.0.0.0" ? "127.0.0.1" : environment["Meridian__Endpoints__Address"]!;
        var silo = new SiloProcess(ChildProcess.StartDotnet(Binaries.Silo, [], environment), address,
            gatewayPort, httpPort, http, https is not null);
        try
        {
            await silo.WaitHealthyAsync(anyAnswer: datacenter != primaryDatacenter);
            return silo;
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
    }

    private async Task WaitHealthyAsync(bool anyAnswer)
    {
        var deadline = DateTimeOffset.UtcNow + StartTimeout;
        var last = "no answer";
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"silo exited during start-up. Output:\n{_process.Output}");
            try
            {
                using var response = await Http.GetAsync($"{HttpBase}/health");
                if (response.IsSuccessStatusCode || anyAnswer) return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            // Polling interval of a real condition (the HTTP endpoint), bounded by the deadline above.
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
        throw new TimeoutException($"silo /health on port {HttpPort} not 200 within {StartTimeout.TotalSeconds:0} s (last: {last}). Output:\n{_process.Output}");
    }

    /// <summary>SIGKILL: the silo gets no chance to deactivate grains, write state or leave the membership table.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>SIGTERM: the silo leaves its cluster and exits; returns its exit code (fails after <paramref name="timeout"/>).</summary>
    public Task<int> StopAsync(TimeSpan timeout) => _process.TerminateAsync(timeout);

    /// <summary>The silo's OS process id (<c>dotnet Meridian.Silo.dll</c> runs the silo in that process).</summary>
    public int ProcessId => _process.Id;

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        if (Http != PlainHttp) Http.Dispose();
    }
}

/// <summary>How a test reaches a TLS silo's HTTPS port: its CA (the only trust anchor) and, optionally, a client certificate.</summary>
public sealed record SiloHttps(string CaFile, string? ClientCert = null, string? ClientKey = null)
{
    public HttpClient CreateClient()
    {
        // The SDK's loader and chain check: the same files, the same trust rule (CaFile only) as every Meridian client.
        var problems = MeridianTlsMaterial.TryLoad("", CaFile, ClientCert, ClientKey, out var material);
        Assert.True(material is not null, string.Join("; ", problems));
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, chain, _) => certificate is not null && material.Verify(certificate, chain, null),
        };
        if (material.Certificate is { } own) handler.ClientCertificates.Add(own);
        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
    }
}

/// <summary>An SDK client host (<c>AddMeridianClient</c>) connected to one gateway.</summary>
public sealed class SdkClient : IAsyncDisposable
{
    private readonly IHost _host;

    private SdkClient(IHost host) => _host = host;

    public IMeridianClient Client => _host.Services.GetRequiredService<IMeridianClient>();

    /// <summary>The Orleans client under the SDK, for calls to test grains.</summary>
    public IClusterClient Orleans => _host.Services.GetRequiredService<IClusterClient>();

    public static Task<SdkClient> ConnectAsync(string gateway, string datacenter = "dc1") => ConnectAsync([gateway], datacenter);

    /// <summary>A client of every gateway of a datacenter of several silos.</summary>
    public static async Task<SdkClient> ConnectAsync(IReadOnlyList<string> gateways, string datacenter = "dc1")
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.AddMeridianClient(o =>
        {
            o.Gateways = [.. gateways];
            o.Datacenter = datacenter;
            o.ConnectTimeout = TimeSpan.FromSeconds(30);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            return new SdkClient(host);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _host.StopAsync(cts.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
