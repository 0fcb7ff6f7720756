namespace Meridian.HttpApi;

/// <summary>
/// What the Consul-compatible HTTP API says about the process serving it (a silo or <c>meridian agent</c>): the names
/// Consul's <c>/v1/agent/self</c> carries and the node that <c>/v1/agent/service/register</c> registers on.
/// </summary>
public sealed class ConsulHttpApiOptions
{
    /// <summary>The node name (Consul's <c>node_name</c>): agent services and checks are registered on it. Default: the host name.</summary>
    public string NodeName { get; set; } = Environment.MachineName.ToLowerInvariant();

    /// <summary>The address agent services are registered with when they give none. Default: <c>127.0.0.1</c>.</summary>
    public string NodeAddress { get; set; } = "127.0.0.1";

    /// <summary>Whether the process is a server (a silo) rather than a client agent: <c>Config.Server</c> of <c>/v1/agent/self</c>.</summary>
    public bool Server { get; set; }

    /// <summary>The address <c>/v1/status/leader</c> and <c>peers</c> answer (Consul: the leader's RPC address). Default: <c>127.0.0.1:8300</c>.</summary>
    public string LeaderAddress { get; set; } = "127.0.0.1:8300";

    /// <summary>
    /// Consul's <c>X-Consul-Default-ACL-Policy</c> header on every response: <c>allow</c> with ACLs off, else the ACL
    /// default policy. Default: <c>allow</c>.
    /// </summary>
    public string DefaultAclPolicy { get; set; } = "allow";

    /// <summary>The largest request body accepted; a larger one is refused with 413 and nothing is read. Default: 1 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>A blocking query's wait when the request names none (Consul's <c>default_query_time</c>). Default: 5 minutes.</summary>
    public TimeSpan DefaultQueryTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest wait a blocking query may ask for (Consul's <c>max_query_time</c>). Default: 10 minutes.</summary>
    public TimeSpan MaxQueryTime { get; set; } = TimeSpan.FromMinutes(10);
}
