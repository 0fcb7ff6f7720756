using System.Collections.Immutable;
using Meridian.Client;
using Meridian.Grains;
using Microsoft.AspNetCore.Routing;

namespace Meridian.HttpApi;

/// <summary>
/// Catalog and health: register, deregister, services, service, nodes, node; health of a service, its checks, checks
/// by state. https://developer.hashicorp.com/consul/api-docs/catalog and https://developer.hashicorp.com/consul/api-docs/health
/// <c>?dc=</c> is answered by that datacenter (the SDK forwards).
/// </summary>
internal static class CatalogEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ConsulApi api)
    {
        api.Route(routes, "/v1/catalog/register", ("PUT", RegisterAsync));
        api.Route(routes, "/v1/catalog/deregister", ("PUT", DeregisterAsync));
        api.Route(routes, "/v1/catalog/services", ("GET", async r =>
        {
            var services = await r.Client.GetCatalogServicesAsync(r.Datacenter, r.Aborted);
            await r.JsonAsync(services.Services.ToDictionary(s => s.Key, s => s.Value.IsDefault ? [] : s.Value), services.Index, services.FilteredByAcls);
        }));
        api.Route(routes, "/v1/catalog/nodes", ("GET", async r =>
        {
            var nodes = await r.Client.GetCatalogNodesAsync(r.Datacenter, r.Aborted);
            await r.JsonAsync(nodes.Nodes, nodes.Index, nodes.FilteredByAcls);
        }));
        api.Route(routes, "/v1/catalog/service/{service}", ("GET", CatalogServiceAsync));
        api.Route(routes, "/v1/catalog/node/{node}", ("GET", CatalogNodeAsync));
        api.Route(routes, "/v1/health/service/{service}", ("GET", HealthServiceAsync));
        api.Route(routes, "/v1/health/checks/{service}", ("GET", async r =>
        {
            var health = await ServiceHealthAsync(r, AgentEndpoints.Route(r, "service"), false);
            var checks = health.Instances.SelectMany(i => i.Checks.IsDefault ? [] : i.Checks).Where(c => c.ServiceID.Length > 0 && c.ServiceName == health.Service);
            await r.JsonAsync(checks.Select(Check), health.Index, health.FilteredByAcls);
        }));
        api.Route(routes, "/v1/health/state/{state}", ("GET", HealthStateAsync));
    }

    private static async Task RegisterAsync(ConsulRequest r)
    {
        // The body's Datacenter decides where it is written; ?dc= is not read here (Consul's rule).
        var request = await r.BodyAsync<CatalogRegisterRequestDto>() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        request = request with
        {
            TaggedAddresses = request.TaggedAddresses ?? ImmutableDictionary<string, string>.Empty,
            NodeMeta = request.NodeMeta ?? ImmutableDictionary<string, string>.Empty,
            Checks = request.Checks.IsDefault ? [] : request.Checks,
            Service = request.Service is { } s ? s with
            {
                Tags = s.Tags.IsDefault ? [] : s.Tags,
                Meta = s.Meta ?? ImmutableDictionary<string, string>.Empty,
                TaggedAddresses = s.TaggedAddresses ?? ImmutableDictionary<string, ServiceAddressDto>.Empty,
            } : null,
        };
        await r.Client.RegisterCatalogAsync(request, r.Aborted);
        await r.JsonAsync(true);
    }

    private static async Task DeregisterAsync(ConsulRequest r)
    {
        var request = await r.BodyAsync<CatalogDeregisterRequestDto>() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        await r.Client.DeregisterCatalogAsync(request, r.Aborted);
        await r.JsonAsync(true);
    }

    private static Task<ServiceHealthDto> ServiceHealthAsync(ConsulRequest r, string service, bool passing)
    {
        var client = r.Client;
        var dc = r.Datacenter;
        return r.BlockAsync(ct => client.GetServiceHealthAsync(service, passing, dc, ct), h => h.Index,
            (index, wait, ct) => client.WatchServiceHealthAsync(service, index, wait, passing, dc, ct));
    }

    // ?tag= is repeatable: an instance must carry every one.
    private static IEnumerable<CheckServiceNodeDto> Tagged(ConsulRequest r, IEnumerable<CheckServiceNodeDto> instances)
    {
        var tags = r.Queries("tag");
        return tags.Count == 0 ? instances : instances.Where(i => tags.All(t => !i.Service.Tags.IsDefault && i.Service.Tags.Contains(t)));
    }

    private static async Task CatalogServiceAsync(ConsulRequest r)
    {
        var name = AgentEndpoints.Route(r, "service");
        if (name.Length == 0) throw new ConsulHttpException(400, "Missing service name");
        var health = await ServiceHealthAsync(r, name, false);
        await r.JsonAsync(Tagged(r, health.Instances).Select(ServiceNode.From), health.Index, health.FilteredByAcls);
    }

    private static async Task HealthServiceAsync(ConsulRequest r)
    {
        var name = AgentEndpoints.Route(r, "service");
        if (name.Length == 0) throw new ConsulHttpException(400, "Missing service name");
        var passing = r.Flag("passing", "Invalid value for ?passing");
        var health = await ServiceHealthAsync(r, name, passing);
        await r.JsonAsync(Tagged(r, health.Instances).Select(i => new
        {
            i.Node,
            Service = i.Service with { Tags = i.Service.Tags.IsDefault ? [] : i.Service.Tags },
            Checks = (i.Checks.IsDefault ? [] : i.Checks).Select(Check),
        }), health.Index, health.FilteredByAcls);
    }

    /// <summary>Consul's HealthCheck JSON (<c>ServiceTags</c> <c>[]</c>, never null).</summary>
    private static object Check(HealthCheckDto c) => c with { ServiceTags = c.ServiceTags.IsDefault ? [] : c.ServiceTags };

    private static async Task CatalogNodeAsync(ConsulRequest r)
    {
        var name = AgentEndpoints.Route(r, "node");
        var client = r.Client;
        var nodes = await client.GetCatalogNodesAsync(r.Datacenter, r.Aborted);
        var node = nodes.Nodes.FirstOrDefault(n => n.Node == name);
        if (node is null)
        {
            // Consul answers null for an unknown node.
            await r.JsonAsync(null, nodes.Index);
            return;
        }
        var services = await client.GetCatalogServicesAsync(r.Datacenter, r.Aborted);
        var onNode = new Dictionary<string, NodeServiceDto>();
        foreach (var service in services.Services.Keys)
        {
            var health = await client.GetServiceHealthAsync(service, false, r.Datacenter, r.Aborted);
            foreach (var i in health.Instances.Where(i => i.Node.Node == name)) onNode[i.Service.ID] = i.Service;
        }
        await r.JsonAsync(new { Node = node, Services = onNode }, nodes.Index);
    }

    private static async Task HealthStateAsync(ConsulRequest r)
    {
        var state = AgentEndpoints.Route(r, "state");
        if (state is not ("any" or "passing" or "warning" or "critical")) throw new ConsulHttpException(400, $"Invalid check state \"{state}\"");
        var client = r.Client;
        var services = await client.GetCatalogServicesAsync(r.Datacenter, r.Aborted);
        var checks = new Dictionary<(string Node, string Check), HealthCheckDto>();
        var index = services.Index;
        foreach (var service in services.Services.Keys)
        {
            var health = await client.GetServiceHealthAsync(service, false, r.Datacenter, r.Aborted);
            index = Math.Max(index, health.Index);
            foreach (var c in health.Instances.SelectMany(i => i.Checks.IsDefault ? [] : i.Checks))
                if (state == "any" || c.Status == state) checks[(c.Node, c.CheckID)] = c;
        }
        await r.JsonAsync(checks.Values.Select(Check), index);
    }
}
