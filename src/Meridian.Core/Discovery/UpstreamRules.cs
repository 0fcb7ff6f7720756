using System.Collections.Immutable;
using Meridian.Core.Validation;

namespace Meridian.Core.Discovery;

/// <summary>
/// Validation of a sidecar proxy's upstreams with Consul's texts (<c>Upstream.Validate</c> and the upstream loop of
/// <c>NodeService.Validate</c> in Consul's <c>agent/structs</c>; the proxy configuration reference,
/// https://developer.hashicorp.com/consul/docs/connect/proxies/proxy-config-reference#upstream-configuration-reference).
/// </summary>
/// <remarks>
/// Every problem of every upstream is reported at once (Consul accumulates across upstreams too). Within one upstream
/// Consul stops at its first definition error and then skips the duplicate checks for it; we keep that, so an upstream
/// with an empty name is never also reported as a duplicate. The mesh gateway mode is checked on its own (Consul
/// refuses it while decoding, before <c>Validate</c>), so it is reported alongside the others.
/// </remarks>
public static class UpstreamRules
{
    /// <summary>Consul's <c>service</c> destination type (also the meaning of an empty type).</summary>
    public const string Service = "service";

    /// <summary>Consul's <c>prepared_query</c> destination type.</summary>
    public const string PreparedQuery = "prepared_query";

    /// <summary>The bind address an empty <see cref="Upstream.LocalBindAddress"/> stands for.</summary>
    public const string DefaultBindAddress = "127.0.0.1";

    private static readonly ImmutableArray<string> MeshGatewayModes = ["", "none", "local", "remote"];

    /// <summary>
    /// Every problem with <paramref name="upstreams"/>; fields are named <c>Proxy.Upstreams[i].Field</c>
    /// (<paramref name="prefix"/> replaces <c>Proxy.Upstreams</c>). <paramref name="servicePartition"/> is the
    /// proxy's own partition (empty: <c>default</c>).
    /// </summary>
    public static IReadOnlyList<ValidationProblem> Validate(IReadOnlyList<Upstream> upstreams, string prefix = "Proxy.Upstreams", string servicePartition = "")
    {
        var problems = new List<ValidationProblem>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var binds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < upstreams.Count; i++)
        {
            var u = upstreams[i];
            var at = $"{prefix}[{i}]";
            if (!MeshGatewayModes.Contains(u.MeshGatewayMode))
                problems.Add(new($"{at}.MeshGateway.Mode", ValidationCodes.InvalidValue, $"Invalid Mesh Gateway Mode: {ValidationText.Quote(u.MeshGatewayMode)}"));
            if (Definition(u, at) is { } problem)
            {
                problems.Add(problem);
                continue;
            }
            if (!IsDefaultPartition(u.DestinationPartition) && u.Datacenter.Length > 0)
            {
                problems.Add(new($"{at}.Datacenter", ValidationCodes.MutuallyExclusive, "upstreams cannot target another datacenter in non default partition"));
                continue;
            }
            if (u.DestinationPeer.Length > 0 && !SamePartition(u.DestinationPartition, servicePartition))
            {
                problems.Add(new($"{at}.DestinationPartition", ValidationCodes.InvalidValue, "upstreams must target peers in the same partition as the service"));
                continue;
            }
            var key = Key(u);
            if (!keys.Add(key))
            {
                problems.Add(new($"{at}.DestinationName", ValidationCodes.Duplicate, $"upstreams cannot contain duplicates of {key}"));
                continue;
            }
            var bind = BindAddress(u);
            // Centrally configured upstreams have no listener of their own, so they never clash (Consul's comment).
            if (!binds.Add(bind) && !u.CentrallyConfigured)
                problems.Add(new($"{at}.LocalBindPort", ValidationCodes.Duplicate,
                    $"upstreams cannot contain duplicates by local bind address and port or unix path; {ValidationText.Quote(bind)} is specified twice"));
        }
        return problems;
    }

    /// <summary>Consul's <c>Upstream.Validate</c>: the first problem with one upstream's own fields, or null.</summary>
    public static ValidationProblem? Definition(Upstream u, string at)
    {
        if (u.DestinationType is not ("" or Service or PreparedQuery))
            return new($"{at}.DestinationType", ValidationCodes.InvalidValue, $"unknown upstream destination type: {ValidationText.Quote(u.DestinationType)}");
        if (u.DestinationName.Length == 0)
            return new($"{at}.DestinationName", ValidationCodes.Required, "upstream destination name cannot be empty");
        if (u.DestinationName == "*" && !u.CentrallyConfigured)
            return new($"{at}.DestinationName", ValidationCodes.WildcardNotAllowed, "upstream destination name cannot be a wildcard");
        if (u.DestinationPeer.Length > 0 && u.Datacenter.Length > 0)
            return new($"{at}.Datacenter", ValidationCodes.MutuallyExclusive, "upstream cannot specify both destination peer and datacenter");
        if (u.LocalBindPort == 0 && u.LocalBindSocketPath.Length == 0 && !u.CentrallyConfigured)
            return new($"{at}.LocalBindPort", ValidationCodes.Required, "upstream local bind port or local socket path must be defined and nonzero");
        if (u.LocalBindPort != 0 && u.LocalBindSocketPath.Length > 0 && !u.CentrallyConfigured)
            return new($"{at}.LocalBindSocketPath", ValidationCodes.MutuallyExclusive, "only one of upstream local bind port or local socket path can be defined and nonzero");
        return null;
    }

    /// <summary>
    /// Consul's <c>UpstreamKey</c> text: <c>[type="service", name="db", partition="", namespace="", peer="", datacenter="dc2"]</c>.
    /// The same service in two datacenters is two keys. An empty type is written <c>service</c> so that <c>""</c> and
    /// <c>service</c> (the same destination) collide; Consul compares the raw text and would let both through.
    /// </summary>
    public static string Key(Upstream u) =>
        $"[type={Go(u.DestinationType.Length == 0 ? Service : u.DestinationType)}, name={Go(u.DestinationName)}, " +
        $"partition={Go(u.DestinationPartition)}, namespace={Go(u.DestinationNamespace)}, peer={Go(u.DestinationPeer)}, " +
        $"datacenter={Go(u.Datacenter)}]";

    /// <summary>Consul's <c>UpstreamAddressToString</c>: <c>127.0.0.1:9191</c>, <c>[::1]:9191</c>, or the socket path.</summary>
    public static string BindAddress(Upstream u)
    {
        if (u.LocalBindPort <= 0) return u.LocalBindSocketPath;
        var host = u.LocalBindAddress.Length == 0 ? DefaultBindAddress : u.LocalBindAddress;
        return host.Contains(':') ? $"[{host}]:{u.LocalBindPort}" : $"{host}:{u.LocalBindPort}";
    }

    private static string Go(string s) => ValidationText.Quote(s);

    private static bool IsDefaultPartition(string p) => p.Length == 0 || p == "default";

    private static bool SamePartition(string a, string b) => (IsDefaultPartition(a) && IsDefaultPartition(b)) || a == b;
}
