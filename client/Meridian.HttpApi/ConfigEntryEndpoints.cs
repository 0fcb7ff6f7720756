using System.Text.Json.Nodes;
using Meridian.Grains;
using Microsoft.AspNetCore.Routing;

namespace Meridian.HttpApi;

/// <summary>
/// Config entries of kind <c>service-intentions</c> (https://developer.hashicorp.com/consul/api-docs/config), over the
/// intentions of one destination: a PUT writes each source and deletes the sources the entry no longer lists. Other
/// kinds are refused. <c>?cas=</c> is not supported (400). Writes go to the primary, as Consul forwards them.
/// </summary>
internal static class ConfigEntryEndpoints
{
    private const string Kind = "service-intentions";

    public static void Map(IEndpointRouteBuilder routes, ConsulApi api)
    {
        api.Route(routes, "/v1/config", ("PUT", PutAsync));
        api.Route(routes, "/v1/config/{kind}", ("GET", ListAsync));
        api.Route(routes, "/v1/config/{kind}/{name}", ("GET", GetAsync), ("DELETE", DeleteAsync));
    }

    private static void RequireKind(string kind)
    {
        if (!string.Equals(kind, Kind, StringComparison.OrdinalIgnoreCase))
            throw new ConsulHttpException(400, $"Request decoding failed: invalid config entry kind: {kind} (Meridian serves {Kind} only)");
    }

    private static void RefuseCas(ConsulRequest r)
    {
        if (r.Query("cas") is not null) throw new ConsulHttpException(400, "?cas= is not supported for config entries here; write without it");
    }

    private static async Task PutAsync(ConsulRequest r)
    {
        RefuseCas(r);
        var body = await r.BodyAsync("Request decoding failed") ?? throw new ConsulHttpException(400, "Request decoding failed: EOF");
        var kind = AgentEndpoints.Str(body, "Kind");
        if (kind.Length == 0) throw new ConsulHttpException(400, "Request decoding failed: Payload does not contain a kind/Kind key at the top level");
        RequireKind(kind);
        if (body.Get("Namespace") is not null) throw new ConsulHttpException(400, "Request decoding failed: invalid config key \"Namespace\", namespaces are a consul enterprise feature");
        var name = AgentEndpoints.Str(body, "Name");
        if (name.Length == 0) throw new ConsulHttpException(500, "Name is required");
        var sources = (body.Get("Sources") as JsonArray ?? []).OfType<JsonObject>().Select(s =>
        {
            var flat = new JsonObject
            {
                ["SourceName"] = AgentEndpoints.Str(s, "Name"),
                ["SourceNS"] = AgentEndpoints.Str(s, "Namespace"),
                ["SourceType"] = AgentEndpoints.Str(s, "Type"),
                ["Action"] = AgentEndpoints.Str(s, "Action"),
                ["Description"] = AgentEndpoints.Str(s, "Description"),
            };
            if (s.Get("Permissions") is JsonArray permissions) flat["Permissions"] = permissions.DeepClone();
            return JsonNodeExtensions.Deserialize<IntentionDto>(flat)! with { DestinationName = name };
        }).ToList();
        var client = r.Client;
        var existing = (await client.ListIntentionsAsync(r.Aborted)).Intentions.Where(i => i.DestinationName == name).ToList();
        foreach (var source in sources)
            await client.UpsertIntentionAsync(source with { Permissions = source.Permissions.IsDefault ? [] : source.Permissions }, r.Aborted);
        foreach (var gone in existing.Where(e => !sources.Any(s => s.SourceName == e.SourceName && Ns(s.SourceNS) == Ns(e.SourceNS))))
            await client.DeleteIntentionAsync(new IntentionRefDto { Source = Qualified(gone.SourceNS, gone.SourceName), Destination = name }, r.Aborted);
        await r.JsonAsync(true);
    }

    private static string Ns(string ns) => ns.Length == 0 ? "default" : ns;

    private static string Qualified(string ns, string name) => Ns(ns) == "default" ? name : $"{ns}/{name}";

    private static Dictionary<string, object?> Entry(string name, IReadOnlyList<IntentionDto> intentions) => new()
    {
        ["Kind"] = Kind,
        ["Name"] = name,
        ["Sources"] = intentions.Select(i =>
        {
            var source = new Dictionary<string, object?> { ["Name"] = i.SourceName };
            if (i.Action.Length > 0) source["Action"] = i.Action;
            if (!i.Permissions.IsDefaultOrEmpty) source["Permissions"] = i.Permissions;
            source["Precedence"] = i.Precedence;
            source["Type"] = i.SourceType.Length > 0 ? i.SourceType : "consul";
            if (i.Description.Length > 0) source["Description"] = i.Description;
            return source;
        }).ToList(),
        ["CreateIndex"] = intentions.Select(i => i.CreateIndex).DefaultIfEmpty(0UL).Min(),
        ["ModifyIndex"] = intentions.Select(i => i.ModifyIndex).DefaultIfEmpty(0UL).Max(),
    };

    private static async Task GetAsync(ConsulRequest r)
    {
        RequireKind(AgentEndpoints.Route(r, "kind"));
        await r.RequireLocalDatacenterAsync();
        var name = AgentEndpoints.Route(r, "name");
        var list = await r.Client.ListIntentionsAsync(r.Aborted);
        var mine = list.Intentions.Where(i => i.DestinationName == name).ToList();
        if (mine.Count == 0) throw new ConsulHttpException(404, $"Config entry not found for \"{Kind}\" / \"{name}\"");
        await r.JsonAsync(Entry(name, mine), list.Index + 1);
    }

    private static async Task ListAsync(ConsulRequest r)
    {
        RequireKind(AgentEndpoints.Route(r, "kind"));
        await r.RequireLocalDatacenterAsync();
        var list = await r.Client.ListIntentionsAsync(r.Aborted);
        var entries = list.Intentions.GroupBy(i => i.DestinationName).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Entry(g.Key, [.. g]));
        await r.JsonAsync(entries, list.Index + 1, list.FilteredByAcls);
    }

    private static async Task DeleteAsync(ConsulRequest r)
    {
        RefuseCas(r);
        RequireKind(AgentEndpoints.Route(r, "kind"));
        var name = AgentEndpoints.Route(r, "name");
        var client = r.Client;
        foreach (var i in (await client.ListIntentionsAsync(r.Aborted)).Intentions.Where(i => i.DestinationName == name))
            await client.DeleteIntentionAsync(new IntentionRefDto { Source = Qualified(i.SourceNS, i.SourceName), Destination = name }, r.Aborted);
        // Consul answers an empty object here (without ?cas=).
        await r.JsonAsync(new { });
    }
}
