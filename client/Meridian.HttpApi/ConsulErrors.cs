using System.Text.Json;
using Meridian.Client;
using Meridian.Grains;
using Microsoft.AspNetCore.Http;

namespace Meridian.HttpApi;

/// <summary>An answer decided by the HTTP layer itself: Consul's status code and plain-text body.</summary>
internal sealed class ConsulHttpException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// Consul's error mapping (<c>agent/http.go</c> <c>handleErr</c>, https://developer.hashicorp.com/consul/api-docs/api-structure):
/// a message containing <c>Permission denied</c> or <c>ACL not found</c> is 403, a rate limit 429, an HTTP-layer check
/// its own code (400, 404, 405, 413), and everything else, validation by the datacenter included, 500.
/// </summary>
internal static class ConsulErrors
{
    public static (int Status, string Text) Map(Exception error) => error switch
    {
        ConsulHttpException http => (http.Status, http.Message),
        JsonException json => (400, "Request decode failed: " + Clean(json.Message)),
        BadHttpRequestException bad => (bad.StatusCode, bad.Message),
        RateLimitedException => (429, "Rate limit reached, try again later"),
        UnknownDatacenterException => (500, "No path to datacenter"),
        MeridianValidationException invalid => (500, string.Join("; ", invalid.Problems.Select(p => p.Message))),
        MeridianUnreachableException unreachable => (500, "No known Consul servers: " + unreachable.Message),
        _ when error.Message.Contains("Permission denied", StringComparison.Ordinal)
            || error.Message.Contains("ACL not found", StringComparison.Ordinal) => (403, error.Message),
        MeridianException meridian => (500, meridian.Message),
        ArgumentException argument => (400, argument.Message),
        _ => (500, error.Message),
    };

    // System.Text.Json's messages end with a path and positions; Consul's name the field. Keep the first sentence.
    private static string Clean(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
