using System.Collections.Immutable;

namespace Meridian.Core.Discovery;

/// <summary>
/// <c>translate_wan_addrs</c> (Consul's <c>agent/translate_addr.go</c>; the agent option
/// https://developer.hashicorp.com/consul/docs/agent/config/config-files#translate_wan_addrs): answers about another
/// datacenter's nodes carry the addresses reachable from outside it. A property of the answering datacenter; answers
/// about the local datacenter are never translated, even when their nodes carry <c>wan</c> addresses.
/// </summary>
/// <remarks>
/// Per address, "any family" precedence as Consul's HTTP API: the IPv6 address (<c>wan_ipv6</c> if tagged, else
/// <c>lan_ipv6</c>), else the IPv4 one (<c>wan_ipv4</c>, else <c>lan_ipv4</c>), else <c>wan</c>, else the address as
/// registered. So a node tagged <c>lan_ipv4</c> but not <c>wan_ipv4</c> answers its LAN IPv4 address, not <c>wan</c>
/// (Consul does the same). A service's port becomes its <c>wan</c> tagged port when that is non-zero. Tagged addresses
/// themselves are returned unchanged.
/// </remarks>
public static class WanAddressTranslation
{
    /// <summary>True when answers about <paramref name="answeringDatacenter"/> are translated.</summary>
    public static bool Applies(bool enabled, string localDatacenter, string answeringDatacenter) =>
        enabled && !string.Equals(localDatacenter, answeringDatacenter, StringComparison.Ordinal);

    /// <summary>The instances as the answer carries them: translated when <see cref="Applies"/>, else unchanged.</summary>
    public static ImmutableArray<ServiceInstance> Translate(bool enabled, string localDatacenter, string answeringDatacenter, ImmutableArray<ServiceInstance> instances) =>
        Applies(enabled, localDatacenter, answeringDatacenter) ? [.. instances.Select(Translate)] : instances;

    /// <summary>The instance with its node's and service's addresses and the service port translated (unconditionally).</summary>
    public static ServiceInstance Translate(ServiceInstance i) => i with { Node = Translate(i.Node), Service = Translate(i.Service) };

    /// <summary>The node with <see cref="CatalogNode.Address"/> translated (unconditionally).</summary>
    public static CatalogNode Translate(CatalogNode n) => n with { Address = NodeAddress(n) };

    /// <summary>The service with its address and port translated (unconditionally).</summary>
    public static CatalogService Translate(CatalogService s) => s with { Address = ServiceAddressOf(s), Port = ServicePort(s) };

    /// <summary>A remote node's address (see the remarks).</summary>
    public static string NodeAddress(CatalogNode n)
    {
        var tags = n.TaggedAddresses ?? ImmutableDictionary<string, string>.Empty;
        string? Tag(string key) => tags.TryGetValue(key, out var v) ? v : null;
        return Pick(Tag("wan") ?? n.Address, Tag("wan_ipv4") ?? Tag("lan_ipv4") ?? "", Tag("wan_ipv6") ?? Tag("lan_ipv6") ?? "");
    }

    /// <summary>A remote service's address (see the remarks); empty stays empty (the node's address is used).</summary>
    public static string ServiceAddressOf(CatalogService s)
    {
        var tags = s.TaggedAddresses ?? ImmutableDictionary<string, ServiceAddress>.Empty;
        string? Tag(string key) => tags.TryGetValue(key, out var v) ? v.Address : null;
        return Pick(Tag("wan") ?? s.Address, Tag("wan_ipv4") ?? Tag("lan_ipv4") ?? "", Tag("wan_ipv6") ?? Tag("lan_ipv6") ?? "");
    }

    /// <summary>A remote service's port: the <c>wan</c> tagged port when non-zero, else the registered one.</summary>
    public static int ServicePort(CatalogService s) =>
        s.TaggedAddresses is { } tags && tags.TryGetValue("wan", out var wan) && wan.Port != 0 ? wan.Port : s.Port;

    // Consul's translateAddressAccept with every family accepted: v6, else v4, else the default.
    private static string Pick(string @default, string v4, string v6) => v6.Length > 0 ? v6 : v4.Length > 0 ? v4 : @default;
}
