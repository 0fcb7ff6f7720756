using System.Net;
using Meridian.Core.Certificates;
using Meridian.Core.Federation;
using Meridian.Grains.Certificates;
using Meridian.Grains.Replication;
using Microsoft.Extensions.Configuration;

namespace Meridian.Silo;

/// <summary>
/// Every <c>Meridian:*</c> option of a silo, read and validated in one pass. <see cref="TryRead"/> collects all
/// problems (values that do not parse, values out of range, missing keys), each naming its full key, so the operator
/// fixes them in one go instead of one per start.
/// </summary>
internal sealed record SiloConfiguration(
    MeridianOptions Meridian,
    StorageOptions Storage,
    EndpointOptions Endpoints,
    EndpointAddresses Addresses,
    CaConfiguration Ca,
    CaKeySealing KeySealing,
    ReplicationSettings Replication,
    ReissueSettings Reissue,
    PrimaryOptions Primary,
    IReadOnlyList<IPEndPoint> PrimaryGateways,
    FederationMembers Federation,
    TransportTls? Tls,
    MeridianDashboardOptions Dashboard,
    bool InsecureAllowed,
    Grains.Acl.AclSettings Acl)
{
    /// <summary><c>Meridian:Metrics</c>: <c>/metrics</c> (docs/metrics.md).</summary>
    public MetricsOptions Metrics { get; init; } = new();

    /// <summary><c>Meridian:Wan</c>: pings and idle links.</summary>
    public WanOptions Wan { get; init; } = new();

    /// <summary><c>Meridian:Membership</c>: how soon a silo that stopped answering is declared dead.</summary>
    public MembershipOptions Membership { get; init; } = new();

    /// <summary><c>Meridian:TranslateWanAddrs</c> (default false): see <see cref="Grains.Discovery.DiscoverySettings"/>.</summary>
    public Grains.Discovery.DiscoverySettings Discovery { get; init; } = Grains.Discovery.DiscoverySettings.Default;

    /// <summary>What this datacenter registers about itself in the primary (from <c>Meridian:Wan</c>).</summary>
    public Grains.Hosting.DatacenterAdvertisement Advertisement { get; init; } = Grains.Hosting.DatacenterAdvertisement.None;

    /// <summary>Reads the configuration; on problems <paramref name="result"/> is null.</summary>
    public static IReadOnlyList<string> TryRead(IConfiguration config, out SiloConfiguration? result)
    {
        List<string> problems = [];
        var meridian = ConfigValues.Bind<MeridianOptions>(config, MeridianOptions.SectionName, problems);
        var storage = ConfigValues.Bind<StorageOptions>(config, StorageOptions.SectionName, problems);
        var endpoints = ConfigValues.Bind<EndpointOptions>(config, EndpointOptions.SectionName, problems);
        var primary = ConfigValues.Bind<PrimaryOptions>(config, PrimaryOptions.SectionName, problems);
        var federation = ConfigValues.Bind<FederationOptions>(config, FederationOptions.SectionName, problems);
        var tlsOptions = ConfigValues.Bind<TransportTlsOptions>(config, TransportTlsOptions.SectionName, problems);
        var dashboard = ConfigValues.Bind<MeridianDashboardOptions>(config, MeridianDashboardOptions.SectionName, problems);
        var metrics = ConfigValues.Bind<MetricsOptions>(config, MetricsOptions.SectionName, problems);
        var replication = new ReplicationSettings(
            ConfigValues.Read(config, $"{ReplicationOptions.SectionName}:PollWait", TimeSpan.FromMinutes(5), problems),
            ConfigValues.Read(config, $"{ReplicationOptions.SectionName}:AdoptPrimaryState", false, problems),
            TimeSpan.FromSeconds(10));
        var reissue = new ReissueSettings(
            ConfigValues.Read(config, $"{CaOptions.SectionName}:ReissueWindow", TimeSpan.FromSeconds(30), problems),
            ConfigValues.Read(config, $"{CaOptions.SectionName}:ReissueMaxPerSecond", 2000.0, problems));

        problems.AddRange(new MeridianOptionsValidator().Validate(null, meridian).Failures ?? []);
        problems.AddRange(new StorageOptionsValidator().Validate(null, storage).Failures ?? []);
        var endpointProblems = new EndpointOptionsValidator().Validate(null, endpoints).Failures?.ToList() ?? [];
        problems.AddRange(endpointProblems);
        // Addresses that do not parse are already reported above.
        var addresses = endpointProblems.Any(p => p.Contains("Address", StringComparison.Ordinal)) ? null
            : EndpointAddresses.Resolve(endpoints.Address, endpoints.AdvertiseAddress, endpoints.Address is "0.0.0.0" or "::" ? EndpointAddresses.HostAddresses() : [], problems);
        problems.AddRange(CaOptions.TryRead(config, out var ca));
        var sealing = CaKeySealing.Read(config, storage, problems);
        var gateways = ReadPrimaryGateways(meridian, primary, problems);
        problems.AddRange(FederationMembers.Validate(federation.Datacenters, meridian.PrimaryDatacenter).Select(p => p.ToString()));
        var tls = TransportTls.TryRead(tlsOptions, meridian.Datacenter, problems);
        var acl = AclOptions.Read(config, problems);
        var (wan, advertisement) = WanOptions.Read(config, meridian, endpoints, problems);
        var membership = MembershipOptions.Read(config, problems);
        var discovery = new Grains.Discovery.DiscoverySettings(ConfigValues.Read(config, "Meridian:TranslateWanAddrs", false, problems));
        if (SiloHttpHost.InsecureBindProblem(endpoints, tlsOptions) is { } insecure) problems.Add(insecure);

        result = problems.Count == 0
            ? new SiloConfiguration(meridian, storage, endpoints, addresses!, ca!, sealing, replication, reissue, primary, gateways,
                new FederationMembers(federation.Datacenters), tls, dashboard, tlsOptions.AllowInsecure && tls is null, acl)
                { Wan = wan, Advertisement = advertisement, Discovery = discovery, Membership = membership, Metrics = metrics }
            : null;
        return problems;
    }

    // A secondary reaches the primary through these; the primary itself needs none.
    private static List<IPEndPoint> ReadPrimaryGateways(MeridianOptions meridian, PrimaryOptions primary, List<string> problems)
    {
        if (meridian.Datacenter == meridian.PrimaryDatacenter) return [];
        if (primary.Gateways.Count == 0)
        {
            problems.Add($"{PrimaryOptions.SectionName}:Gateways must list the gateways (HOST:PORT) of the primary datacenter {meridian.PrimaryDatacenter}, because {meridian.Datacenter} is a secondary");
            return [];
        }
        List<IPEndPoint> gateways = [];
        for (var i = 0; i < primary.Gateways.Count; i++)
        {
            try
            {
                gateways.Add(Client.MeridianClientOptions.ParseEndpoint(primary.Gateways[i]));
            }
            catch (Exception e) when (e is ArgumentException or System.Net.Sockets.SocketException)
            {
                problems.Add($"{PrimaryOptions.SectionName}:Gateways:{i}: {e.Message}");
            }
        }
        return gateways;
    }
}
