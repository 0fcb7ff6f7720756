using System.Collections.Immutable;
using System.Net;
using Meridian.Core.Validation;

namespace Meridian.Core.Discovery;

/// <summary>
/// Health statuses as text and their rules (Consul's api-docs/health and agent/structs/check_type.go): only
/// <c>passing</c>, <c>warning</c> and <c>critical</c> are accepted; an empty status is <c>critical</c>.
/// </summary>
public static class HealthStatuses
{
    /// <summary>Consul's refusal of any other status, word for word.</summary>
    public const string InvalidStatusMessage = "Status for checks must 'passing', 'warning', 'critical'";

    /// <summary>The wire text of a status.</summary>
    public static string Text(HealthStatus status) => status switch
    {
        HealthStatus.Passing => "passing",
        HealthStatus.Warning => "warning",
        _ => "critical",
    };

    /// <summary>
    /// The status a registration or an update names: empty is <see cref="HealthStatus.Critical"/> (a new check starts
    /// critical unless told otherwise); anything but the three words (case-sensitive, as Consul) is a problem.
    /// </summary>
    public static HealthStatus Parse(string? text, string field = "Status") => text switch
    {
        null or "" => HealthStatus.Critical,
        "passing" => HealthStatus.Passing,
        "warning" => HealthStatus.Warning,
        "critical" => HealthStatus.Critical,
        _ => throw new DomainValidationException(field, ValidationCodes.InvalidValue, InvalidStatusMessage),
    };

    /// <summary>True when <paramref name="text"/> is empty or one of the three statuses.</summary>
    public static bool IsValid(string? text) => text is null or "" or "passing" or "warning" or "critical";
}

/// <summary>
/// A TTL check's deadline (Consul's <c>CheckTTL</c>, agent/checks/check.go): it keeps the status it was last given
/// until <c>refreshed + ttl</c>, then is <c>critical</c> until refreshed again. Evaluated at read time from what is
/// stored, so the answer is right whether or not the grain's timer has run (after a restart, a reactivation).
/// </summary>
public static class TtlRule
{
    /// <summary>The output Consul's agent writes when a TTL expires.</summary>
    public const string ExpiredOutput = "TTL expired";

    /// <summary>The check type that has a TTL.</summary>
    public const string TtlType = "ttl";

    /// <summary>The status at <paramref name="now"/>: <paramref name="stored"/> before the deadline, critical from it.</summary>
    public static HealthStatus StatusAt(HealthStatus stored, TimeSpan? ttl, DateTimeOffset refreshed, DateTimeOffset now)
        => ttl is { } t && t > TimeSpan.Zero && now >= refreshed + t ? HealthStatus.Critical : stored;

    /// <summary>True when the check has expired at <paramref name="now"/> (and so reads critical).</summary>
    public static bool IsExpired(TimeSpan? ttl, DateTimeOffset refreshed, DateTimeOffset now)
        => ttl is { } t && t > TimeSpan.Zero && now >= refreshed + t;

    /// <summary>The deadline of a TTL check, or null for a check without a TTL.</summary>
    public static DateTimeOffset? Deadline(TimeSpan? ttl, DateTimeOffset refreshed)
        => ttl is { } t && t > TimeSpan.Zero ? refreshed + t : null;
}

/// <summary>Which instances a health answer keeps (Consul's health endpoint and prepared queries).</summary>
public static class HealthFilter
{
    /// <summary>
    /// <c>/v1/health/service/:name?passing</c>: an instance is kept only when every check that affects it (its own and
    /// its node's) is passing, so a <c>warning</c> drops it too. An instance without checks is passing.
    /// </summary>
    public static bool IsPassing(IEnumerable<HealthStatus> checks) => checks.All(s => s == HealthStatus.Passing);

    /// <summary>The worst of the statuses (passing when there are none): the instance's aggregated health.</summary>
    public static HealthStatus Aggregate(IEnumerable<HealthStatus> checks)
    {
        var worst = HealthStatus.Passing;
        foreach (var s in checks) if (s > worst) worst = s;
        return worst;
    }
}

/// <summary>A check as a registration names it (statuses still text: validation reports a bad one).</summary>
public sealed record CheckInput(string Node, string CheckId, string Status, string ServiceId, string Type = "", TimeSpan? Ttl = null);

/// <summary>A service instance as a registration names it.</summary>
public sealed record ServiceInput(
    string Id, string Name, string Address, int Port, string Kind = ServiceKinds.Typical,
    string? ProxyDestinationServiceName = null, bool ConnectNative = false, string SocketPath = "");

/// <summary>
/// A catalog registration (Consul's <c>PUT /v1/catalog/register</c>): <paramref name="ServicesOnNode"/> are the
/// service IDs the node already has, for checks that name a service not in this request.
/// </summary>
public sealed record RegistrationInput(
    string Node, string Address, bool SkipNodeUpdate, ServiceInput? Service, IReadOnlyList<CheckInput> Checks,
    IReadOnlySet<string> ServicesOnNode);

/// <summary>
/// Validation of catalog writes with Consul's texts (agent/consul/catalog_endpoint.go <c>Register</c>,
/// agent/structs/structs.go <c>ValidateForAgent</c>). Every problem is reported, each naming its field.
/// </summary>
public static class CatalogValidation
{
    /// <summary>Every problem with a registration (empty when valid).</summary>
    public static IReadOnlyList<ValidationProblem> Register(RegistrationInput r)
    {
        List<ValidationProblem> problems = [];
        if (string.IsNullOrEmpty(r.Node)) problems.Add(new("Node", ValidationCodes.Required, "Must provide node"));
        if (string.IsNullOrEmpty(r.Address) && !r.SkipNodeUpdate)
            problems.Add(new("Address", ValidationCodes.Required, "Must provide address if SkipNodeUpdate is not set"));
        if (r.Service is { } s)
        {
            if (!string.IsNullOrEmpty(s.Id) && string.IsNullOrEmpty(s.Name))
                problems.Add(new("Service.Service", ValidationCodes.Required, "Must provide service name (Service.Service) when service ID is provided"));
            if (IsUnspecifiedAddress(s.Address))
                problems.Add(new("Service.Address", ValidationCodes.InvalidValue, "Invalid service address"));
            if (s.Port is < 0 or > 65535)
                problems.Add(new("Service.Port", ValidationCodes.OutOfRange, $"Service.Port {s.Port} must be between 0 and 65535"));
            if (s.Kind == ServiceKinds.ConnectProxy)
            {
                if (s.Port == 0 && string.IsNullOrEmpty(s.SocketPath))
                    problems.Add(new("Service.Port", ValidationCodes.Required, "Port or SocketPath must be set for a connect-proxy"));
                if (string.IsNullOrEmpty(s.ProxyDestinationServiceName))
                    problems.Add(new("Service.Proxy.DestinationServiceName", ValidationCodes.Required, "Proxy.DestinationServiceName must be non-empty for Connect proxy services"));
                else if (s.ProxyDestinationServiceName == "*")
                    problems.Add(new("Service.Proxy.DestinationServiceName", ValidationCodes.WildcardNotAllowed, "Proxy.DestinationServiceName must not be a wildcard for Connect proxy services"));
                if (s.ConnectNative)
                    problems.Add(new("Service.Connect.Native", ValidationCodes.MutuallyExclusive, "A Proxy cannot also be Connect Native, only typical services"));
            }
            else if (s.Kind != ServiceKinds.Typical)
                problems.Add(new("Service.Kind", ValidationCodes.InvalidValue, $"Service.Kind \"{s.Kind}\" is not supported: use \"\" or \"connect-proxy\""));
        }
        var serviceId = r.Service is { } svc ? (string.IsNullOrEmpty(svc.Id) ? svc.Name : svc.Id) : null;
        for (var i = 0; i < r.Checks.Count; i++)
        {
            var c = r.Checks[i];
            var field = $"Checks[{i}]";
            if (string.IsNullOrEmpty(c.CheckId))
                problems.Add(new($"{field}.CheckID", ValidationCodes.Required, "Must provide a CheckID (or a Name) for each check"));
            if (!string.IsNullOrEmpty(c.Node) && c.Node != r.Node)
                problems.Add(new($"{field}.Node", ValidationCodes.InvalidValue, $"Node '{c.Node}' for check '{c.CheckId}' doesn't match register request node '{r.Node}'"));
            if (!string.IsNullOrEmpty(c.ServiceId) && c.ServiceId != serviceId && !r.ServicesOnNode.Contains(c.ServiceId))
                problems.Add(new($"{field}.ServiceID", ValidationCodes.InvalidValue, $"Unknown service ID '{c.ServiceId}' for check ID '{c.CheckId}'"));
            if (!HealthStatuses.IsValid(c.Status))
                problems.Add(new($"{field}.Status", ValidationCodes.InvalidValue, HealthStatuses.InvalidStatusMessage));
            if (c.Type == TtlRule.TtlType && c.Ttl is not { } ttl)
                problems.Add(new($"{field}.Definition.TTL", ValidationCodes.Required, "A ttl check needs a TTL (Definition.TTL, e.g. \"30s\")"));
            else if (c.Ttl is { } t && t <= TimeSpan.Zero)
                problems.Add(new($"{field}.Definition.TTL", ValidationCodes.OutOfRange, "TTL must be > 0"));
        }
        return problems;
    }

    /// <summary>The message of a deregistration naming a service the node does not have.</summary>
    public static ValidationProblem UnknownService(string serviceId) =>
        new("ServiceID", ValidationCodes.InvalidValue, $"Unknown service ID '{serviceId}'");

    /// <summary>The message of a deregistration or an update naming a check the node does not have.</summary>
    public static ValidationProblem UnknownCheck(string checkId) =>
        new("CheckID", ValidationCodes.InvalidValue, $"Unknown check ID '{checkId}'");

    // Consul refuses 0.0.0.0 and :: as a service address (agent/consul/catalog_endpoint.go, ipaddr.IsAny).
    private static bool IsUnspecifiedAddress(string address) =>
        IPAddress.TryParse(address, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any));
}

/// <summary>
/// Where a node's entry lives in its datacenter's directory: one of <see cref="Count"/> buckets by a stable hash of
/// the name, so adding a node rewrites one bucket (about 1/<see cref="Count"/> of the node list), never the whole list.
/// </summary>
public static class CatalogBuckets
{
    /// <summary>The number of buckets (never changed: stored rows are named by it).</summary>
    public const int Count = 32;

    /// <summary>The bucket of <paramref name="name"/>: FNV-1a over UTF-16 code units, stable across processes.</summary>
    public static int Of(string name)
    {
        uint hash = 2166136261;
        foreach (var ch in name)
        {
            hash ^= ch;
            hash *= 16777619;
        }
        return (int)(hash % Count);
    }
}

/// <summary>Index rules for catalog entries (Consul's <c>CreateIndex</c>/<c>ModifyIndex</c>).</summary>
public static class CatalogIndex
{
    /// <summary>
    /// The next index after <paramref name="last"/>: at least <paramref name="last"/> + 1, and at least the
    /// milliseconds of <paramref name="now"/>, so the indexes of separate grains (a node, a service) move together and
    /// stay monotonic across restarts without a shared counter every write would wait for.
    /// </summary>
    public static ulong Next(ulong last, DateTimeOffset now) => Math.Max(last + 1, (ulong)Math.Max(0, now.ToUnixTimeMilliseconds()));

    /// <summary>The tags of a service: the sorted union of its instances' tags (Consul's <c>/v1/catalog/services</c>).</summary>
    public static ImmutableArray<string> TagUnion(IEnumerable<IEnumerable<string>> tags) =>
        [.. tags.SelectMany(t => t).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
}

/// <summary>
/// The grain keys of a datacenter's catalog: <c>dc/node</c> for a node, <c>dc/service</c> for a service,
/// <c>dc/s:service/NN</c> and <c>dc/n/NN</c> for the stored buckets of a service and of the node directory. Built and
/// read only here (grains never split keys).
/// </summary>
public static class CatalogKeys
{
    /// <summary>The key of a node's grain.</summary>
    public static string Node(string datacenter, string node) => $"{datacenter}/{node}";

    /// <summary>The key of a service's grain.</summary>
    public static string Service(string datacenter, string service) => $"{datacenter}/{service}";

    /// <summary>The key of bucket <paramref name="bucket"/> of the service whose grain key is <paramref name="serviceKey"/>.</summary>
    public static string ServiceBucket(string serviceKey, int bucket)
    {
        var slash = serviceKey.IndexOf('/');
        return $"{serviceKey[..slash]}/s:{serviceKey[(slash + 1)..]}/{bucket:D2}";
    }

    /// <summary>The key of bucket <paramref name="bucket"/> of the node directory of <paramref name="datacenter"/>.</summary>
    public static string NodeBucket(string datacenter, int bucket) => $"{datacenter}/n/{bucket:D2}";

    /// <summary>The name part of a <c>dc/name</c> key (everything after the first <c>/</c>).</summary>
    public static string NameOf(string key)
    {
        var slash = key.IndexOf('/');
        return slash < 0 ? key : key[(slash + 1)..];
    }

    /// <summary>The key of an instance inside its service: node and service ID (a node name never holds a newline).</summary>
    public static string Instance(string node, string serviceId) => $"{node}\n{serviceId}";
}
