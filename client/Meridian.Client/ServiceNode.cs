using System.Collections.Immutable;
using Meridian.Grains;

namespace Meridian.Client;

/// <summary>
/// One entry of Consul's <c>/v1/catalog/service/:name</c> (<c>ServiceNode</c>): the node's fields and the service's,
/// flattened, with Consul's field names. <c>ServiceTags</c> is <c>[]</c>, never null.
/// </summary>
public sealed record ServiceNode
{
    public string ID { get; init; } = "";
    public string Node { get; init; } = "";
    public string Address { get; init; } = "";
    public string Datacenter { get; init; } = "";
    public ImmutableDictionary<string, string> TaggedAddresses { get; init; } = ImmutableDictionary<string, string>.Empty;
    public ImmutableDictionary<string, string> NodeMeta { get; init; } = ImmutableDictionary<string, string>.Empty;
    public string ServiceKind { get; init; } = "";
    public string ServiceID { get; init; } = "";
    public string ServiceName { get; init; } = "";
    public ImmutableArray<string> ServiceTags { get; init; } = [];
    public string ServiceAddress { get; init; } = "";
    public ImmutableDictionary<string, ServiceAddressDto>? ServiceTaggedAddresses { get; init; }
    public ImmutableDictionary<string, string> ServiceMeta { get; init; } = ImmutableDictionary<string, string>.Empty;
    public int ServicePort { get; init; }
    public ProxyDto ServiceProxy { get; init; } = new();
    public ulong CreateIndex { get; init; }
    public ulong ModifyIndex { get; init; }

    /// <summary>The flat view of a health entry (indexes are the service instance's, as Consul's).</summary>
    public static ServiceNode From(CheckServiceNodeDto entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var (n, s) = (entry.Node, entry.Service);
        return new ServiceNode
        {
            ID = n.ID, Node = n.Node, Address = n.Address, Datacenter = n.Datacenter, TaggedAddresses = n.TaggedAddresses,
            NodeMeta = n.Meta, ServiceKind = s.Kind, ServiceID = s.ID, ServiceName = s.Service,
            ServiceTags = s.Tags.IsDefault ? [] : s.Tags, ServiceAddress = s.Address,
            ServiceTaggedAddresses = s.TaggedAddresses.IsEmpty ? null : s.TaggedAddresses,
            ServiceMeta = s.Meta, ServicePort = s.Port, ServiceProxy = s.Proxy ?? new ProxyDto(),
            CreateIndex = s.CreateIndex, ModifyIndex = s.ModifyIndex,
        };
    }
}
