using System.Collections.Immutable;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Configuration;

namespace Meridian.Silo;

/// <summary>
/// How other datacenters reach this one, and how this one measures them. Section <c>Meridian:Wan</c>.
/// </summary>
public sealed class WanOptions
{
    public const string SectionName = "Meridian:Wan";

    /// <summary>
    /// This datacenter's gateways as other datacenters reach them, <c>HOST:PORT</c>, registered in the primary. Default:
    /// this silo's own gateway endpoint (<c>Meridian:Endpoints:Address</c>:<c>GatewayPort</c>). Set it when a NAT, a
    /// load balancer or a proxy stands between datacenters.
    /// </summary>
    public List<string> Gateways { get; set; } = [];

    /// <summary>This datacenter's WAN address (what <c>translate_wan_addrs</c> answers). Default: none.</summary>
    public string Address { get; set; } = "";

    /// <summary>How often each link is pinged for its RTT (default 00:00:02; 0 = no pings, links close when idle).</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A link no caller used for this long is closed (default 00:10:00). Pings count as use: with pings on, a link to
    /// every known datacenter stays open, as Consul's servers stay in the WAN gossip pool with every other.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often this datacenter registers itself in the primary again (default 00:00:30).</summary>
    public TimeSpan RegisterInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Reads and checks the section; every problem names its key.</summary>
    internal static (WanOptions Options, DatacenterAdvertisement Advertisement) Read(IConfiguration config, MeridianOptions meridian,
        EndpointOptions endpoints, List<string> problems)
    {
        var wan = ConfigValues.Bind<WanOptions>(config, SectionName, problems);
        for (var i = 0; i < wan.Gateways.Count; i++)
        {
            try
            {
                Client.MeridianClientOptions.ParseEndpoint(wan.Gateways[i]);
            }
            catch (Exception e) when (e is ArgumentException or System.Net.Sockets.SocketException)
            {
                problems.Add($"{SectionName}:Gateways:{i}: {e.Message}");
            }
        }
        if (wan.PingInterval < TimeSpan.Zero) problems.Add($"{SectionName}:PingInterval must be 0 (off) or positive, e.g. 00:00:02");
        if (wan.IdleTimeout <= TimeSpan.Zero) problems.Add($"{SectionName}:IdleTimeout must be positive, e.g. 00:10:00");
        if (wan.RegisterInterval <= TimeSpan.Zero) problems.Add($"{SectionName}:RegisterInterval must be positive, e.g. 00:00:30");
        ImmutableArray<string> gateways = wan.Gateways.Count > 0 ? [.. wan.Gateways] : [$"{endpoints.Address}:{endpoints.GatewayPort}"];
        return (wan, new DatacenterAdvertisement(gateways, wan.Address ?? "", meridian.EffectiveClusterId, wan.RegisterInterval));
    }
}
