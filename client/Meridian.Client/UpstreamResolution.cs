using System.Collections.Immutable;
using Meridian.Core.Discovery;
using Meridian.Core.Identity;
using Meridian.Grains;

namespace Meridian.Client;

/// <summary>One endpoint a sidecar dials for an upstream: where, in which datacenter, and the identity it must present.</summary>
/// <param name="Address">The service's address, else its node's (WAN-translated when the datacenter is not the caller's).</param>
/// <param name="Port">The service's port (its <c>wan</c> tagged port when translated and set).</param>
/// <param name="Datacenter">The datacenter of the instance (the SPIFFE ID's <c>dc</c>).</param>
/// <param name="SpiffeId">The URI SAN the destination's certificate must carry (Consul's built-in proxy compares it ignoring the trust domain).</param>
/// <param name="Node">The instance's node.</param>
/// <param name="ServiceId">The instance's service ID (the sidecar's when <see cref="UpstreamResolutionResult.ViaSidecar"/>).</param>
public sealed record UpstreamEndpoint(string Address, int Port, string Datacenter, string SpiffeId, string Node, string ServiceId);

/// <summary>The endpoints of one upstream, and how they were found.</summary>
/// <param name="DestinationType"><c>service</c> or <c>prepared_query</c>.</param>
/// <param name="DestinationName">The service or query.</param>
/// <param name="Datacenter">The datacenter that answered (for a query, the one it failed over to).</param>
/// <param name="Failovers">For a query: the datacenters tried after the local one.</param>
/// <param name="ViaSidecar">The endpoints are the destination's <c>connect-proxy</c> sidecars, not its instances.</param>
/// <param name="Endpoints">Healthy endpoints, empty when none.</param>
public sealed record UpstreamResolutionResult(string DestinationType, string DestinationName, string Datacenter, int Failovers,
    bool ViaSidecar, IReadOnlyList<UpstreamEndpoint> Endpoints);

/// <summary>
/// Upstream resolution (issue 14 §5), modelled on Consul's built-in proxy (<c>connect/resolver.go</c>; upstream
/// reference https://developer.hashicorp.com/consul/docs/connect/proxies/proxy-config-reference#upstream-configuration-reference):
/// a service resolves to its instances that pass every check (<c>?passing</c>) in this or the upstream's datacenter; a
/// prepared query executes with Connect and may fail over. Endpoints of another datacenter carry the remote node's WAN
/// address when it has one, whatever <c>translate_wan_addrs</c> says (Consul's Envoy endpoints do the same).
/// </summary>
/// <remarks>
/// Destination's sidecar: when the destination has passing <c>connect-proxy</c> instances for it (registered as
/// <c>&lt;service&gt;-sidecar-proxy</c>, Consul's default sidecar name), the endpoints are those proxies (Consul's
/// <c>/v1/health/connect/:service</c> answers proxies, and the proxy is what terminates mTLS); only a destination
/// without one resolves to its own instances, which then must speak mTLS themselves (Connect-native). The expected
/// SPIFFE ID names the destination service either way: a sidecar presents its destination's identity.
/// </remarks>
public static class UpstreamResolution
{
    /// <summary>The endpoints of <paramref name="entries"/> (a health or execute answer) for <paramref name="local"/>.</summary>
    public static ImmutableArray<UpstreamEndpoint> Endpoints(IEnumerable<CheckServiceNodeDto> entries, string local, string trustDomain)
    {
        var result = ImmutableArray.CreateBuilder<UpstreamEndpoint>();
        foreach (var e in entries)
        {
            var dc = e.Node.Datacenter;
            var (nodeAddress, serviceAddress, port) = (e.Node.Address, e.Service.Address, e.Service.Port);
            if (!string.IsNullOrEmpty(dc) && dc != local)
            {
                nodeAddress = WanAddressTranslation.NodeAddress(new CatalogNode(e.Node.Node, e.Node.Address, dc, e.Node.TaggedAddresses, e.Node.Meta, e.Node.ID));
                var service = new CatalogService(e.Service.ID, e.Service.Service, [], e.Service.Address,
                    e.Service.TaggedAddresses.ToImmutableDictionary(a => a.Key, a => new ServiceAddress(a.Value.Address, a.Value.Port)), e.Service.Port, e.Service.Meta);
                (serviceAddress, port) = (WanAddressTranslation.ServiceAddressOf(service), WanAddressTranslation.ServicePort(service));
            }
            var destination = e.Service.Kind == ServiceKinds.ConnectProxy && e.Service.Proxy is { DestinationServiceName.Length: > 0 } p
                ? p.DestinationServiceName : e.Service.Service;
            var spiffe = new ServiceSpiffeId(trustDomain, SpiffeId.DefaultNamespace, string.IsNullOrEmpty(dc) ? local : dc, destination).Uri;
            result.Add(new UpstreamEndpoint(string.IsNullOrEmpty(serviceAddress) ? nodeAddress : serviceAddress, port,
                string.IsNullOrEmpty(dc) ? local : dc, spiffe, e.Node.Node, e.Service.ID));
        }
        return result.ToImmutable();
    }

    /// <summary>The sidecars of <paramref name="destination"/> among <paramref name="entries"/>: <c>connect-proxy</c> instances whose destination it is.</summary>
    public static IEnumerable<CheckServiceNodeDto> SidecarsOf(IEnumerable<CheckServiceNodeDto> entries, string destination) =>
        entries.Where(e => e.Service.Kind == ServiceKinds.ConnectProxy && e.Service.Proxy?.DestinationServiceName == destination);
}
