using System.Collections.Immutable;
using Meridian.Core.Acl;
using Meridian.Core.Discovery;
using Meridian.Core.Validation;
using Meridian.Grains.Acl;
using Meridian.Grains.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Meridian.Grains.Catalog;

/// <summary>
/// The catalog's entry point (see <see cref="ICatalogGrain"/>): a stateless worker, so every silo answers its own
/// callers. Forwards another datacenter's requests over <see cref="IDatacenterLinks"/> (the caller's token rides along
/// in the RequestContext and is checked there), checks the <c>service:write</c> a registration needs beyond the
/// declared <c>node:write</c>, and filters read answers per entry by the caller's <c>node:read</c> and
/// <c>service:read</c> (Consul's agent/consul/acl.go <c>filterCheckServiceNodes</c>, <c>filterNodes</c>, <c>filterServices</c>).
/// </summary>
[StatelessWorker]
public sealed partial class CatalogGrain(DatacenterContext local, IDatacenterLinks links, Discovery.DiscoverySettings discovery, ILogger<CatalogGrain> logger)
    : Grain, ICatalogGrain
{
    /// <summary>How long a request waits for a link to another datacenter before answering that it is unreachable.</summary>
    public static readonly TimeSpan LinkWait = TimeSpan.FromSeconds(5);

    /// <summary>Consul's answer when a known datacenter has no reachable server.</summary>
    public const string UnreachableMessage = "Remote DC has no server currently reachable";

    /// <inheritdoc />
    public async Task<ulong> RegisterAsync(CatalogRegisterRequestDto request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await RemoteAsync(request.Datacenter, cancellationToken) is { } remote)
            return await ForwardAsync(request.Datacenter, () => remote.RegisterAsync(request, cancellationToken));
        if (string.IsNullOrEmpty(request.Node)) CatalogMapping.Validate(request, new HashSet<string>());
        var node = Node(request.Node);
        if (AclCallContext.Current is { } caller)
        {
            var existing = await node.GetState();
            var names = new List<string>();
            if (request.Service is { } service)
            {
                names.Add(service.Service);
                if (Owner(existing, CatalogMapping.IdOf(service)) is { } old) names.Add(old);
            }
            foreach (var check in CatalogMapping.ChecksOf(request).Where(c => !string.IsNullOrEmpty(c.ServiceID)))
            {
                if (request.Service is { } s && CatalogMapping.IdOf(s) == check.ServiceID) continue;
                if (Owner(existing, check.ServiceID) is { } owner) names.Add(owner);
            }
            foreach (var name in names.Distinct()) Demand(caller, caller.Authorizer.ServiceWrite(name));
        }
        return await node.RegisterAsync(request);
    }

    /// <inheritdoc />
    public async Task<ulong> DeregisterAsync(CatalogDeregisterRequestDto request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await RemoteAsync(request.Datacenter, cancellationToken) is { } remote)
            return await ForwardAsync(request.Datacenter, () => remote.DeregisterAsync(request, cancellationToken));
        RequireNode(request.Node);
        var node = Node(request.Node);
        if (AclCallContext.Current is { } caller && !string.IsNullOrEmpty(request.ServiceID)
            && Owner(await node.GetState(), request.ServiceID) is { } name)
            Demand(caller, caller.Authorizer.ServiceWrite(name));
        return await node.DeregisterAsync(request);
    }

    /// <inheritdoc />
    public async Task<HealthCheckDto> UpdateCheckAsync(CheckUpdateDto update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (await RemoteAsync(update.Datacenter, cancellationToken) is { } remote)
            return await ForwardAsync(update.Datacenter, () => remote.UpdateCheckAsync(update, cancellationToken));
        RequireNode(update.Node);
        return await Node(update.Node).UpdateCheckAsync(update);
    }

    /// <inheritdoc />
    public async Task<ImmutableArray<HealthCheckDto>> FindChecksAsync(string checkId, string datacenter = "", CancellationToken cancellationToken = default)
    {
        if (await RemoteAsync(datacenter, cancellationToken) is { } remote)
            return await ForwardAsync(datacenter, () => remote.FindChecksAsync(checkId, datacenter, cancellationToken));
        var checks = await Directory.FindChecksAsync(checkId ?? "");
        return AclCallContext.Current is { } caller ? [.. checks.Where(c => caller.Authorizer.NodeRead(c.Node).Allowed)] : checks;
    }

    /// <inheritdoc />
    public async Task<CatalogServicesDto> GetServicesAsync(string datacenter = "", CancellationToken cancellationToken = default)
    {
        if (await RemoteAsync(datacenter, cancellationToken) is { } remote)
            return await ForwardAsync(datacenter, () => remote.GetServicesAsync(datacenter, cancellationToken));
        var all = await Directory.GetServicesAsync();
        if (AclCallContext.Current is not { } caller) return all;
        var visible = all.Services.Where(s => caller.Authorizer.ServiceRead(s.Key).Allowed).ToImmutableSortedDictionary(StringComparer.Ordinal);
        return all with { Services = visible, FilteredByAcls = Filtered(caller, visible.Count, all.Services.Count) };
    }

    /// <inheritdoc />
    public async Task<CatalogNodesDto> GetNodesAsync(string datacenter = "", CancellationToken cancellationToken = default)
    {
        if (await RemoteAsync(datacenter, cancellationToken) is { } remote)
            return (await ForwardAsync(datacenter, () => remote.GetNodesAsync(datacenter, cancellationToken))).TranslatedFor(discovery, local.Datacenter);
        var all = await Directory.GetNodesAsync();
        if (AclCallContext.Current is not { } caller) return all;
        var visible = all.Nodes.Where(n => caller.Authorizer.NodeRead(n.Node).Allowed).ToImmutableArray();
        return all with { Nodes = visible, FilteredByAcls = Filtered(caller, visible.Length, all.Nodes.Length) };
    }

    /// <inheritdoc />
    public async Task<ServiceHealthDto> GetServiceHealthAsync(string service, bool passingOnly = false, string datacenter = "", CancellationToken cancellationToken = default)
    {
        if (await RemoteAsync(datacenter, cancellationToken) is { } remote)
            return (await ForwardAsync(datacenter, () => remote.GetServiceHealthAsync(service, passingOnly, datacenter, cancellationToken))).TranslatedFor(discovery, local.Datacenter);
        if (string.IsNullOrEmpty(service))
            throw new DomainValidationException("service", ValidationCodes.Required, "Missing service name");
        if (Meridian.Core.Identity.ServiceName.Check("service", service) is not null)
            return new ServiceHealthDto { Datacenter = local.Datacenter, Service = service }; // Consul: [] for an unknown service
        var all = await GrainFactory.GetGrain<ICatalogServiceGrain>(CatalogKeys.Service(local.Datacenter, service))
            .GetHealthAsync(passingOnly);
        return AclCallContext.Current is { } caller ? CatalogViews.Filter(all, caller) : all;
    }

    /// <inheritdoc />
    public async Task<ServiceHealthDto> WaitForServiceHealthAsync(string service, bool passingOnly, ulong afterIndex, TimeSpan maxWait, string datacenter = "", CancellationToken cancellationToken = default)
    {
        if (await RemoteAsync(datacenter, cancellationToken) is { } remote)
            return (await ForwardAsync(datacenter, () => remote.WaitForServiceHealthAsync(service, passingOnly, afterIndex, maxWait, datacenter, cancellationToken))).TranslatedFor(discovery, local.Datacenter);
        if (string.IsNullOrEmpty(service))
            throw new DomainValidationException("service", ValidationCodes.Required, "Missing service name");
        if (Meridian.Core.Identity.ServiceName.Check("service", service) is not null)
            return new ServiceHealthDto { Datacenter = local.Datacenter, Service = service };
        var all = await GrainFactory.GetGrain<ICatalogServiceGrain>(CatalogKeys.Service(local.Datacenter, service))
            .WaitForChangeAsync(afterIndex, passingOnly, maxWait);
        return AclCallContext.Current is { } caller ? CatalogViews.Filter(all, caller) : all;
    }

    // Consul's X-Consul-Results-Filtered-By-ACLs: never for the anonymous token.
    private static bool Filtered(AclCaller caller, int kept, int total) =>
        kept < total && caller.AccessorId != AclBuiltins.AnonymousTokenAccessorId;

    private static void Demand(AclCaller caller, AclDecision decision)
    {
        if (!decision.Allowed) throw new MeridianPermissionDeniedException(decision.DeniedMessage(caller.AccessorId));
    }

    private static string? Owner(CatalogInstanceDto? node, string serviceId) =>
        node?.ServiceNames.GetValueOrDefault(serviceId) is { Length: > 0 } name ? name : null;

    private static void RequireNode(string node)
    {
        if (string.IsNullOrEmpty(node)) throw new DomainValidationException("Node", ValidationCodes.Required, "Must provide node");
    }

    private ICatalogNodeGrain Node(string node) => GrainFactory.GetGrain<ICatalogNodeGrain>(CatalogKeys.Node(local.Datacenter, node));

    private ICatalogDirectoryGrain Directory => GrainFactory.GetGrain<ICatalogDirectoryGrain>(local.Datacenter);

    // Another datacenter's catalog grain, or null for this one (empty names this one, as Consul's default).
    private async Task<ICatalogGrain?> RemoteAsync(string? name, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(name) || name == local.Datacenter) return null;
        try
        {
            var factory = await links.GetAsync(name, LinkWait, cancellationToken);
            LogForwarded(logger, name);
            return factory.GetGrain<ICatalogGrain>(name);
        }
        catch (DatacenterUnreachableException e) when (!e.Message.StartsWith(UnreachableMessage, StringComparison.Ordinal))
        {
            throw new DatacenterUnreachableException(name, $"{UnreachableMessage}: {e.Message}");
        }
    }

    // A link that breaks during the call is the same answer as one that never connected.
    private static async Task<T> ForwardAsync<T>(string name, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException
            or Orleans.Runtime.Messaging.ConnectionFailedException)
        {
            throw new DatacenterUnreachableException(name, $"{UnreachableMessage}: {name} ({e.GetType().Name})");
        }
    }

    [LoggerMessage(EventId = MeridianEventIds.CatalogForwarded, Level = LogLevel.Debug,
        Message = "Catalog: forwarding a request to datacenter {Datacenter}")]
    private static partial void LogForwarded(ILogger logger, string datacenter);
}
