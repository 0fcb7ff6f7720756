using System.Collections.Immutable;
using Meridian.Grains;
using Microsoft.AspNetCore.Routing;

namespace Meridian.HttpApi;

/// <summary>Prepared queries: create, list, get, update, delete, execute, explain. https://developer.hashicorp.com/consul/api-docs/query</summary>
internal static class QueryEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ConsulApi api)
    {
        api.Route(routes, "/v1/query", ("GET", ListAsync), ("POST", CreateAsync));
        api.Route(routes, "/v1/query/{id}", ("GET", GetAsync), ("PUT", UpdateAsync), ("DELETE", DeleteAsync));
        api.Route(routes, "/v1/query/{id}/execute", ("GET", ExecuteAsync));
        api.Route(routes, "/v1/query/{id}/explain", ("GET", async r =>
        {
            await r.RequireLocalDatacenterAsync();
            var query = await NotFound(() => r.Client.ExplainPreparedQueryAsync(AgentEndpoints.Route(r, "id"), r.Aborted));
            await r.JsonAsync(new { Query = query });
        }));
    }

    private static async Task<T> NotFound<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (MeridianNotFoundException)
        {
            throw new ConsulHttpException(404, "Query not found");
        }
    }

    private static PreparedQueryDto Normalize(PreparedQueryDto q) => q with
    {
        ID = q.ID ?? "",
        Name = q.Name ?? "",
        Session = q.Session ?? "",
        Token = q.Token ?? "",
        DNS = q.DNS ?? new(),
        Template = q.Template ?? new(),
        Service = (q.Service ?? new()) with
        {
            Service = q.Service?.Service ?? "",
            Near = q.Service?.Near ?? "",
            Tags = q.Service is { Tags.IsDefault: false } s ? s.Tags : [],
            NodeMeta = q.Service?.NodeMeta ?? ImmutableDictionary<string, string>.Empty,
            ServiceMeta = q.Service?.ServiceMeta ?? ImmutableDictionary<string, string>.Empty,
            IgnoreCheckIDs = q.Service is { IgnoreCheckIDs.IsDefault: false } i ? i.IgnoreCheckIDs : [],
            Failover = (q.Service?.Failover ?? new()) with
            {
                Datacenters = q.Service?.Failover is { Datacenters.IsDefault: false } f ? f.Datacenters : [],
                Targets = q.Service?.Failover is { Targets.IsDefault: false } t ? t.Targets : [],
            },
        },
    };

    private static async Task CreateAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        var query = Normalize(await r.BodyAsync<PreparedQueryDto>() ?? new PreparedQueryDto());
        var id = await r.Client.CreatePreparedQueryAsync(query, r.Aborted);
        await r.JsonAsync(new { ID = id });
    }

    private static async Task ListAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        var list = await r.Client.ListPreparedQueriesAsync(r.Aborted);
        await r.JsonAsync(list.Queries, list.Index, list.FilteredByAcls);
    }

    private static async Task GetAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        var query = await NotFound(() => r.Client.GetPreparedQueryAsync(AgentEndpoints.Route(r, "id"), r.Aborted));
        // An array of one, as Consul answers.
        await r.JsonAsync(new[] { query }, query.ModifyIndex);
    }

    private static async Task UpdateAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        var id = AgentEndpoints.Route(r, "id");
        var query = Normalize(await r.BodyAsync<PreparedQueryDto>() ?? new PreparedQueryDto());
        await r.Client.UpdatePreparedQueryAsync(id, query with { ID = id }, r.Aborted);
        await r.EmptyAsync();
    }

    private static async Task DeleteAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        await r.Client.DeletePreparedQueryAsync(AgentEndpoints.Route(r, "id"), r.Aborted);
        await r.EmptyAsync();
    }

    private static async Task ExecuteAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        var limit = 0;
        if (r.Query("limit") is { Length: > 0 } l && !int.TryParse(l, out limit)) throw new ConsulHttpException(500, $"Bad limit: strconv.Atoi: parsing \"{l}\": invalid syntax");
        var connect = false;
        if (r.Query("connect") is { } c) connect = c.Length == 0 || (ConsulRequest.ParseBool(c) ?? throw new ConsulHttpException(500, $"Error parsing 'connect' value: strconv.ParseBool: parsing \"{c}\": invalid syntax"));
        var options = new QueryExecuteOptionsDto { Limit = limit, Connect = connect, Near = r.Query("near") ?? "" };
        var result = await NotFound(() => r.Client.ExecutePreparedQueryAsync(AgentEndpoints.Route(r, "id"), options, r.Aborted));
        await r.JsonAsync(new
        {
            result.Service,
            Nodes = result.Nodes.Select(n => new { n.Node, n.Service, Checks = n.Checks.IsDefault ? [] : n.Checks }),
            result.DNS,
            result.Datacenter,
            PeerName = "",
            result.Failovers,
        }, 1);
    }
}
