using System.Collections.Immutable;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Meridian.Core.Certificates;

namespace Meridian.HttpApi;

/// <summary>
/// JSON as Consul's HTTP API reads and writes it (https://developer.hashicorp.com/consul/api-docs/api-structure):
/// field names as Consul spells them (the SDK's DTOs use the same names), matched case-insensitively on input (python
/// clients send <c>node</c>, <c>service</c>), Consul's snake_case aliases accepted, durations as Go strings
/// (<c>"72h"</c>) or integer nanoseconds, times in RFC 3339. Unknown fields are ignored rather than refused (Consul
/// answers 400 <c>unknown field</c>): py-consul's <c>WriteRequest</c> and node-consul's top-level <c>Near</c> then work.
/// </summary>
internal static class ConsulJson
{
    public static readonly JsonSerializerOptions Compact = Create(false);
    public static readonly JsonSerializerOptions Pretty = Create(true);

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = null,
            PropertyNameCaseInsensitive = true,
            WriteIndented = indented,
            IndentSize = 4,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            Converters = { new DurationConverter(), new NullableDurationConverter(), new Client.Rfc3339JsonConverter() },
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Consul's snake_case aliases (agent/structs decoders), rewritten to the field names before binding.</summary>
    private static readonly ImmutableDictionary<string, string> Aliases = new Dictionary<string, string>
    {
        ["enable_tag_override"] = "EnableTagOverride", ["tagged_addresses"] = "TaggedAddresses", ["sidecar_service"] = "SidecarService",
        ["script_args"] = "ScriptArgs", ["deregister_critical_service_after"] = "DeregisterCriticalServiceAfter",
        ["docker_container_id"] = "DockerContainerID", ["tls_server_name"] = "TLSServerName", ["tls_skip_verify"] = "TLSSkipVerify",
        ["tcp_use_tls"] = "TCPUseTLS", ["grpc_use_tls"] = "GRPCUseTLS", ["h2ping_use_tls"] = "H2PingUseTLS", ["service_id"] = "ServiceID",
        ["destination_service_name"] = "DestinationServiceName", ["destination_service_id"] = "DestinationServiceID",
        ["local_service_address"] = "LocalServiceAddress", ["local_service_port"] = "LocalServicePort",
        ["local_service_socket_path"] = "LocalServiceSocketPath", ["mesh_gateway"] = "MeshGateway",
        ["transparent_proxy"] = "TransparentProxy", ["access_logs"] = "AccessLogs", ["destination_type"] = "DestinationType",
        ["destination_namespace"] = "DestinationNamespace", ["destination_partition"] = "DestinationPartition",
        ["destination_peer"] = "DestinationPeer", ["destination_name"] = "DestinationName",
        ["local_bind_address"] = "LocalBindAddress", ["local_bind_port"] = "LocalBindPort",
        ["local_bind_socket_path"] = "LocalBindSocketPath", ["local_bind_socket_mode"] = "LocalBindSocketMode",
        ["force_without_cross_signing"] = "ForceWithoutCrossSigning",
    }.ToImmutableDictionary(StringComparer.OrdinalIgnoreCase);

    // Maps whose keys are the caller's own (never rewritten).
    private static readonly ImmutableHashSet<string> UserMaps =
        ImmutableHashSet.Create(StringComparer.OrdinalIgnoreCase, "Meta", "NodeMeta", "ServiceMeta", "Config", "Header", "TaggedAddresses");

    /// <summary>Rewrites Consul's snake_case aliases in <paramref name="node"/> (recursively) to the field names.</summary>
    public static JsonNode? Normalize(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is not null && !UserMaps.Contains(key)) Normalize(value);
                    if (Aliases.TryGetValue(key, out var name) && !obj.ContainsKey(name))
                    {
                        obj.Remove(key);
                        obj[name] = value;
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array) Normalize(item);
                break;
        }
        return node;
    }

    /// <summary>Case-insensitive property lookup on a JSON object.</summary>
    public static JsonNode? Get(this JsonObject obj, string name)
    {
        if (obj.TryGetPropertyValue(name, out var exact)) return exact;
        foreach (var (key, value) in obj)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) return value;
        }
        return null;
    }

    private sealed class DurationConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            // Go clients send time.Duration as integer nanoseconds; HCL-minded ones send "10s".
            if (reader.TokenType == JsonTokenType.Number) return TimeSpan.FromTicks(reader.GetInt64() / 100);
            return GoDuration.TryParse(reader.GetString(), out var value, out var error) ? value : throw new JsonException(error);
        }

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
            => writer.WriteStringValue(GoDuration.Format(value));
    }

    private sealed class NullableDurationConverter : JsonConverter<TimeSpan?>
    {
        private static readonly DurationConverter Inner = new();

        public override bool HandleNull => true;

        public override TimeSpan? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => reader.TokenType == JsonTokenType.Null || (reader.TokenType == JsonTokenType.String && reader.GetString() is "")
                ? null : Inner.Read(ref reader, typeof(TimeSpan), options);

        public override void Write(Utf8JsonWriter writer, TimeSpan? value, JsonSerializerOptions options)
        {
            if (value is { } v) Inner.Write(writer, v, options);
            else writer.WriteNullValue();
        }
    }
}
