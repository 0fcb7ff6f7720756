using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Meridian.Core.Certificates;

namespace Meridian.Client;

/// <summary>
/// The JSON conventions of every Meridian client surface (the CLI's <c>--json</c>, the HTTP API): the DTO property
/// names are Consul's field names, durations are Go's <c>time.Duration</c> strings (<c>72h0m0s</c>) and times RFC 3339
/// in UTC with Go's trimmed fraction (<c>2025-01-02T03:04:05Z</c>), as Consul writes them.
/// </summary>
public static class MeridianJson
{
    /// <summary>
    /// Indented, nulls left out, and PEM text readable: the default encoder would escape every <c>+</c> and <c>/</c>.
    /// Do not mutate it (it is shared); copy it with <c>new JsonSerializerOptions(MeridianJson.Options)</c>.
    /// </summary>
    public static readonly JsonSerializerOptions Options = CreateOptions();

    /// <summary>A fresh copy of <see cref="Options"/>, for callers that change a setting (compact output).</summary>
    public static JsonSerializerOptions CreateOptions() => new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new GoDurationJsonConverter(), new Rfc3339JsonConverter() },
    };

    /// <summary>RFC 3339 in UTC with Go's trimmed fraction (<c>2025-01-02T03:04:05Z</c>, <c>…05.5Z</c>).</summary>
    public static string FormatTime(DateTimeOffset value)
        => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}

/// <summary><see cref="TimeSpan"/> as Go's <c>Duration.String()</c> (<c>72h0m0s</c>); reads what Go's <c>ParseDuration</c> accepts.</summary>
public sealed class GoDurationJsonConverter : JsonConverter<TimeSpan>
{
    /// <inheritdoc />
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => GoDuration.TryParse(reader.GetString(), out var value, out var error) ? value : throw new JsonException(error);

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
        => writer.WriteStringValue(GoDuration.Format(value));
}

/// <summary><see cref="DateTimeOffset"/> as RFC 3339 in UTC (<see cref="MeridianJson.FormatTime"/>); reads any ISO 8601 offset time.</summary>
public sealed class Rfc3339JsonConverter : JsonConverter<DateTimeOffset>
{
    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => reader.GetDateTimeOffset();

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
        => writer.WriteStringValue(MeridianJson.FormatTime(value));
}
