using System.Collections.Immutable;
using Meridian.Core.Acl;
using Meridian.Core.Discovery;
using Meridian.Grains.Acl;

namespace Meridian.Grains.Catalog;

/// <summary>
/// What other grains (prepared-query execution, upstream resolution) use with the catalog's answers: the per-entry ACL
/// filter of Consul's health endpoint, and the mapping of an answer to Core's <see cref="ServiceInstance"/>.
/// </summary>
public static class CatalogViews
{
    /// <summary>
    /// The instances <paramref name="authorizer"/> may see: <c>node:read</c> on the node and <c>service:read</c> on the
    /// service (Consul's agent/consul/acl.go <c>filterCheckServiceNodes</c>). <c>FilteredByAcls</c> is set when something
    /// was left out and <paramref name="accessorId"/> is not the anonymous token.
    /// </summary>
    public static ServiceHealthDto Filter(ServiceHealthDto all, AclAuthorizer authorizer, string accessorId)
    {
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(authorizer);
        var visible = all.Instances
            .Where(i => authorizer.NodeRead(i.Node.Node).Allowed && authorizer.ServiceRead(i.Service.Service).Allowed)
            .ToImmutableArray();
        return all with
        {
            Instances = visible,
            FilteredByAcls = visible.Length < all.Instances.Length && accessorId != AclBuiltins.AnonymousTokenAccessorId,
        };
    }

    /// <summary><see cref="Filter(ServiceHealthDto, AclAuthorizer, string)"/> for a resolved caller.</summary>
    public static ServiceHealthDto Filter(ServiceHealthDto all, AclCaller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return Filter(all, caller.Authorizer, caller.AccessorId);
    }

    /// <summary>One health entry as Core's model (statuses parsed; stored statuses are always valid).</summary>
    public static ServiceInstance ToServiceInstance(this CheckServiceNodeDto entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var (n, s) = (entry.Node, entry.Service);
        var node = new CatalogNode(n.Node, n.Address, n.Datacenter, n.TaggedAddresses, n.Meta, n.ID);
        var proxy = s.Proxy is not { } p ? null : new ProxySettings(p.DestinationServiceName, p.DestinationServiceID,
            p.LocalServiceAddress, p.LocalServicePort, [.. (p.Upstreams.IsDefault ? [] : p.Upstreams).Select(ToCore)]);
        var service = new CatalogService(s.ID, s.Service, s.Tags.IsDefault ? [] : s.Tags, s.Address,
            s.TaggedAddresses.ToImmutableDictionary(a => a.Key, a => new ServiceAddress(a.Value.Address, a.Value.Port)),
            s.Port, s.Meta, s.Kind, proxy);
        var checks = entry.Checks.Select(c => new CatalogCheck(c.Node, c.CheckID, c.Name, HealthStatuses.Parse(c.Status),
            c.ServiceID, c.ServiceName, c.Notes, c.Output, c.Type)).ToImmutableArray();
        return new ServiceInstance(node, service, checks);
    }

    /// <summary>One upstream as Core's model (null texts read as empty).</summary>
    public static Upstream ToCore(this UpstreamDto u)
    {
        ArgumentNullException.ThrowIfNull(u);
        return new Upstream
        {
            DestinationType = u.DestinationType ?? "", DestinationName = u.DestinationName ?? "", DestinationNamespace = u.DestinationNamespace ?? "",
            DestinationPartition = u.DestinationPartition ?? "", DestinationPeer = u.DestinationPeer ?? "", Datacenter = u.Datacenter ?? "",
            LocalBindAddress = u.LocalBindAddress ?? "", LocalBindPort = u.LocalBindPort, LocalBindSocketPath = u.LocalBindSocketPath ?? "",
            LocalBindSocketMode = u.LocalBindSocketMode ?? "", MeshGatewayMode = u.MeshGateway?.Mode ?? "", Config = u.Config,
        };
    }

    /// <summary>
    /// The entry with the node's address, the service's address and port WAN-translated field by field (Core's
    /// <see cref="WanAddressTranslation"/>; tagged addresses unchanged). Unconditional: the caller decides that the
    /// answer is about another datacenter and the option is on (<see cref="WanAddressTranslation.Applies"/>).
    /// </summary>
    public static CheckServiceNodeDto TranslateWan(this CheckServiceNodeDto entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var core = entry.ToServiceInstance();
        return entry with
        {
            Node = entry.Node with { Address = WanAddressTranslation.NodeAddress(core.Node) },
            Service = entry.Service with { Address = WanAddressTranslation.ServiceAddressOf(core.Service), Port = WanAddressTranslation.ServicePort(core.Service) },
        };
    }

    /// <summary>The node with its address WAN-translated (unconditional; see <see cref="TranslateWan(CheckServiceNodeDto)"/>).</summary>
    public static CatalogNodeDto TranslateWan(this CatalogNodeDto node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node with { Address = WanAddressTranslation.NodeAddress(new CatalogNode(node.Node, node.Address, node.Datacenter, node.TaggedAddresses, node.Meta, node.ID)) };
    }

    /// <summary>A health answer translated when <paramref name="settings"/> asks for it and it is about another datacenter than <paramref name="local"/>.</summary>
    public static ServiceHealthDto TranslatedFor(this ServiceHealthDto answer, Discovery.DiscoverySettings settings, string local) =>
        WanAddressTranslation.Applies(settings.TranslateWanAddrs, local, answer.Datacenter)
            ? answer with { Instances = [.. answer.Instances.Select(TranslateWan)], AddressesTranslated = true }
            : answer;

    /// <summary>A nodes answer translated when <paramref name="settings"/> asks for it and it is about another datacenter than <paramref name="local"/>.</summary>
    public static CatalogNodesDto TranslatedFor(this CatalogNodesDto answer, Discovery.DiscoverySettings settings, string local) =>
        WanAddressTranslation.Applies(settings.TranslateWanAddrs, local, answer.Datacenter)
            ? answer with { Nodes = [.. answer.Nodes.Select(TranslateWan)], AddressesTranslated = true }
            : answer;
}
