using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Meridian.Silo;

/// <summary>
/// Where a silo listens and what it tells peers and clients to connect to. Consul separates the two the same way
/// (<c>bind_addr</c> and <c>advertise_addr</c>: the advertised address defaults to the bind address, and with
/// <c>0.0.0.0</c> to the host's first private address;
/// https://developer.hashicorp.com/consul/docs/reference/agent/configuration-file/address). A silo in a container binds
/// every interface and advertises its own address: Orleans refuses <c>0.0.0.0</c> as an advertised address (peers and
/// gateways' clients would dial it), so the two must differ there.
/// </summary>
/// <param name="Bind">The address the silo, gateway and HTTP listeners bind (may be <c>0.0.0.0</c> or <c>::</c>).</param>
/// <param name="Advertise">The address written to the membership table and given to clients: never unspecified.</param>
public sealed record EndpointAddresses(IPAddress Bind, IPAddress Advertise)
{
    /// <summary>
    /// Resolves <c>Meridian:Endpoints:Address</c> and <c>AdvertiseAddress</c> against <paramref name="hostAddresses"/>
    /// (this host's non-loopback unicast addresses, in interface order); null with a problem naming the key when the
    /// values do not parse or nothing can be advertised.
    /// </summary>
    public static EndpointAddresses? Resolve(string address, string? advertiseAddress, IReadOnlyList<IPAddress> hostAddresses, List<string> problems)
    {
        const string P = EndpointOptions.SectionName + ":";
        if (!IPAddress.TryParse(address, out var bind))
        {
            problems.Add($"{P}Address \"{address}\" is not an IP address (use 0.0.0.0 to listen on every interface)");
            return null;
        }
        if (!string.IsNullOrWhiteSpace(advertiseAddress))
        {
            if (!IPAddress.TryParse(advertiseAddress, out var advertise))
            {
                problems.Add($"{P}AdvertiseAddress \"{advertiseAddress}\" is not an IP address");
                return null;
            }
            if (IsUnspecified(advertise))
            {
                problems.Add($"{P}AdvertiseAddress {advertise} cannot be advertised: peers and clients cannot connect to it; give this silo's own address (or leave it empty to pick the host's)");
                return null;
            }
            if (!IsUnspecified(bind) && !bind.Equals(advertise))
            {
                problems.Add($"{P}AdvertiseAddress {advertise} differs from {P}Address {bind}, where the silo listens: bind {P}Address=0.0.0.0 (every interface) or advertise {bind}");
                return null;
            }
            return new EndpointAddresses(bind, advertise);
        }
        if (!IsUnspecified(bind)) return new EndpointAddresses(bind, bind);
        // The host's own address: private IPv4 first (a container's bridge address), then any other of the bind's family.
        var family = bind.AddressFamily;
        var candidates = hostAddresses.Where(a => !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal && (family == AddressFamily.InterNetworkV6 || a.AddressFamily == family)).ToList();
        var chosen = candidates.FirstOrDefault(IsPrivate) ?? candidates.FirstOrDefault();
        if (chosen is null)
        {
            problems.Add($"{P}Address is {bind} (every interface) and this host has no non-loopback address to advertise: set {P}AdvertiseAddress to the address peers and clients reach this silo at");
            return null;
        }
        // As Consul ("Multiple private IPv4 addresses found. Please configure one"): a guess between two networks
        // (a container on two networks, a host with a container bridge) may advertise the one peers cannot reach.
        var rivals = candidates.Where(a => IsPrivate(a) && a.AddressFamily == chosen.AddressFamily).Distinct().ToList();
        if (rivals.Count > 1)
        {
            problems.Add($"{P}Address is {bind} (every interface) and this host has several private addresses ({string.Join(", ", rivals)}): set {P}AdvertiseAddress to the one peers and clients reach this silo at");
            return null;
        }
        return new EndpointAddresses(bind, chosen);
    }

    /// <summary>This host's unicast addresses on interfaces that are up, loopback ones last.</summary>
    public static IReadOnlyList<IPAddress> HostAddresses()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(i => i.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown)
                .SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(u => u.Address))
                .OrderBy(IPAddress.IsLoopback)
                .ToList();
        }
        catch (NetworkInformationException)
        {
            return [];
        }
    }

    private static bool IsUnspecified(IPAddress a) => a.Equals(IPAddress.Any) || a.Equals(IPAddress.IPv6Any);

    // RFC 1918 (and RFC 6598 shared space, used by some container networks) for IPv4; unique local (fc00::/7) for IPv6.
    private static bool IsPrivate(IPAddress a)
    {
        if (a.AddressFamily == AddressFamily.InterNetworkV6) return (a.GetAddressBytes()[0] & 0xFE) == 0xFC;
        var b = a.GetAddressBytes();
        return b[0] == 10 || (b[0] == 172 && b[1] is >= 16 and <= 31) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && b[1] is >= 64 and <= 127);
    }
}
