using System.Net;
using Meridian.Grains;
using Meridian.Grains.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace Meridian.Silo;

/// <summary>Wires a Meridian datacenter silo: Orleans, storage, Meridian services, dashboard and health.</summary>
public static class MeridianSiloHostingExtensions
{
    /// <summary>The Orleans storage provider name used by every Meridian grain.</summary>
    public const string StorageName = MeridianStorage.Name;

    /// <summary>
    /// Adds a Meridian silo for the datacenter configured under <c>Meridian</c>. Every option is validated first;
    /// all problems are reported together, each naming its configuration key.
    /// </summary>
    public static WebApplicationBuilder AddMeridianSilo(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var problems = SiloConfiguration.TryRead(config, out var settings);
        if (problems.Count > 0) throw new OptionsValidationException("Meridian", typeof(MeridianOptions), problems);
        var (meridian, storage, endpoints) = (settings!.Meridian, settings.Storage, settings.Endpoints);

        var services = builder.Services;
        services.AddOptions<MeridianOptions>().BindConfiguration(MeridianOptions.SectionName).ValidateOnStart();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateOnStart();
        services.AddOptions<EndpointOptions>().BindConfiguration(EndpointOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MeridianOptions>, MeridianOptionsValidator>();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<IValidateOptions<EndpointOptions>, EndpointOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(settings.Ca);
        services.AddSingleton(settings.KeySealing.Sealer);
        services.AddSingleton(settings.Acl);
        services.AddSingleton(settings.Discovery);
        // The replication token follows a reload of the configuration (an edited appsettings file, a rotated secret
        // source): every replication round reads it afresh, so no restart is needed (Consul: set-agent-token replication).
        services.AddSingleton(_ =>
        {
            var token = new Grains.Acl.AclReplicationToken(settings.Acl);
            Microsoft.Extensions.Primitives.ChangeToken.OnChange(((IConfiguration)config).GetReloadToken,
                () => token.Set(config[$"{AclOptions.SectionName}:Tokens:Replication"]));
            return token;
        });
        services.AddSingleton(settings);
        services.AddHostedService<SiloStartupWarnings>();
        services.AddSingleton(new DatacenterContext(meridian.Datacenter, meridian.PrimaryDatacenter,
            meridian.DefaultIntentionPolicy, storage.IsPostgreSql ? "PostgreSql" : "Memory"));

        SiloMetrics.AddMetrics(services, settings.Metrics);
        AddFederation(services, settings);
        if (settings.Tls is { } transport)
        {
            services.AddSingleton(transport);
            services.AddSingleton<TransportCertificateRefusals>();
            services.AddHostedService<TransportTlsReloader>();
        }

        // Registered before UseOrleans so it runs before the silo starts (hosted services start in order):
        // the ADO.NET providers need the OrleansQuery table before they can do anything.
        if (storage.IsPostgreSql) services.AddHostedService<PostgreSqlSchemaInstaller>();

        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = meridian.ServiceId;
                o.ClusterId = meridian.EffectiveClusterId;
            });
            // Bind and advertise apart (EndpointAddresses): in a container the listeners bind 0.0.0.0 while the
            // membership table and clients get the container's own address.
            var (bind, address) = (settings.Addresses.Bind, settings.Addresses.Advertise);
            silo.Configure<Orleans.Configuration.EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = address;
                o.SiloPort = endpoints.SiloPort;
                o.GatewayPort = endpoints.GatewayPort;
                o.SiloListeningEndpoint = new IPEndPoint(bind, endpoints.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(bind, endpoints.GatewayPort);
            });
            // Either provider stores state with the serializer AddMeridianGrainServices sets for StorageName (the
            // Orleans one; see MeridianStorage): never set a provider's own, the memory and the PostgreSQL path must not
            // differ again.
            if (storage.IsPostgreSql)
            {
                silo.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = storage.ConnectionString; });
                silo.AddAdoNetGrainStorage(StorageName, o => { o.Invariant = "Npgsql"; o.ConnectionString = storage.ConnectionString; });
                silo.UseAdoNetReminderService(o => { o.Invariant = "Npgsql"; o.ConnectionString = storage.ConnectionString; });
            }
            else
            {
                silo.UseDevelopmentClustering(new IPEndPoint(address, endpoints.SiloPort));
                silo.AddMemoryGrainStorage(StorageName);
                silo.UseInMemoryReminderService();
            }
            if (settings.Tls is { } tls)
            {
                // Not Orleans' UseTls: it gives inbound and outbound one validator, and an outbound link must check the
                // peer's server name (VerifyServerHostname) while an inbound one accepts client certificates.
                // The options read the files' current material at each handshake; TransportTlsReloader swaps it.
                // The primary's gateway admits, with VerifyServerHostname, only certificates of its federation's
                // datacenters (a secondary's link or an operator's client); see FederationMembers.CheckTransportNames.
                Func<IReadOnlyCollection<string>, string?>? admit = meridian.Datacenter == meridian.PrimaryDatacenter
                    ? names => settings.Federation.CheckTransportNames(names, meridian.Datacenter, tls.Domain)
                    : null;
                silo.Services.AddOptions<SiloConnectionOptions>().Configure<TransportCertificateRefusals>((o, refusals) =>
                {
                    var outbound = tls.OutboundTo(meridian.Datacenter);
                    var siloInbound = tls.SiloInbound();
                    var gatewayInbound = tls.GatewayInbound(admit, refusals.Refused);
                    o.ConfigureSiloInboundConnection(c => c.UseServerTls(siloInbound));
                    o.ConfigureGatewayInboundConnection(c => c.UseServerTls(gatewayInbound));
                    o.ConfigureSiloOutboundConnection(c => c.UseClientTls(outbound));
                });
            }
            silo.Configure<ClusterMembershipOptions>(settings.Membership.ApplyTo);
            silo.AddMeridianGrainServices();
            // The dashboard profiles every grain call (~30 % of in-silo call rate, ORLEANS-NOTES §7): on by default
            // for operators, off with Meridian:Dashboard:Enabled=false where throughput matters more. Its Log Stream
            // shows every log line to whoever reaches the HTTP port: only with Meridian:Dashboard:LogStream.
            if (settings.Dashboard.Enabled) silo.AddDashboard(o => o.HideTrace = !settings.Dashboard.LogStream);
        });

        // HttpPort 0 = off. Kestrel without a URL listens on its default, localhost:5000: a second silo in the same
        // process (`meridian dev --http-port 0` with two datacenters) then failed to start on "address already in use".
        if (endpoints.HttpPort > 0) SiloHttpHost.Listen(builder, settings.Addresses.Bind, endpoints.HttpPort, settings.Tls);
        else services.AddSingleton<IServer, NoHttpServer>();
        return builder;
    }

    // A secondary reaches the primary through a private, background-connected Orleans client.
    private static void AddFederation(IServiceCollection services, SiloConfiguration settings)
    {
        services.AddSingleton(settings.Replication);
        services.AddSingleton(settings.Reissue);
        services.AddSingleton(settings.Federation);
        var meridian = settings.Meridian;
        var primaryLink = meridian.Datacenter == meridian.PrimaryDatacenter ? null : AddPrimaryLink(services, settings);
        AddDatacenterLinks(services, settings, primaryLink);
    }

    // Links to every other datacenter, opened on demand from the registry (the primary's is the replication link), and
    // this datacenter's registration in the primary (Meridian:Wan).
    private static void AddDatacenterLinks(IServiceCollection services, SiloConfiguration settings, PrimaryLink? primaryLink)
    {
        var meridian = settings.Meridian;
        services.AddSingleton(settings.Advertisement);
        services.AddSingleton(sp => new DatacenterLinks(sp.GetRequiredService<DatacenterContext>(), sp, primaryLink,
            entry => new PrimaryLink(entry.Name, meridian.ServiceId,
                string.IsNullOrEmpty(entry.ClusterId) ? $"meridian-{entry.Name}" : entry.ClusterId,
                [.. entry.Gateways.Select(Client.MeridianClientOptions.ParseEndpoint)],
                settings.Tls?.OutboundTo(entry.Name), diagnose: null, isPrimary: false),
            settings.Wan, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<DatacenterLinks>>()));
        services.AddSingleton<IDatacenterLinks>(sp => sp.GetRequiredService<DatacenterLinks>());
        services.AddSingleton<IDatacenterDistances>(sp => sp.GetRequiredService<DatacenterLinks>());
        services.AddHostedService(sp => sp.GetRequiredService<DatacenterLinks>());
    }

    private static PrimaryLink AddPrimaryLink(IServiceCollection services, SiloConfiguration settings)
    {
        var meridian = settings.Meridian;
        var primary = settings.Primary;
        var link = new PrimaryLink(meridian.PrimaryDatacenter, meridian.ServiceId,
            string.IsNullOrEmpty(primary.ClusterId) ? $"meridian-{meridian.PrimaryDatacenter}" : primary.ClusterId, [.. settings.PrimaryGateways],
            settings.Tls?.OutboundTo(meridian.PrimaryDatacenter),
            settings.Tls is { } tls && settings.PrimaryGateways.Count > 0
                ? ct => Client.TlsProbe.ProbeAsync(settings.PrimaryGateways[0], settings.PrimaryGateways[0].ToString(), tls.Files.Current,
                    tls.VerifyServerHostname ? Client.MeridianTlsMaterial.ServerName(meridian.PrimaryDatacenter, tls.Domain) : null,
                    TimeSpan.FromSeconds(2), ct)
                : settings.PrimaryGateways.Count > 0 ? ct => PlaintextDiagnosisAsync(settings.PrimaryGateways[0], meridian.Datacenter, ct) : null);
        services.AddSingleton<IPrimaryDatacenterLink>(link);
        services.AddHostedService(_ => link);
        return link;
    }

    // A secondary without Meridian:Tls whose primary's gateway speaks only TLS: that gateway closes the plaintext link,
    // as a port that is not Orleans does; a ClientHello tells them apart.
    private static async Task<string?> PlaintextDiagnosisAsync(System.Net.IPEndPoint gateway, string datacenter, CancellationToken ct)
        => await Client.TlsProbe.AnswersTlsAsync(gateway, TimeSpan.FromSeconds(2), ct)
            ? $"the primary's gateway {gateway} requires TLS: set Meridian:Tls:CaFile, CertFile and KeyFile (a server certificate " +
              $"of {datacenter} from the primary's transport CA: meridian tls cert create --server --dc {datacenter})"
            : null;

    /// <summary>
    /// The silo program: builds the host from <paramref name="args"/> (and appsettings.json, MERIDIAN__* variables),
    /// runs it until it is stopped and returns the exit code. Before anything starts it checks every option and every
    /// port (<see cref="SiloPreflight"/>). A start-up problem the operator has to fix (invalid options, a port in use,
    /// an unreachable database, a database without the schema) ends with one <c>meridian silo: key: problem</c> line
    /// per problem on stderr, all of them together, and exit code 2, instead of an unhandled exception (a SIGABRT and
    /// the stack trace twice).
    /// </summary>
    public static async Task<int> RunSiloAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == SiloProbe.Command) return await SiloProbe.RunAsync(args);
        try
        {
            var builder = WebApplication.CreateBuilder(args);
            SiloPreflight.AddLogLevelDefaults(builder.Configuration);
            if (SecretFiles.Apply(builder.Configuration) is { Count: > 0 } unreadable) return await ReportAsync(unreadable);
            var problems = await SiloPreflight.CheckAsync(builder.Configuration);
            if (problems.Count > 0) return await ReportAsync(problems);
            builder.AddMeridianSilo();
            var app = builder.Build();
            app.MapMeridianEndpoints();
            await app.RunAsync();
            return 0;
        }
        catch (OptionsValidationException e)
        {
            return await ReportAsync(e.Failures);
        }
        catch (SiloStartupException e)
        {
            return await ReportAsync([e.Message]);
        }
    }

    private static async Task<int> ReportAsync(IEnumerable<string> problems)
    {
        foreach (var problem in problems) await Console.Error.WriteLineAsync($"meridian silo: {problem}");
        return 2;
    }

    /// <summary>
    /// Maps <c>/health</c> (JSON, 200 healthy, 503 degraded with the reason; <see cref="SiloHealth"/>), the Orleans
    /// dashboard at <c>/dashboard</c> and the Meridian page at <c>/dashboard/meridian</c> (with TLS, for clients with a
    /// certificate only; <see cref="SiloHttpHost.GuardHttp"/>).
    /// </summary>
    public static WebApplication MapMeridianEndpoints(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<SiloConfiguration>();
        app.GuardHttp(settings.Tls is not null, settings.Dashboard);
        app.MapGet(SiloHttpHost.HealthPath, SiloHealth.ReadAsync);
        app.MapGet(SiloReadiness.LivePath, SiloReadiness.Live);
        app.MapGet(SiloReadiness.ReadyPath, SiloReadiness.ReadyAsync);
        SiloMetrics.MapMetrics(app, settings.Metrics, settings.Acl.Enabled);
        app.MapSiloConsulApi(settings);
        if (settings.Dashboard.Enabled)
        {
            app.MapOrleansDashboard(routePrefix: MeridianDashboard.DashboardPrefix);
            app.MapMeridianDashboard(settings.Dashboard.GrainDetails);
        }
        return app;
    }
}

/// <summary>The HTTP server of a silo whose <c>Meridian:Endpoints:HttpPort</c> is 0: it listens nowhere.</summary>
internal sealed class NoHttpServer : IServer
{
    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull
        => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
    }
}
