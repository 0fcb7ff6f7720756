using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meridian.Client;
using Meridian.Core.Certificates;
using Microsoft.AspNetCore.Http;

namespace Meridian.HttpApi;

/// <summary>
/// One request to the Consul-compatible API: its token, datacenter, blocking parameters and body as Consul reads them
/// (https://developer.hashicorp.com/consul/api-docs/features/blocking), and the answers in Consul's shapes and headers.
/// </summary>
internal sealed class ConsulRequest(HttpContext http, ConsulApi api)
{
    public HttpContext Http => http;
    public ConsulApi Api => api;
    public CancellationToken Aborted => http.RequestAborted;

    /// <summary>
    /// The caller's token in Consul's order (<c>agent/http.go</c> <c>parseTokenInternal</c>): <c>?token=</c>, then
    /// <c>X-Consul-Token</c>, then <c>Authorization: Bearer</c>; null when none was sent.
    /// </summary>
    public string? Token
    {
        get
        {
            if (http.Request.Query.TryGetValue("token", out var query) && !string.IsNullOrEmpty(query.ToString())) return query.ToString();
            if (http.Request.Headers.TryGetValue("X-Consul-Token", out var header) && !string.IsNullOrEmpty(header.ToString())) return header.ToString();
            var auth = http.Request.Headers.Authorization.ToString();
            const string Bearer = "Bearer ";
            return auth.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) && auth.Length > Bearer.Length ? auth[Bearer.Length..].Trim() : null;
        }
    }

    /// <summary>The SDK client for this request: the caller's token when it sent one, else the serving process's own.</summary>
    public IMeridianClient Client => Token is { } token ? api.Client.WithToken(token) : api.Client;

    /// <summary>A query parameter, or null when absent.</summary>
    public string? Query(string name) => http.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;

    /// <summary>Every value of a repeatable query parameter.</summary>
    public IReadOnlyList<string> Queries(string name) => http.Request.Query.TryGetValue(name, out var v) ? [.. v.Where(s => s is not null)!] : [];

    /// <summary>Consul's presence flags: <c>?passing</c>, <c>?passing=</c> and <c>?passing=1</c> all mean yes; a value must parse as Go's <c>ParseBool</c>.</summary>
    public bool Flag(string name, string invalid)
    {
        var value = Query(name);
        if (value is null) return false;
        if (value.Length == 0) return true;
        return ParseBool(value) ?? throw new ConsulHttpException(400, invalid);
    }

    /// <summary>Go's <c>strconv.ParseBool</c>.</summary>
    public static bool? ParseBool(string value) => value switch
    {
        "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
        "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
        _ => null,
    };

    /// <summary>
    /// <c>?dc=</c> (or <c>?datacenter=</c>, which wins, as in Consul); null when absent or this client's own datacenter.
    /// </summary>
    public string? Datacenter
    {
        get
        {
            var dc = Query("datacenter") is { Length: > 0 } d ? d : Query("dc");
            return string.IsNullOrEmpty(dc) || dc == api.Client.Datacenter ? null : dc;
        }
    }

    /// <summary>
    /// Refuses <c>?dc=</c> naming another datacenter on an endpoint that answers only for the one it serves: unknown is
    /// Consul's 500 <c>No path to datacenter</c>; a known one is refused naming the address to use instead.
    /// </summary>
    public async Task RequireLocalDatacenterAsync()
    {
        if (Datacenter is not { } dc) return;
        var known = await api.Client.GetDatacentersAsync(Aborted);
        if (!known.Datacenters.Any(d => d.Name == dc)) throw new ConsulHttpException(500, "No path to datacenter");
        throw new ConsulHttpException(400, $"This endpoint answers for datacenter {api.Client.Datacenter} only: ask {dc}'s own HTTP address (a silo of {dc} or a meridian agent connected to it)");
    }

    /// <summary>
    /// The blocking parameters: <c>?index=</c> (0: do not block) and <c>?wait=</c> (a Go duration; default
    /// <see cref="ConsulHttpApiOptions.DefaultQueryTime"/>, at most <see cref="ConsulHttpApiOptions.MaxQueryTime"/>), plus
    /// Consul's random jitter of up to wait/16 so that many waiters do not return together.
    /// </summary>
    public (ulong Index, TimeSpan Wait) Blocking()
    {
        ulong index = 0;
        if (Query("index") is { Length: > 0 } i && !ulong.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out index))
            throw new ConsulHttpException(400, "Invalid index");
        var wait = api.Options.DefaultQueryTime;
        if (Query("wait") is { Length: > 0 } w)
        {
            if (!GoDuration.TryParse(w, out wait, out _) || wait < TimeSpan.Zero) throw new ConsulHttpException(400, "Invalid wait time");
            if (wait == TimeSpan.Zero) wait = api.Options.DefaultQueryTime;
        }
        if (wait > api.Options.MaxQueryTime) wait = api.Options.MaxQueryTime;
        wait += TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * (wait.Ticks / 16)));
        return (index, wait);
    }

    /// <summary>
    /// A blocking read: without <c>?index=</c> one <paramref name="read"/>; with it, <paramref name="watch"/> (which
    /// returns when the index passes the given one or the wait ends) until the index is greater than the caller's or
    /// the wait has elapsed, then the data as it is (a timeout is 200 with the unchanged index, never 304).
    /// </summary>
    public async Task<T> BlockAsync<T>(Func<CancellationToken, Task<T>> read, Func<T, ulong> indexOf,
        Func<ulong, TimeSpan, CancellationToken, Task<T>>? watch)
    {
        var (minIndex, wait) = Blocking();
        if (minIndex == 0 || watch is null) return await read(Aborted);
        var deadline = api.Clock.GetUtcNow() + wait;
        while (true)
        {
            var left = deadline - api.Clock.GetUtcNow();
            var result = left > TimeSpan.Zero ? await watch(minIndex, left, Aborted) : await read(Aborted);
            if (indexOf(result) > minIndex || api.Clock.GetUtcNow() >= deadline) return result;
        }
    }

    /// <summary>The body as a JSON object (aliases normalized); null when there is none. Malformed JSON: Consul's 400.</summary>
    public async Task<JsonObject?> BodyAsync(string decodeError = "Request decode failed")
    {
        var text = await ReadBodyAsync();
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return ConsulJson.Normalize(JsonNode.Parse(text)) as JsonObject
                ?? throw new ConsulHttpException(400, $"{decodeError}: json: cannot unmarshal non-object into the request");
        }
        catch (JsonException e)
        {
            throw new ConsulHttpException(400, $"{decodeError}: {e.Message.Split(" Path:")[0]}");
        }
    }

    /// <summary>The body bound to <typeparamref name="T"/> (case-insensitive names, unknown fields ignored); null when empty.</summary>
    public async Task<T?> BodyAsync<T>(string decodeError = "Request decode failed") where T : class
    {
        var obj = await BodyAsync(decodeError);
        if (obj is null) return null;
        try
        {
            return obj.Deserialize<T>(ConsulJson.Compact);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new ConsulHttpException(400, $"{decodeError}: {e.Message.Split(" Path:")[0]}");
        }
    }

    private async Task<string> ReadBodyAsync()
    {
        var max = api.Options.MaxRequestBodyBytes;
        if (http.Request.ContentLength is { } declared && declared > max) throw TooLarge(declared, max);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, Aborted)) > 0)
        {
            if (buffer.Length + read > max) throw TooLarge(buffer.Length + read, max);
            buffer.Write(chunk, 0, read);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static ConsulHttpException TooLarge(long size, long max)
        => new(413, string.Create(CultureInfo.InvariantCulture, $"Request body({size} bytes) too large, max size: {max} bytes."));

    /// <summary>
    /// 200 with <paramref name="value"/> as JSON (compact, or 4-space indented with a trailing newline under
    /// <c>?pretty</c>); with <paramref name="index"/>, Consul's query headers (<c>X-Consul-Index</c> never 0).
    /// </summary>
    public async Task JsonAsync(object? value, ulong? index = null, bool filtered = false)
    {
        if (index is { } i) QueryHeaders(i);
        if (filtered && Token is not null) http.Response.Headers["X-Consul-Results-Filtered-By-ACLs"] = "true";
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        var pretty = Query("pretty") is not null;
        var text = JsonSerializer.Serialize(value, pretty ? ConsulJson.Pretty : ConsulJson.Compact);
        await http.Response.WriteAsync(pretty ? text + "\n" : text, Aborted);
    }

    /// <summary>Consul's blocking-query headers: the index (at least 1), a known leader, no lag behind it.</summary>
    public void QueryHeaders(ulong index)
    {
        http.Response.Headers["X-Consul-Index"] = Math.Max(index, 1).ToString(CultureInfo.InvariantCulture);
        http.Response.Headers["X-Consul-KnownLeader"] = "true";
        http.Response.Headers["X-Consul-LastContact"] = "0";
    }

    /// <summary>200 with an empty body: what Consul answers for handlers that return nothing.</summary>
    public Task EmptyAsync()
    {
        http.Response.StatusCode = 200;
        return Task.CompletedTask;
    }

    /// <summary>A plain-text answer with Consul's status code (no trailing newline).</summary>
    public Task TextAsync(int status, string text)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/plain; charset=utf-8";
        return http.Response.WriteAsync(text, Aborted);
    }
}
