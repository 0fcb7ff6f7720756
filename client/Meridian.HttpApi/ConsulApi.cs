using Meridian.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meridian.HttpApi;

/// <summary>What every endpoint of the API uses: the SDK client of the serving process, its options and clock.</summary>
internal sealed partial class ConsulApi(IMeridianClient client, ConsulHttpApiOptions options, TimeProvider clock, ILogger logger)
{
    public IMeridianClient Client => client;
    public ConsulHttpApiOptions Options => options;
    public TimeProvider Clock => clock;
    public ILogger Logger => logger;

    /// <summary>
    /// Maps <paramref name="pattern"/> for every HTTP method, so that Consul's answers for the others are ours:
    /// <c>OPTIONS</c> 200 with <c>Allow</c>, another method 405 <c>method PUT not allowed</c> with <c>Allow</c>.
    /// </summary>
    public void Route(IEndpointRouteBuilder routes, string pattern, params (string Method, Func<ConsulRequest, Task> Handler)[] handlers)
    {
        var allow = "OPTIONS," + string.Join(",", handlers.Select(h => h.Method));
        routes.Map(pattern, async context =>
        {
            var request = new ConsulRequest(context, this);
            context.Response.Headers["X-Consul-Default-ACL-Policy"] = options.DefaultAclPolicy;
            var method = context.Request.Method;
            if (HttpMethods.IsOptions(method))
            {
                context.Response.Headers.Allow = allow;
                return;
            }
            var handler = handlers.FirstOrDefault(h => h.Method == method).Handler;
            if (handler is null)
            {
                context.Response.Headers.Allow = allow;
                await request.TextAsync(405, $"method {method} not allowed");
                return;
            }
            try
            {
                await handler(request);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The caller went away (a blocking query's client gave up): nothing to answer.
            }
            catch (Exception e)
            {
                var (status, text) = ConsulErrors.Map(e);
                if (status == 500 && e is not Grains.MeridianException and not ConsulHttpException and not MeridianUnreachableException)
                    LogUnexpected(logger, method, context.Request.Path.Value ?? "", e);
                if (context.Response.HasStarted) return;
                context.Response.Clear();
                context.Response.Headers["X-Consul-Default-ACL-Policy"] = options.DefaultAclPolicy;
                await request.TextAsync(status, text);
            }
        });
    }

    [LoggerMessage(EventId = HttpApiEventIds.UnexpectedError, Level = LogLevel.Error,
        Message = "HTTP API {Method} {Path} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string method, string path, Exception error);
}

/// <summary>Event ids of the HTTP API (9000-9029; grains/Meridian.Grains/MeridianEventIds.cs keeps the ranges).</summary>
public static class HttpApiEventIds
{
    /// <summary>A request failed with an error that is not the datacenter's answer (a bug): logged with the exception.</summary>
    public const int UnexpectedError = 9000;
}

/// <summary>Maps Consul's HTTP API (<c>/v1/...</c>) onto <see cref="IMeridianClient"/>.</summary>
public static class ConsulHttpApiExtensions
{
    /// <summary>
    /// Serves Consul's HTTP API under <c>/v1/</c> through <paramref name="client"/> (each request with the caller's
    /// token when it sent one): a Consul client pointed here (<c>CONSUL_HTTP_ADDR</c>) works unchanged for the endpoints
    /// listed in the README ("Use your Consul tools"). Unknown <c>/v1/</c> paths answer Consul's 404.
    /// </summary>
    public static IEndpointRouteBuilder MapConsulHttpApi(this IEndpointRouteBuilder routes, IMeridianClient client, ConsulHttpApiOptions? options = null)
    {
        var services = routes.ServiceProvider;
        var api = new ConsulApi(client, options ?? new ConsulHttpApiOptions(),
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetRequiredService<ILoggerFactory>().CreateLogger("Meridian.HttpApi"));
        AgentEndpoints.Map(routes, api);
        ConnectEndpoints.Map(routes, api);
        IntentionEndpoints.Map(routes, api);
        ConfigEntryEndpoints.Map(routes, api);
        CatalogEndpoints.Map(routes, api);
        AclEndpoints.Map(routes, api);
        QueryEndpoints.Map(routes, api);
        routes.Map("/v1/{**rest}", async context =>
        {
            context.Response.StatusCode = 404;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("Invalid URL path: not a recognized HTTP API endpoint\n", context.RequestAborted);
        });
        return routes;
    }
}
