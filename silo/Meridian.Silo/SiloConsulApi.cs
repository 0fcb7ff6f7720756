using Meridian.Client;
using Meridian.Grains;
using Meridian.HttpApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Meridian.Silo;

/// <summary>
/// Consul's HTTP API (<c>/v1/...</c>) on the silo's HTTP port, through an SDK client over the silo's own grain factory.
/// With ACLs on, every call it makes carries the caller's token and is marked as entering from outside
/// (<see cref="CallerToken.MarkExternal"/>), so the grains check it exactly as they check the CLI's (docs/acl.md).
/// </summary>
internal static class SiloConsulApi
{
    public static WebApplication MapSiloConsulApi(this WebApplication app, SiloConfiguration settings)
    {
        var datacenter = settings.Meridian.Datacenter;
        var client = new MeridianClient(app.Services.GetRequiredService<IClusterClient>(),
            Options.Create(new MeridianClientOptions { Datacenter = datacenter }));
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/v1"), branch => branch.Use(next => context =>
        {
            CallerToken.MarkExternal();
            return next(context);
        }));
        app.MapConsulHttpApi(client, new ConsulHttpApiOptions
        {
            Server = true,
            NodeAddress = settings.Addresses.Advertise.ToString(),
            LeaderAddress = $"{settings.Addresses.Advertise}:{settings.Endpoints.SiloPort}",
            DefaultAclPolicy = settings.Acl.Enabled ? settings.Acl.DefaultPolicy.ToString().ToLowerInvariant() : "allow",
        });
        return app;
    }
}
