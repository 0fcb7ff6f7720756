using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Meridian.Grains;
using Microsoft.AspNetCore.Routing;

namespace Meridian.HttpApi;

/// <summary>
/// <c>/v1/agent/self</c>, <c>/v1/agent/members</c>, agent services and checks, <c>/v1/status/*</c>,
/// <c>/v1/catalog/datacenters</c>, <c>/v1/coordinate/datacenters</c> and our own <c>/v1/meridian/status</c>.
/// https://developer.hashicorp.com/consul/api-docs/agent
/// </summary>
internal static class AgentEndpoints
{
    /// <summary>The Consul API version whose shapes these endpoints follow (<c>Config.Version</c>; tools parse it as semver).</summary>
    public const string ConsulVersion = "1.18.0";

    public static void Map(IEndpointRouteBuilder routes, ConsulApi api)
    {
        api.Route(routes, "/v1/agent/self", ("GET", SelfAsync));
        api.Route(routes, "/v1/agent/members", ("GET", MembersAsync));
        api.Route(routes, "/v1/status/leader", ("GET", async r =>
        {
            await StatusDatacenterAsync(r);
            await r.JsonAsync(r.Api.Options.LeaderAddress);
        }));
        api.Route(routes, "/v1/status/peers", ("GET", async r =>
        {
            await StatusDatacenterAsync(r);
            await r.JsonAsync(new[] { r.Api.Options.LeaderAddress });
        }));
        api.Route(routes, "/v1/catalog/datacenters", ("GET", async r =>
        {
            var list = await r.Api.Client.GetDatacentersAsync(r.Aborted);
            await r.JsonAsync(list.Datacenters.Select(d => d.Name));
        }));
        api.Route(routes, "/v1/coordinate/datacenters", ("GET", async r =>
        {
            // Meridian measures RTT between datacenters directly; Consul's own test helper publishes such a
            // measurement as Vec[0] with Height 0, which keeps the ranking rule (median distance) intact.
            var list = await r.Api.Client.GetDatacentersAsync(r.Aborted);
            await r.JsonAsync(list.Datacenters.Select(d => new
            {
                Datacenter = d.Name,
                AreaID = "WAN",
                Coordinates = d.Rtt is { } rtt
                    ? new object[] { new { Node = $"{d.Name}.{d.Name}", Segment = "", Coord = new { Vec = new[] { rtt.TotalSeconds, 0, 0, 0, 0, 0, 0, 0 }, Error = 1.5, Adjustment = 0.0, Height = 0.0 } } }
                    : [],
            }));
        }));
        api.Route(routes, "/v1/meridian/status", ("GET", async r => await r.JsonAsync(await r.Client.GetStatusAsync(r.Aborted))));

        api.Route(routes, "/v1/agent/services", ("GET", async r =>
        {
            var services = await NodeServicesAsync(r);
            await r.JsonAsync(services.ToDictionary(i => i.Service.ID, i => AgentService(i.Service, r.Api.Client.Datacenter)));
        }));
        api.Route(routes, "/v1/agent/service/{id}", ("GET", async r =>
        {
            var id = Route(r, "id");
            var found = (await NodeServicesAsync(r)).FirstOrDefault(i => i.Service.ID == id)
                ?? throw new ConsulHttpException(404, $"unknown service ID: {id}");
            await r.JsonAsync(AgentService(found.Service, r.Api.Client.Datacenter));
        }));
        api.Route(routes, "/v1/agent/checks", ("GET", async r =>
        {
            var checks = (await NodeServicesAsync(r)).SelectMany(i => i.Checks.IsDefault ? [] : i.Checks).Where(c => c.Node == r.Api.Options.NodeName);
            var map = new Dictionary<string, HealthCheckDto>();
            foreach (var c in checks) map[c.CheckID] = c with { ServiceTags = c.ServiceTags.IsDefault ? [] : c.ServiceTags };
            await r.JsonAsync(map);
        }));
        api.Route(routes, "/v1/agent/service/register", ("PUT", RegisterServiceAsync));
        // GET as well (see check pass below): python-consul 0.7.1 deregisters with GET.
        api.Route(routes, "/v1/agent/service/deregister/{id}", ("PUT", DeregisterServiceAsync), ("GET", DeregisterServiceAsync));
        api.Route(routes, "/v1/agent/check/register", ("PUT", RegisterCheckAsync));
        api.Route(routes, "/v1/agent/check/deregister/{id}", ("PUT", DeregisterCheckAsync), ("GET", DeregisterCheckAsync));
        // GET as well as PUT: Consul before 1.0 took GET here, and python-consul 0.7.1 (Debian's python3-consul) still
        // sends it; current Consul answers it 405, which that client reads as a failed update.
        foreach (var (verb, status) in new[] { ("pass", "passing"), ("warn", "warning"), ("fail", "critical") })
        {
            Task Update(ConsulRequest r) => UpdateCheckAsync(r, Route(r, "id"), status, r.Query("note"));
            api.Route(routes, $"/v1/agent/check/{verb}/{{id}}", ("PUT", Update), ("GET", Update));
        }
        api.Route(routes, "/v1/agent/check/update/{id}", ("PUT", async r =>
        {
            var body = await r.BodyAsync() ?? [];
            var status = body.Get("Status")?.GetValue<string>() ?? "";
            if (status is not ("passing" or "warning" or "critical")) throw new ConsulHttpException(400, $"Invalid check status: \"{status}\"");
            await UpdateCheckAsync(r, Route(r, "id"), status, body.Get("Output")?.GetValue<string>());
        }));
    }

    internal static string Route(ConsulRequest r, string name) => Uri.UnescapeDataString(r.Http.Request.RouteValues[name]?.ToString() ?? "");

    private static async Task StatusDatacenterAsync(ConsulRequest r)
    {
        if (r.Datacenter is not { } dc) return;
        var known = await r.Api.Client.GetDatacentersAsync(r.Aborted);
        if (!known.Datacenters.Any(d => d.Name == dc)) throw new ConsulHttpException(500, "No path to datacenter");
    }

    private static async Task SelfAsync(ConsulRequest r)
    {
        var status = await r.Api.Client.GetStatusAsync(r.Aborted);
        var o = r.Api.Options;
        var tags = new Dictionary<string, string> { ["dc"] = status.Datacenter, ["role"] = o.Server ? "consul" : "node", ["segment"] = "", ["build"] = ConsulVersion };
        await r.JsonAsync(new
        {
            Config = new
            {
                Datacenter = status.Datacenter,
                PrimaryDatacenter = status.PrimaryDatacenter,
                NodeName = o.NodeName,
                NodeID = "",
                Revision = "meridian",
                Server = o.Server,
                Version = ConsulVersion,
                BuildDate = "",
            },
            DebugConfig = new { ConnectEnabled = true, GRPCPort = -1, Datacenter = status.Datacenter, PrimaryDatacenter = status.PrimaryDatacenter },
            Coord = new { Vec = new double[8], Error = 1.5, Adjustment = 0.0, Height = 1e-5 },
            Member = Member(o, tags),
            Stats = new Dictionary<string, object>(),
            Meta = new Dictionary<string, string> { ["meridian-trust-domain"] = status.TrustDomain },
        });
    }

    private static object Member(ConsulHttpApiOptions o, Dictionary<string, string> tags) => new
    {
        Name = o.NodeName,
        Addr = o.NodeAddress,
        Port = 8301,
        Tags = tags,
        Status = 1,
        ProtocolMin = 1,
        ProtocolMax = 5,
        ProtocolCur = 2,
        DelegateMin = 2,
        DelegateMax = 5,
        DelegateCur = 4,
    };

    private static async Task MembersAsync(ConsulRequest r)
    {
        var dc = r.Api.Client.Datacenter;
        await r.JsonAsync(new[] { Member(r.Api.Options, new() { ["dc"] = dc, ["role"] = r.Api.Options.Server ? "consul" : "node", ["segment"] = "" }) });
    }

    // The agent's services live in the catalog on the agent's node (Meridian keeps no agent-local state): Consul's
    // anti-entropy end state, reached at once.
    private static async Task RegisterServiceAsync(ConsulRequest r)
    {
        var body = await r.BodyAsync() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        var name = Str(body, "Name");
        if (name.Length == 0) throw new ConsulHttpException(400, "Missing service name");
        var id = Str(body, "ID") is { Length: > 0 } given ? given : name;
        var address = Str(body, "Address");
        if (address is "0.0.0.0" or "::" or "[::]") throw new ConsulHttpException(400, "Invalid service address");
        var service = new NodeServiceDto
        {
            ID = id,
            Service = name,
            Kind = Str(body, "Kind"),
            Tags = Strings(body.Get("Tags")),
            Address = address,
            Port = Int(body, "Port"),
            Meta = Map(body.Get("Meta")),
            TaggedAddresses = ServiceAddresses(body.Get("TaggedAddresses")),
            Proxy = body.Get("Proxy") is JsonObject proxy ? proxy.Deserialize<ProxyDto>() : null,
            Connect = body.Get("Connect") is JsonObject connect ? new ConnectDto { Native = connect.Get("Native")?.GetValue<bool>() ?? false } : null,
        };
        var checks = new List<HealthCheckDto>();
        if (body.Get("Check") is JsonObject one) checks.Add(Check(r, one, id, name, 0));
        if (body.Get("Checks") is JsonArray many)
            checks.AddRange(many.OfType<JsonObject>().Select((c, i) => Check(r, c, id, name, i + 1)));
        if (checks.Count == 1 && body.Get("Check") is null && checks[0].CheckID == $"service:{id}:1") checks[0] = checks[0] with { CheckID = $"service:{id}" };
        await r.Client.RegisterCatalogAsync(new CatalogRegisterRequestDto
        {
            Node = r.Api.Options.NodeName,
            Address = r.Api.Options.NodeAddress,
            Service = service,
            Checks = [.. checks],
        }, r.Aborted);
        await r.EmptyAsync();
    }

    // The services of this agent's node: read through the catalog (one health read per service name).
    private static async Task<List<CheckServiceNodeDto>> NodeServicesAsync(ConsulRequest r)
    {
        var client = r.Client;
        var node = r.Api.Options.NodeName;
        var names = await client.GetCatalogServicesAsync(null, r.Aborted);
        var found = new List<CheckServiceNodeDto>();
        foreach (var name in names.Services.Keys)
            found.AddRange((await client.GetServiceHealthAsync(name, false, null, r.Aborted)).Instances.Where(i => i.Node.Node == node));
        return found;
    }

    private static object AgentService(NodeServiceDto s, string datacenter) => new
    {
        s.Kind,
        s.ID,
        s.Service,
        Tags = s.Tags.IsDefault ? [] : s.Tags,
        s.Meta,
        s.Port,
        s.Address,
        s.TaggedAddresses,
        Weights = new { Passing = 1, Warning = 1 },
        EnableTagOverride = false,
        Datacenter = datacenter,
        s.Proxy,
        s.Connect,
        ContentHash = "",
    };

    private static async Task DeregisterServiceAsync(ConsulRequest r)
    {
        var id = Route(r, "id");
        try
        {
            await r.Client.DeregisterCatalogAsync(new CatalogDeregisterRequestDto { Node = r.Api.Options.NodeName, ServiceID = id }, r.Aborted);
        }
        catch (MeridianException e) when (e.Kind is MeridianErrorKind.NotFound or MeridianErrorKind.Validation && e.Message.Contains("Unknown service", StringComparison.Ordinal))
        {
            throw new ConsulHttpException(404, $"Unknown service ID \"{id}\". Ensure that the service ID is passed, not the service name.");
        }
        await r.EmptyAsync();
    }

    private static async Task DeregisterCheckAsync(ConsulRequest r)
    {
        var id = Route(r, "id");
        await r.Client.DeregisterCatalogAsync(new CatalogDeregisterRequestDto { Node = r.Api.Options.NodeName, CheckID = id }, r.Aborted);
        await r.EmptyAsync();
    }

    private static async Task RegisterCheckAsync(ConsulRequest r)
    {
        var body = await r.BodyAsync() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        var serviceId = Str(body, "ServiceID");
        var check = Check(r, body, serviceId, "", 0);
        if (check.Name.Length == 0) throw new ConsulHttpException(400, "Missing check name");
        await r.Client.RegisterCatalogAsync(new CatalogRegisterRequestDto
        {
            Node = r.Api.Options.NodeName,
            Address = r.Api.Options.NodeAddress,
            Check = check,
        }, r.Aborted);
        await r.EmptyAsync();
    }

    private static async Task UpdateCheckAsync(ConsulRequest r, string id, string status, string? output)
    {
        try
        {
            await r.Client.UpdateCheckAsync(id, status, r.Api.Options.NodeName, output ?? "", null, r.Aborted);
        }
        catch (MeridianNotFoundException)
        {
            throw new ConsulHttpException(404, $"Unknown check ID \"{id}\". Ensure that the check ID is passed, not the check name.");
        }
        await r.EmptyAsync();
    }

    // Meridian stores checks and their status; it runs none itself (no HTTP, TCP, gRPC or script probes): a TTL check
    // is kept alive with /v1/agent/check/pass|warn|fail, and a probe definition is refused rather than left critical.
    private static HealthCheckDto Check(ConsulRequest r, JsonObject c, string serviceId, string serviceName, int ordinal)
    {
        foreach (var probe in new[] { "HTTP", "TCP", "GRPC", "Args", "ScriptArgs", "DockerContainerID", "H2PING", "UDP", "OSService" })
        {
            if (c.Get(probe) is { } value && value.ToString().Length > 0)
                throw new ConsulHttpException(400, $"Invalid check: Meridian runs no {probe} checks; use a TTL check (\"TTL\": \"30s\") and update it with /v1/agent/check/pass|warn|fail");
        }
        var status = Str(c, "Status");
        if (status.Length > 0 && status is not ("passing" or "warning" or "critical"))
            throw new ConsulHttpException(400, "Status for checks must 'passing', 'warning', 'critical'");
        var id = Str(c, "CheckID") is { Length: > 0 } cid ? cid : Str(c, "ID") is { Length: > 0 } i ? i
            : serviceId.Length > 0 ? (ordinal <= 0 ? $"service:{serviceId}" : $"service:{serviceId}:{ordinal}") : Str(c, "Name");
        var name = Str(c, "Name") is { Length: > 0 } n ? n : serviceName.Length > 0 ? $"Service '{serviceName}' check" : "";
        return new HealthCheckDto
        {
            Node = r.Api.Options.NodeName,
            CheckID = id,
            Name = name,
            Status = status.Length > 0 ? status : "critical",
            Notes = Str(c, "Notes"),
            ServiceID = Str(c, "ServiceID") is { Length: > 0 } sid ? sid : serviceId,
            Type = Str(c, "TTL").Length > 0 ? "ttl" : "",
            Definition = new HealthCheckDefinitionDto { TTL = Str(c, "TTL") },
        };
    }

    internal static string Str(JsonObject obj, string name)
        => obj.Get(name) is JsonValue v ? v.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.String => v.GetValue<string>(),
            System.Text.Json.JsonValueKind.Number => v.ToJsonString(),
            _ => throw new ConsulHttpException(400, $"Request decode failed: json: cannot unmarshal {v.GetValueKind().ToString().ToLowerInvariant()} into Go struct field .{name} of type string"),
        } : "";

    internal static int Int(JsonObject obj, string name)
        => obj.Get(name) is JsonValue v
            ? v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue<int>(out var n) ? n
                : throw new ConsulHttpException(400, $"Request decode failed: json: cannot unmarshal {v.GetValueKind().ToString().ToLowerInvariant()} into Go struct field .{name} of type int")
            : 0;

    internal static ImmutableArray<string> Strings(JsonNode? node)
        => node is JsonArray a ? [.. a.Select(x => x?.GetValue<string>() ?? "")] : [];

    internal static ImmutableDictionary<string, string> Map(JsonNode? node)
        => node is JsonObject o ? o.ToImmutableDictionary(p => p.Key, p => p.Value?.ToString() ?? "") : ImmutableDictionary<string, string>.Empty;

    private static ImmutableDictionary<string, ServiceAddressDto> ServiceAddresses(JsonNode? node)
        => node is JsonObject o
            ? o.Where(p => p.Value is JsonObject).ToImmutableDictionary(p => p.Key, p => new ServiceAddressDto
            {
                Address = (p.Value as JsonObject)!.Get("Address")?.ToString() ?? "",
                Port = (p.Value as JsonObject)!.Get("Port") is JsonValue port && port.TryGetValue<int>(out var n) ? n : 0,
            })
            : ImmutableDictionary<string, ServiceAddressDto>.Empty;
}

internal static class JsonNodeExtensions
{
    public static T? Deserialize<T>(this JsonNode node) => System.Text.Json.JsonSerializer.Deserialize<T>(node, ConsulJson.Compact);
}
