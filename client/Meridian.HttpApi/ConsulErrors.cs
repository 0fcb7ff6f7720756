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
    public static (int Status, string Text) Map(Exception error)
    {
        switch (error)
        {
            case ConsulHttpException http: return (http.Status, http.Message);
            case JsonException json: return (400, "Request decode failed: " + Clean(json.Message));
            case BadHttpRequestException bad: return (bad.StatusCode, bad.Message);
            case UnknownDatacenterException: return (500, "No path to datacenter");
            case ArgumentException argument: return (400, argument.Message);
        }
        // The SDK's one classification (Orleans transport failures included), then Consul's status for the kind.
        var failure = MeridianFailure.Classify(error);
        var text = failure.Problems.IsDefaultOrEmpty ? failure.Message : string.Join("; ", failure.Problems.Select(p => p.Message));
        if (text.Contains("Permission denied", StringComparison.Ordinal) || text.Contains("ACL not found", StringComparison.Ordinal)) return (403, text);
        return failure.Kind switch
        {
            MeridianErrorKind.PermissionDenied => (403, text),
            MeridianErrorKind.RateLimited => (429, "Rate limit reached, try again later"),
            // Consul answers validation by the servers, not-found in a write and everything else with 500.
            _ => (500, text),
        };
    }

    // System.Text.Json's messages end with a path and positions; Consul's name the field. Keep the first sentence.
    private static string Clean(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
