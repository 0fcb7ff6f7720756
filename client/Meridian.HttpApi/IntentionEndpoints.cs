using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Meridian.Grains;
using Microsoft.AspNetCore.Routing;

namespace Meridian.HttpApi;

/// <summary>
/// Intentions: list, legacy create and the by-ID calls, exact, match, check; and config entries of kind
/// <c>service-intentions</c>. https://developer.hashicorp.com/consul/api-docs/connect/intentions
/// Writes go to the primary (the SDK's intention writes do), as Consul forwards them.
/// </summary>
internal static class IntentionEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ConsulApi api)
    {
        api.Route(routes, "/v1/connect/intentions", ("GET", ListAsync), ("POST", CreateLegacyAsync));
        api.Route(routes, "/v1/connect/intentions/exact", ("GET", GetExactAsync), ("PUT", PutExactAsync), ("DELETE", DeleteExactAsync));
        api.Route(routes, "/v1/connect/intentions/match", ("GET", MatchAsync));
        api.Route(routes, "/v1/connect/intentions/check", ("GET", CheckAsync));
        api.Route(routes, "/v1/connect/intentions/{id}", ("GET", GetByIdAsync), ("PUT", UpdateByIdAsync), ("DELETE", DeleteByIdAsync));
    }

    private static async Task ListAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        var client = r.Client;
        // The SDK's watch answers at once for index 0, and its index (never 0) is what the blocking calls compare.
        var list = await r.BlockAsync(ct => client.WatchIntentionsAsync(0, TimeSpan.Zero, ct), l => l.Index,
            (index, wait, ct) => client.WatchIntentionsAsync(index, wait, ct));
        await r.JsonAsync(list.Value.Intentions.Select(Shape), list.Index, list.Value.FilteredByAcls);
    }

    /// <summary>
    /// The ID of an intention for the by-ID calls: a UUID derived from its source and destination. Meridian stores
    /// intentions as config entries (one per destination, as Consul since 1.9) and keeps no separate legacy ID, so every
    /// intention has one, stable while its names are; renaming one through <c>PUT /v1/connect/intentions/:id</c> gives
    /// it a new ID (answered by that call).
    /// </summary>
    internal static string LegacyId(IntentionDto i)
    {
        static string Part(string value, string fallback) => value.Length > 0 ? value : fallback;
        var key = $"meridian.intention\n{Part(i.SourcePartition, "default")}/{Part(i.SourceNS, "default")}/{i.SourceName}\n" +
            $"{Part(i.DestinationPartition, "default")}/{Part(i.DestinationNS, "default")}/{i.DestinationName}\n{i.SourceDatacenter}\n{i.DestinationDatacenter}";
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // RFC 4122 name-based layout (version 5, variant 1)
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString();
    }

    /// <summary>Consul's intention JSON: empty Description, Action, Permissions and Meta left out.</summary>
    internal static Dictionary<string, object?> Shape(IntentionDto i)
    {
        var d = new Dictionary<string, object?> { ["ID"] = LegacyId(i) };
        if (i.Description.Length > 0) d["Description"] = i.Description;
        d["SourceNS"] = i.SourceNS.Length > 0 ? i.SourceNS : "default";
        d["SourceName"] = i.SourceName;
        d["DestinationNS"] = i.DestinationNS.Length > 0 ? i.DestinationNS : "default";
        d["DestinationName"] = i.DestinationName;
        d["SourceType"] = i.SourceType.Length > 0 ? i.SourceType : "consul";
        if (i.Action.Length > 0) d["Action"] = i.Action;
        if (!i.Permissions.IsDefaultOrEmpty) d["Permissions"] = i.Permissions;
        if (i.Meta is { Count: > 0 }) d["Meta"] = i.Meta;
        d["Precedence"] = i.Precedence;
        d["CreateIndex"] = i.CreateIndex;
        d["ModifyIndex"] = i.ModifyIndex;
        return d;
    }

    private static IntentionDto Read(JsonObject body)
    {
        var dto = JsonNodeExtensions.Deserialize<IntentionDto>(body) ?? new IntentionDto();
        return dto with
        {
            Permissions = dto.Permissions.IsDefault ? [] : dto.Permissions,
            Meta = dto.Meta ?? ImmutableDictionary<string, string>.Empty,
            // Incoming indexes and precedence are Consul's to compute (the Go client always sends zeros).
            Precedence = 0, CreateIndex = 0, ModifyIndex = 0,
        };
    }

    private static void RefusePartitions(JsonObject body)
    {
        if (AgentEndpoints.Str(body, "Partition").Length > 0) throw new ConsulHttpException(400, "Cannot use a partition with this endpoint");
        if (AgentEndpoints.Str(body, "SourcePartition").Length > 0) throw new ConsulHttpException(400, "Cannot specify a source partition with this endpoint");
        if (AgentEndpoints.Str(body, "DestinationPartition").Length > 0) throw new ConsulHttpException(400, "Cannot specify a destination partition with this endpoint");
    }

    private static async Task CreateLegacyAsync(ConsulRequest r)
    {
        var body = await r.BodyAsync() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        RefusePartitions(body);
        var intention = Read(body);
        if (!string.IsNullOrEmpty(intention.ID)) throw new ConsulHttpException(500, "ID must be empty when creating a new intention");
        await r.Client.UpsertIntentionAsync(intention, r.Aborted);
        await r.JsonAsync(new { ID = LegacyId(intention) });
    }

    private static string Id(ConsulRequest r)
    {
        var id = AgentEndpoints.Route(r, "id");
        if (!Guid.TryParseExact(id, "D", out _)) throw new ConsulHttpException(400, $"Invalid intention ID: \"{id}\" is not a UUID");
        return id;
    }

    private static async Task<IntentionDto?> FindAsync(ConsulRequest r, string id)
    {
        var list = await r.Client.ListIntentionsAsync(r.Aborted);
        return list.Intentions.FirstOrDefault(i => string.Equals(LegacyId(i), id, StringComparison.OrdinalIgnoreCase));
    }

    private static async Task GetByIdAsync(ConsulRequest r)
    {
        var id = Id(r);
        await r.RequireLocalDatacenterAsync();
        var found = await FindAsync(r, id) ?? throw new ConsulHttpException(404, "Intention not found");
        await r.JsonAsync(Shape(found));
    }

    private static async Task UpdateByIdAsync(ConsulRequest r)
    {
        var id = Id(r);
        var body = await r.BodyAsync() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        RefusePartitions(body);
        var intention = Read(body) with { ID = null };
        var existing = await FindAsync(r, id) ?? throw new ConsulHttpException(500, $"Cannot modify non-existent intention: '{id}'");
        await r.Client.UpsertIntentionAsync(intention, r.Aborted);
        var renamed = LegacyId(intention with { SourceNS = Ns(intention.SourceNS), DestinationNS = Ns(intention.DestinationNS) })
            != LegacyId(existing with { SourceNS = Ns(existing.SourceNS), DestinationNS = Ns(existing.DestinationNS) });
        if (renamed) await r.Client.DeleteIntentionAsync(RefOf(existing), r.Aborted);
        await r.JsonAsync(new { ID = renamed ? LegacyId(intention) : id });
    }

    private static async Task DeleteByIdAsync(ConsulRequest r)
    {
        var id = Id(r);
        var existing = await FindAsync(r, id) ?? throw new ConsulHttpException(500, $"Cannot delete non-existent intention: '{id}'");
        await r.Client.DeleteIntentionAsync(RefOf(existing), r.Aborted);
        await r.JsonAsync(true);
    }

    private static string Ns(string ns) => ns.Length == 0 ? "default" : ns;

    private static IntentionRefDto RefOf(IntentionDto i) => new()
    {
        Source = Qualified(i.SourceNS, i.SourceName),
        Destination = Qualified(i.DestinationNS, i.DestinationName),
        SourceDatacenter = i.SourceDatacenter,
        DestinationDatacenter = i.DestinationDatacenter,
    };

    private static string Qualified(string ns, string name) => ns.Length == 0 || ns == "default" ? name : $"{ns}/{name}";

    /// <summary>A <c>name</c>, <c>ns/name</c> or <c>partition/ns/name</c> query parameter, as Consul parses it.</summary>
    private static (string Namespace, string Name) Name(ConsulRequest r, string parameter)
    {
        var value = r.Query(parameter);
        if (string.IsNullOrEmpty(value)) throw new ConsulHttpException(500, $"required query parameter '{parameter}' not set");
        var parts = value.Split('/');
        return parts.Length switch
        {
            1 => ("", parts[0]),
            2 => (parts[0], parts[1]),
            3 => (parts[1], parts[2]),
            _ => throw new ConsulHttpException(500, $"{parameter} \"{value}\" is invalid: input can contain at most two '/'"),
        };
    }

    private static IntentionRefDto ExactRef(ConsulRequest r)
    {
        var source = Name(r, "source");
        var destination = Name(r, "destination");
        return new IntentionRefDto { Source = Qualified(source.Namespace, source.Name), Destination = Qualified(destination.Namespace, destination.Name) };
    }

    private static async Task GetExactAsync(ConsulRequest r)
    {
        var reference = ExactRef(r);
        await r.RequireLocalDatacenterAsync();
        IntentionDto found;
        try
        {
            found = await r.Client.GetIntentionAsync(reference, r.Aborted);
        }
        catch (MeridianNotFoundException)
        {
            throw new ConsulHttpException(404, "Intention not found");
        }
        await r.JsonAsync(Shape(found));
    }

    private static async Task PutExactAsync(ConsulRequest r)
    {
        var source = Name(r, "source");
        var destination = Name(r, "destination");
        var body = await r.BodyAsync() ?? throw new ConsulHttpException(400, "Request decode failed: EOF");
        RefusePartitions(body);
        // Names in the body are overwritten from the URL and the ID cleared (Consul's IntentionPutExact).
        var intention = Read(body) with
        {
            ID = null,
            SourceNS = source.Namespace,
            SourceName = source.Name,
            DestinationNS = destination.Namespace,
            DestinationName = destination.Name,
        };
        await r.Client.UpsertIntentionAsync(intention, r.Aborted);
        await r.JsonAsync(true);
    }

    private static async Task DeleteExactAsync(ConsulRequest r)
    {
        await r.Client.DeleteIntentionAsync(ExactRef(r), r.Aborted);
        await r.JsonAsync(true);
    }

    private static async Task MatchAsync(ConsulRequest r)
    {
        var by = r.Query("by");
        if (string.IsNullOrEmpty(by)) throw new ConsulHttpException(500, "required query parameter 'by' not set");
        if (by is not ("source" or "destination")) throw new ConsulHttpException(500, "'by' parameter must be one of 'source' or 'destination'");
        var names = r.Queries("name");
        if (names.Count == 0) throw new ConsulHttpException(500, "required query parameter 'name' not set");
        await r.RequireLocalDatacenterAsync();
        var match = await r.Client.MatchIntentionsAsync(by, names, r.Aborted);
        // An empty match is [] (Python callers iterate it), never null.
        var answer = new Dictionary<string, object>();
        foreach (var entry in match.Matches) answer[entry.Name] = entry.Intentions.IsDefault ? [] : entry.Intentions.Select(Shape).ToList();
        foreach (var name in names) answer.TryAdd(name, Array.Empty<object>());
        await r.JsonAsync(answer, match.Index);
    }

    private static async Task CheckAsync(ConsulRequest r)
    {
        var source = r.Query("source");
        var destination = r.Query("destination");
        if (string.IsNullOrEmpty(source)) throw new ConsulHttpException(500, "required query parameter 'source' not set");
        if (string.IsNullOrEmpty(destination)) throw new ConsulHttpException(500, "required query parameter 'destination' not set");
        if (r.Query("source-type") is { Length: > 0 } type && type != "consul") throw new ConsulHttpException(500, $"unsupported SourceType: \"{type}\"");
        await r.RequireLocalDatacenterAsync();
        var allowed = await r.Client.CheckIntentionAsync(source, destination, r.Aborted);
        await r.JsonAsync(new { Allowed = allowed });
    }
}
