using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;

namespace Meridian.Client;

/// <summary>Registers the Meridian SDK.</summary>
public static class MeridianClientHostingExtensions
{
    /// <summary>
    /// Adds an Orleans client for one Meridian datacenter and <see cref="IMeridianClient"/>. Options come from
    /// <c>Meridian:Client</c> and then <paramref name="configure"/>. The host's start fails with
    /// <see cref="MeridianUnreachableException"/> naming the gateways and what answered there when none connects within
    /// <see cref="MeridianClientOptions.ConnectTimeout"/> (at once, with <see cref="MeridianWrongDatacenterException"/>,
    /// when the address is a gateway or silo of another datacenter), and never takes longer than ConnectTimeout plus
    /// <see cref="MeridianClientOptions.FirstCallTimeout"/>. Orleans logs at Warning and above only, unless
    /// <c>Logging:LogLevel:Orleans</c> says otherwise.
    /// </summary>
    public static IHostApplicationBuilder AddMeridianClient(this IHostApplicationBuilder builder, Action<MeridianClientOptions>? configure = null)
    {
        var options = new MeridianClientOptions();
        builder.Configuration.GetSection(MeridianClientOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        var gateways = options.ParseGateways();
        var tls = LoadTls(options);

        QuietOrleansLogging(builder);
        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton<IMeridianClient, MeridianClient>();
        var diagnosis = new ConnectionDiagnosis(options, gateways, tls);
        var before = builder.Services.Count(d => d.ServiceType == typeof(IHostedService));
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = options.ServiceId;
                o.ClusterId = options.EffectiveClusterId;
            });
            // One attempt never outlasts the whole connect budget (Orleans' default is 5 s per attempt).
            client.Configure<ConnectionOptions>(o =>
            {
                if (options.ConnectTimeout > TimeSpan.Zero && options.ConnectTimeout < o.OpenConnectionTimeout)
                    o.OpenConnectionTimeout = options.ConnectTimeout;
            });
            if (tls is not null)
            {
                // Each new connection looks at the files first (three stat calls; connections are long-lived): a rotated
                // client certificate or CA is used from the next connection on, and files that do not load together
                // (half written) leave the previous ones in use.
                var files = new ReloadingTlsMaterial(tls, $"{MeridianClientOptions.SectionName}:", options.CaFile, options.ClientCertFile,
                    options.ClientKeyFile, certField: "ClientCertFile", keyField: "ClientKeyFile");
                var tlsOptions = MeridianTlsMaterial.Outbound(() => { files.Reload(); return files.Current; }, verifyServer: true,
                    options.VerifyServerHostname ? MeridianTlsMaterial.ServerName(options.Datacenter, options.TlsDomain) : null);
                client.Configure<ClientConnectionOptions>(o => o.ConfigureConnection(c => c.UseClientTls(tlsOptions)));
            }
            client.UseStaticClustering(gateways);
            // With several gateways, one that failed (a silo killed or restarted) is skipped until the list is
            // refreshed: a restarted silo takes its share of calls again within this period.
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = MeridianClientOptions.GatewayRefreshPeriod);
            client.UseConnectionRetryFilter(diagnosis.ShouldRetryAsync);
        });
        BoundStart(builder.Services, before, options, diagnosis);
        return builder;
    }

    // The files are read before anything connects: a missing or mismatched file is the caller's input, reported at once.
    private static MeridianTlsMaterial? LoadTls(MeridianClientOptions options)
    {
        if (!options.UseTls)
        {
            if (!string.IsNullOrWhiteSpace(options.ClientCertFile) || !string.IsNullOrWhiteSpace(options.ClientKeyFile))
                throw new MeridianTlsConfigurationException([$"{MeridianClientOptions.SectionName}:CaFile must be set with a client certificate (TLS needs the CA that signed the gateway's certificate)"]);
            return null;
        }
        var problems = MeridianTlsMaterial.TryLoad($"{MeridianClientOptions.SectionName}:", options.CaFile, options.ClientCertFile, options.ClientKeyFile,
            out var material, certField: "ClientCertFile", keyField: "ClientKeyFile");
        if (problems.Count > 0) throw new MeridianTlsConfigurationException(problems);
        return material;
    }

    // Orleans logs every option and connection step at Information: a client that prints 50 lines before its first
    // result is noise. The connection warnings (each with a stack trace) say no more than the start's exception
    // does, so they are Error-only too. A host that wants them sets Logging:LogLevel:Orleans.
    private static void QuietOrleansLogging(IHostApplicationBuilder builder)
    {
        if (builder.Configuration["Logging:LogLevel:Orleans"] is not null) return;
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Orleans.Runtime.Messaging", LogLevel.Error);
        builder.Logging.AddFilter("Orleans.Messaging", LogLevel.Error);
    }

    // Orleans' client start has paths the retry filter never sees: after a failed connection it fetches the
    // cluster manifest again and again, without end (seen against a silo-to-silo port). So the hosted services
    // UseOrleansClient added are wrapped: their start is bounded by ConnectTimeout + FirstCallTimeout (the first
    // round trip, the manifest fetch), and a start that fails without our error gets the diagnosis.
    private static void BoundStart(IServiceCollection services, int before, MeridianClientOptions options, ConnectionDiagnosis diagnosis)
    {
        var added = services.Where(d => d.ServiceType == typeof(IHostedService)).Skip(before).ToList();
        foreach (var descriptor in added)
        {
            services.Remove(descriptor);
            services.AddSingleton<IHostedService>(sp => new BoundedStart(Create(sp, descriptor), options, diagnosis));
        }
    }

    private static IHostedService Create(IServiceProvider services, ServiceDescriptor descriptor) => (IHostedService)(
        descriptor.ImplementationInstance
        ?? descriptor.ImplementationFactory?.Invoke(services)
        ?? ActivatorUtilities.GetServiceOrCreateInstance(services, descriptor.ImplementationType!));

    private sealed class BoundedStart(IHostedService inner, MeridianClientOptions options, ConnectionDiagnosis diagnosis) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                await inner.StartAsync(cancellationToken).WaitAsync(options.ConnectTimeout + options.FirstCallTimeout, cancellationToken);
            }
            catch (TimeoutException ex)
            {
                throw await diagnosis.DiagnoseAsync(ex, cancellationToken);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);
    }
}
