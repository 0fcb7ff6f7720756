using System.Text.Json;
using Meridian.Client;
using Meridian.Core.Certificates;
using Meridian.Core.Validation;

namespace Meridian.Cli;

/// <summary>
/// Prints results: JSON with Consul's field names (the DTO property names) under <c>--json</c>, otherwise compact
/// text for people. Durations print as Go does (<c>72h0m0s</c>), times as RFC 3339 in UTC.
/// </summary>
internal sealed class Output(TextWriter writer, bool json)
{
    /// <summary>The serializer settings for every JSON result: the SDK's (<see cref="MeridianJson.Options"/>).</summary>
    public static JsonSerializerOptions JsonOptions => MeridianJson.Options;

    public bool Json => json;

    /// <summary>Prints <paramref name="value"/> as JSON, or through <paramref name="human"/>.</summary>
    public void Write<T>(T value, Action<Output, T> human)
    {
        if (json) WriteJson(value);
        else human(this, value);
    }

    public void WriteJson<T>(T value) => writer.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    public void Line(string text = "") => writer.WriteLine(text);

    /// <summary>Writes PEM text, ending with exactly one newline.</summary>
    public void Pem(string pem) => writer.WriteLine(pem.TrimEnd('\n', '\r'));

    /// <summary>Aligned <c>Label: value</c> rows; rows whose value is null are left out.</summary>
    public void Fields(params (string Label, string? Value)[] rows)
    {
        var shown = rows.Where(r => r.Value is not null).ToList();
        var width = shown.Count == 0 ? 0 : shown.Max(r => r.Label.Length) + 1;
        foreach (var (label, value) in shown) writer.WriteLine($"{(label + ":").PadRight(width)} {value}");
    }

    /// <summary>RFC 3339 in UTC with Go's trimmed fraction (<c>2025-01-02T03:04:05Z</c>); <c>-</c> when unknown.</summary>
    public static string Time(DateTimeOffset? value)
        => value is { } v ? MeridianJson.FormatTime(v) : "-";

    /// <summary>Go's <c>Duration.String()</c>.</summary>
    public static string Duration(TimeSpan value) => GoDuration.Format(value);

    /// <summary><c>[ns/]name</c> as the API writes it, printable (<see cref="Printable"/>).</summary>
    public static string Service(string ns, string name) => Printable(ns.Length == 0 ? name : $"{ns}/{name}");

    /// <summary>
    /// Stored text as a person may see it: control and bidirectional-override characters escaped (<c>\x01</c>), so
    /// an intention written before names were checked cannot pass for another one (<c>web\x01</c> printed as
    /// <c>web</c>) or rewrite the terminal.
    /// </summary>
    public static string Printable(string text)
    {
        if (!text.Any(ValidationText.IsForbidden)) return text;
        var quoted = ValidationText.Quote(text);
        return quoted[1..^1];
    }
}
