using System.Text.Json;

namespace Meridian.Cli.Tests;

internal static class JsonFields
{
    public static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;

    public static string[] Names(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];
}
