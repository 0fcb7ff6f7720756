using System.Net;
using Meridian.Client;
using Meridian.Core.Validation;
using Meridian.Grains;

namespace Meridian.Proxy;

/// <summary>
/// <c>--sidecar-for SERVICE</c>: the proxy's configuration from the catalog, as Consul's built-in proxy reads the
/// registered sidecar (https://developer.hashicorp.com/consul/commands/connect/proxy#sidecar-for): the one
/// <c>connect-proxy</c> whose destination is the service; public listener = its address and port, local application =
/// <c>Proxy.LocalServiceAddress:LocalServicePort</c>, upstreams as declared.
/// </summary>
public static class SidecarRegistration
{
    /// <summary>
    /// Options for the sidecar of <paramref name="service"/> registered in the client's datacenter (on
    /// <paramref name="node"/> when given). Not registered again (it already is). Errors use Consul's texts:
    /// <c>No sidecar proxy registered for …</c>, <c>More than one sidecar proxy registered for ….</c>
    /// </summary>
    public static async Task<ProxyOptions> ReadAsync(IMeridianClient client, string service, string? node = null, CancellationToken cancellationToken = default)
    {
        var health = await client.GetServiceHealthAsync(service + "-sidecar-proxy", false, null, cancellationToken);
        var candidates = health.Instances.Where(i => i.Service.Kind == "connect-proxy" && i.Service.Proxy?.DestinationServiceName == service
            && (string.IsNullOrEmpty(node) || i.Node.Node == node)).ToList();
        if (candidates.Count == 0)
            throw new DomainValidationException("--sidecar-for", ValidationCodes.InvalidValue, $"No sidecar proxy registered for {service}");
        if (candidates.Count > 1)
            throw new DomainValidationException("--sidecar-for", ValidationCodes.InvalidValue,
                $"More than one sidecar proxy registered for {service}. Start the proxy with --node to choose one of: {string.Join(", ", candidates.Select(c => c.Node.Node + "/" + c.Service.ID))}");
        return FromRegistration(candidates[0]);
    }

    /// <summary>The options a registered sidecar describes (pure: see <see cref="ReadAsync"/>).</summary>
    public static ProxyOptions FromRegistration(CheckServiceNodeDto registered)
    {
        var s = registered.Service;
        var proxy = s.Proxy ?? new ProxyDto();
        // Consul's built-in proxy binds the public listener on every address by default; the catalog address is what others dial.
        return new ProxyOptions
        {
            Service = proxy.DestinationServiceName,
            Listen = new IPEndPoint(IPAddress.Any, s.Port),
            LocalApp = new DnsEndPoint(string.IsNullOrEmpty(proxy.LocalServiceAddress) ? "127.0.0.1" : proxy.LocalServiceAddress, proxy.LocalServicePort),
            Upstreams = [.. proxy.Upstreams.IsDefault ? [] : proxy.Upstreams.Select(u => new ProxyUpstream(
                string.IsNullOrEmpty(u.DestinationType) ? ProxyUpstream.Service : u.DestinationType, u.DestinationName, u.Datacenter,
                string.IsNullOrEmpty(u.LocalBindAddress) ? "127.0.0.1" : u.LocalBindAddress, u.LocalBindPort))],
            Register = false,
            Node = registered.Node.Node,
            ProxyId = s.ID,
        };
    }
}
