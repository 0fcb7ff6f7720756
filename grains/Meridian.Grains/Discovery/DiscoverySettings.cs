namespace Meridian.Grains.Discovery;

/// <summary>
/// Discovery settings of a datacenter's silos (the silo reads <c>Meridian:TranslateWanAddrs</c>; test clusters
/// register their own or get <see cref="Default"/>).
/// </summary>
/// <param name="TranslateWanAddrs">
/// Consul's <c>translate_wan_addrs</c> (https://developer.hashicorp.com/consul/docs/agent/config/config-files#translate_wan_addrs):
/// answers about another datacenter's nodes and services (catalog and health with a datacenter, a prepared query
/// answered by another datacenter) carry their WAN addresses and ports; answers about this datacenter never do.
/// Default false.
/// </param>
public sealed record DiscoverySettings(bool TranslateWanAddrs)
{
    /// <summary>No translation (Consul's default).</summary>
    public static DiscoverySettings Default { get; } = new(false);
}
