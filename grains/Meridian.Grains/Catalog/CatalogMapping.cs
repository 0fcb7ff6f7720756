using System.Collections.Immutable;
using Meridian.Core.Certificates;
using Meridian.Core.Discovery;
using Meridian.Core.Validation;

namespace Meridian.Grains.Catalog;

/// <summary>Between the catalog's wire DTOs and Core's rules: registration input, TTLs, statuses as of now.</summary>
internal static class CatalogMapping
{
    /// <summary>Every check of a registration: <c>Check</c> then <c>Checks</c> (Consul accepts both).</summary>
    public static ImmutableArray<HealthCheckDto> ChecksOf(CatalogRegisterRequestDto request)
    {
        var checks = request.Checks.IsDefault ? [] : request.Checks;
        return request.Check is { } one ? checks.Insert(0, one) : checks;
    }

    /// <summary>A check's ID: its <c>CheckID</c>, else its <c>Name</c> (Consul defaults the ID to the name).</summary>
    public static string IdOf(HealthCheckDto check) => string.IsNullOrEmpty(check.CheckID) ? check.Name : check.CheckID;

    /// <summary>A service's ID: its <c>ID</c>, else its name.</summary>
    public static string IdOf(NodeServiceDto service) => string.IsNullOrEmpty(service.ID) ? service.Service : service.ID;

    /// <summary>The TTL of a check (<c>Definition.TTL</c>), or null; a bad text is a problem.</summary>
    public static TimeSpan? TtlOf(HealthCheckDto check, string field, List<ValidationProblem> problems)
    {
        if (string.IsNullOrEmpty(check.Definition?.TTL)) return null;
        if (GoDuration.Check($"{field}.Definition.TTL", check.Definition.TTL, out var ttl) is { } bad)
        {
            problems.Add(bad);
            return null;
        }
        return ttl;
    }

    /// <summary>Validates a registration (Consul's texts), throwing every problem at once.</summary>
    public static void Validate(CatalogRegisterRequestDto request, IReadOnlySet<string> servicesOnNode)
    {
        var checks = ChecksOf(request);
        List<ValidationProblem> problems = [];
        var inputs = new List<CheckInput>();
        for (var i = 0; i < checks.Length; i++)
        {
            var c = checks[i];
            var ttl = TtlOf(c, $"Checks[{i}]", problems);
            inputs.Add(new CheckInput(c.Node, IdOf(c), c.Status, c.ServiceID, TypeOf(c), ttl));
        }
        var s = request.Service;
        var service = s is null ? null : new ServiceInput(s.ID, s.Service, s.Address, s.Port, s.Kind,
            s.Proxy?.DestinationServiceName, s.Connect?.Native ?? false, s.SocketPath);
        problems.InsertRange(0, CatalogValidation.Register(new RegistrationInput(request.Node, request.Address,
            request.SkipNodeUpdate, service, inputs, servicesOnNode)));
        if (s is not null && !string.IsNullOrEmpty(s.Service)
            && Meridian.Core.Identity.ServiceName.Check("Service.Service", s.Service) is { } name)
            problems.Add(name);
        if (ValidationText.Check("Node", request.Node) is { } node) problems.Add(node);
        // A sidecar's upstreams, with Consul's texts (agent/structs Upstream.Validate and the duplicate checks of
        // ConnectProxyConfig); nothing is written when one is wrong.
        if (s is { Kind: ServiceKinds.ConnectProxy, Proxy.Upstreams: { IsDefaultOrEmpty: false } upstreams })
            problems.AddRange(UpstreamRules.Validate([.. upstreams.Select(u => u.ToCore())], "Service.Proxy.Upstreams"));
        DomainValidationException.ThrowIfAny(problems);
    }

    /// <summary>A check's type: as sent, or <c>ttl</c> when it has a TTL and no type.</summary>
    public static string TypeOf(HealthCheckDto check) =>
        string.IsNullOrEmpty(check.Type) && !string.IsNullOrEmpty(check.Definition?.TTL) ? TtlRule.TtlType : check.Type;

    /// <summary>The check as an answer shows it at <paramref name="now"/>: an expired TTL reads critical, "TTL expired".</summary>
    public static HealthCheckDto AsOf(StoredCheckDto stored, DateTimeOffset now)
    {
        if (!TtlRule.IsExpired(stored.Ttl, stored.Refreshed, now)
            || stored.Check.Status == HealthStatuses.Text(HealthStatus.Critical) && stored.Check.Output == TtlRule.ExpiredOutput)
            return stored.Check;
        return stored.Check with { Status = HealthStatuses.Text(HealthStatus.Critical), Output = TtlRule.ExpiredOutput };
    }

    /// <summary>The status of a check's text (stored texts are always valid).</summary>
    public static HealthStatus StatusOf(HealthCheckDto check) => HealthStatuses.Parse(check.Status);

    /// <summary>The earliest TTL deadline among <paramref name="checks"/> still ahead of <paramref name="now"/>, or null.</summary>
    public static DateTimeOffset? NextDeadline(IEnumerable<StoredCheckDto> checks, DateTimeOffset now) =>
        checks.Select(c => TtlRule.Deadline(c.Ttl, c.Refreshed)).Where(d => d > now).Min();
}
