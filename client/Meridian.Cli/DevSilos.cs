using System.Net;
using System.Net.Sockets;
using Meridian.Client;
using Meridian.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Meridian.Cli;

/// <summary>Starts one datacenter's silo for <c>meridian dev</c>; disposing the result stops it.</summary>
internal interface IDevSiloLauncher
{
    /// <summary>The ports of <paramref name="plan"/> that something else already listens on.</summary>
    IReadOnlyList<int> PortsInUse(DevSiloPlan plan);

    Task<IAsyncDisposable> StartAsync(DevSiloPlan plan, CancellationToken cancellationToken);
}

/// <summary>
/// The real silo: the same wiring as <c>Meridian.Silo</c>'s Program, configured in memory. Logs go to stderr, or to
/// <paramref name="logs"/> when given (tests read what the silos logged).
/// </summary>
internal sealed class WebApplicationSiloLauncher(ILoggerProvider? logs = null) : IDevSiloLauncher
{
    // The same probe the silo program runs before it starts (ListenPorts explains why Orleans' own bind cannot be
    // trusted to fail).
    public IReadOnlyList<int> PortsInUse(DevSiloPlan plan) =>
        [.. plan.Ports().Select(p => p.Port).Where(port => ListenPorts.IsInUse(IPAddress.Parse(DevSiloPlan.Address), port))];

    public async Task<IAsyncDisposable> StartAsync(DevSiloPlan plan, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // Only the plan: a stray appsettings.json or MERIDIAN__* variable must not change what `dev` promised to start.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(plan.Configuration());
        // Logs go to stderr so stdout carries only the banner and the ready line; Orleans and ASP.NET Core at Warning.
        builder.Logging.ClearProviders();
        if (logs is null)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        else
        {
            builder.Logging.AddProvider(logs);
        }
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Meridian", LogLevel.Information);
        builder.Services.AddSingleton<IHostLifetime, PassiveHostLifetime>();
        builder.AddMeridianSilo();
        var app = builder.Build();
        app.MapMeridianEndpoints();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            // Kestrel binds after the silo has started: stop what runs before disposing, or grains still activating
            // meet a disposed service provider (dozens of ObjectDisposedException errors in the log).
            using var timeout = new CancellationTokenSource(DevCommand.SiloStopTimeout);
            try
            {
                await app.StopAsync(timeout.Token);
            }
            catch (Exception)
            {
                // Whatever stopping a half-started host throws, the start's error is the one to report.
            }
            await app.DisposeAsync();
            throw;
        }
        // A secondary of `dev --acl` gets its replication token once the primary holds it, as an operator's configuration
        // change would give it (the silo re-reads Meridian:Acl:Tokens:Replication on a reload).
        if (plan is { AclReplicationToken: { } token, AclFiles: { } acl })
            _ = acl.ReplicationTokenCreated.ContinueWith(_ =>
            {
                app.Configuration["Meridian:Acl:Tokens:Replication"] = token;
                ((IConfigurationRoot)app.Configuration).Reload(); // setting a key alone signals no reload
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        return new RunningSilo(app);
    }

    private sealed class RunningSilo(WebApplication app) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(DevCommand.SiloStopTimeout);
            try
            {
                await app.StopAsync(timeout.Token);
            }
            finally
            {
                await app.DisposeAsync();
            }
        }
    }
}
