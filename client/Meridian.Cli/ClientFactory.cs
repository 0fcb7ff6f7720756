using Meridian.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Meridian.Cli;

/// <summary>Opens a connection to one datacenter.</summary>
internal interface IMeridianClientFactory
{
    /// <summary>Connects, or throws <see cref="MeridianUnreachableException"/> naming the gateway.</summary>
    Task<MeridianConnection> ConnectAsync(ConnectionSettings settings, CancellationToken cancellationToken);
}

/// <summary>A connected client and what must be disposed to close it.</summary>
internal sealed class MeridianConnection(IMeridianClient client, Func<ValueTask>? close = null) : IAsyncDisposable
{
    public IMeridianClient Client { get; } = client;

    public ValueTask DisposeAsync() => close?.Invoke() ?? ValueTask.CompletedTask;
}

/// <summary>The real thing: a small host with <see cref="MeridianClientHostingExtensions.AddMeridianClient"/>.</summary>
internal sealed class HostedMeridianClientFactory : IMeridianClientFactory
{
    // Closing is best effort: the command's result is already printed.
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    public async Task<MeridianConnection> ConnectAsync(ConnectionSettings settings, CancellationToken cancellationToken)
    {
        // Empty builder: no appsettings, no environment mapping, no console logger. The CLI prints its own errors.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<IHostLifetime, PassiveHostLifetime>();
        builder.AddMeridianClient(o =>
        {
            o.Gateways = [.. settings.Gateways];
            o.Datacenter = settings.Datacenter;
            o.Token = settings.Token;
            o.CaFile = settings.Tls?.CaFile;
            o.ClientCertFile = settings.Tls?.ClientCert;
            o.ClientKeyFile = settings.Tls?.ClientKey;
            o.ConnectTimeout = settings.ConnectTimeout;
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return new MeridianConnection(host.Services.GetRequiredService<IMeridianClient>(), async () =>
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            try
            {
                await host.StopAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
            {
                // The gateway went away after the call: the result stands, the exit code stays.
            }
            finally
            {
                host.Dispose();
            }
        });
    }
}

/// <summary>
/// A host lifetime that does not listen for Ctrl-C/SIGTERM: the CLI's command action owns cancellation, and several
/// hosts in one process (<c>meridian dev</c>) must not each react to the signal on their own.
/// </summary>
internal sealed class PassiveHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
