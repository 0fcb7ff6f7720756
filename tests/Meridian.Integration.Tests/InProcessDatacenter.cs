using Meridian.Integration.Tests.Processes;
using Meridian.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meridian.Integration.Tests;

/// <summary>
/// A primary datacenter (dc1) silo in this process, built by the production host wiring (<c>AddMeridianSilo</c>, as
/// <c>meridian dev</c> and the silo program do) on free ports, HTTP and dashboard off; memory storage unless a
/// PostgreSQL connection string is given. Lets a test reach the silo's services (storage, management grain).
/// </summary>
public sealed class InProcessDatacenter : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessDatacenter(WebApplication app, int gatewayPort) => (_app, GatewayPort) = (app, gatewayPort);

    public IServiceProvider Services => _app.Services;

    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    public int GatewayPort { get; }

    public string Gateway => $"127.0.0.1:{GatewayPort}";

    /// <summary>Starts a silo on memory storage; <paramref name="configure"/> runs after the host wiring, so its registrations win.</summary>
    public static Task<InProcessDatacenter> StartAsync(Action<IServiceCollection> configure) => StartAsync(null, configure);

    /// <summary>
    /// Starts the silo; <paramref name="configure"/> runs after the host wiring, so its registrations win, and
    /// <paramref name="settings"/> override the configuration (<c>Meridian:Endpoints:HttpPort</c> to serve HTTP).
    /// </summary>
    public static async Task<InProcessDatacenter> StartAsync(string? postgres = null, Action<IServiceCollection>? configure = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var ports = FreePorts.Take(2);
        var config = new Dictionary<string, string?>
        {
            ["Meridian:Datacenter"] = "dc1",
            ["Meridian:PrimaryDatacenter"] = "dc1",
            ["Meridian:Endpoints:Address"] = "127.0.0.1",
            ["Meridian:Endpoints:SiloPort"] = ports[0].ToString(),
            ["Meridian:Endpoints:GatewayPort"] = ports[1].ToString(),
            ["Meridian:Endpoints:HttpPort"] = "0",
            ["Meridian:Dashboard:Enabled"] = "false",
            ["Meridian:Storage:Provider"] = "Memory",
        };
        if (postgres is not null)
        {
            config["Meridian:Storage:Provider"] = "PostgreSql";
            config["Meridian:Storage:ConnectionString"] = postgres;
            config["Meridian:Ca:KeyEncryptionKeyFile"] = TestKeyEncryptionKey.SharedFile;
        }
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) config[key] = value;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(config);
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.AddMeridianSilo();
        configure?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapMeridianEndpoints();
        await app.StartAsync();
        return new InProcessDatacenter(app, ports[1]);
    }

    /// <summary>
    /// Deactivates every idle grain now and waits for it, as Orleans' idle collection does after 15 minutes: the next
    /// call activates them again from storage.
    /// </summary>
    public Task DeactivateIdleGrainsAsync() =>
        Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _app.StopAsync(cts.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
