using Meridian.Grains;
using Meridian.Grains.Acl;
using Meridian.Grains.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace Meridian.Silo;

/// <summary>
/// <c>/metrics</c> on the silo's HTTP port (section <c>Meridian:Metrics</c>): Meridian's instruments
/// (<see cref="MeridianInstruments"/>, docs/metrics.md) and Orleans' own, in Prometheus' text format.
/// </summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Meridian:Metrics";

    /// <summary>Collect and serve metrics. Default: true. Off, no exporter listens and instruments cost nothing.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Serve <c>/metrics</c> without a token when ACLs are on. Default: false: with ACLs on a scrape needs a token with
    /// <c>operator:read</c> (Consul's <c>/v1/agent/metrics</c> needs <c>agent:read</c>), sent as
    /// <c>Authorization: Bearer</c> (Prometheus' <c>authorization</c>) or <c>X-Consul-Token</c>.
    /// </summary>
    public bool AllowAnonymous { get; set; }
}

/// <summary>Wires the exporter and guards its path. Kept apart from the rest of the HTTP port (the dashboard, an API).</summary>
internal static class SiloMetrics
{
    /// <summary>The path Prometheus scrapes.</summary>
    public const string Path = "/metrics";

    /// <summary>Orleans' meter (<c>OrleansInstruments</c>): messaging, activations, storage, reminders.</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>Registers OpenTelemetry metrics with the Prometheus exporter for Meridian's and Orleans' meters.</summary>
    public static void AddMetrics(IServiceCollection services, MetricsOptions options)
    {
        if (!options.Enabled) return;
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(MeridianInstruments.MeterName, OrleansMeterName)
            // Each scrape reads the values of now: the exporter's default 300 ms cache would let one scrape answer another's.
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
    }

    /// <summary>
    /// Maps <c>/metrics</c>. With ACLs on (and not <see cref="MetricsOptions.AllowAnonymous"/>), a request whose token does
    /// not grant <c>operator:read</c> gets 403 with Consul's text (<c>Permission denied: …</c>, or <c>ACL not found</c>);
    /// the token is never logged or echoed. With TLS the port's client-certificate rule (<see cref="SiloHttpHost.GuardHttp"/>)
    /// applies first.
    /// </summary>
    public static void MapMetrics(WebApplication app, MetricsOptions options, bool aclEnabled)
    {
        if (!options.Enabled) return;
        if (aclEnabled && !options.AllowAnonymous)
        {
            var acls = app.Services.GetRequiredService<IAclAuthorizerSource>();
            app.Use(async (context, next) =>
            {
                if (!context.Request.Path.Equals(Path, StringComparison.OrdinalIgnoreCase) || await RefusalAsync(acls, context.Request, context.RequestAborted) is not { } refusal)
                {
                    await next(context);
                    return;
                }
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync(refusal + "\n", context.RequestAborted);
            });
        }
        app.MapPrometheusScrapingEndpoint(Path);
    }

    /// <summary>The refusal of a scrape, or null when its token grants <c>operator:read</c>.</summary>
    internal static async Task<string?> RefusalAsync(IAclAuthorizerSource acls, HttpRequest request, CancellationToken ct)
    {
        AclCaller caller;
        try
        {
            caller = await acls.ResolveAsync(Token(request), ct);
        }
        catch (MeridianPermissionDeniedException e)
        {
            return e.Message; // ACL not found: an unknown or expired token
        }
        var decision = caller.Authorizer.OperatorRead();
        return decision.Allowed ? null : decision.DeniedMessage(caller.AccessorId);
    }

    // Consul's two ways (https://developer.hashicorp.com/consul/api-docs/api-structure#authentication): the bearer scheme
    // (what Prometheus' `authorization` sends) wins over X-Consul-Token. None: the anonymous token.
    private static string? Token(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        const string Bearer = "Bearer ";
        if (authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)) return authorization[Bearer.Length..].Trim();
        var header = request.Headers["X-Consul-Token"].ToString();
        return string.IsNullOrWhiteSpace(header) ? null : header.Trim();
    }
}
