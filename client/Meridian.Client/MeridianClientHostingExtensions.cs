using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Meridian.Client;

/// <summary>Registers the Meridian SDK.</summary>
public static class MeridianClientHostingExtensions
{
    /// <summary>
    /// Adds an Orleans client for one Meridian datacenter and <see cref="IMeridianClient"/>. Options come from
    /// <c>Meridian:Client</c> and then <paramref name="configure"/>. The host's start fails with
    /// <see cref="MeridianUnreachableException"/> naming the gateways when none answers within
    /// <see cref="MeridianClientOptions.ConnectTimeout"/>.
    /// </summary>
    public static IHostApplicationBuilder AddMeridianClient(this IHostApplicationBuilder builder, Action<MeridianClientOptions>? configure = null)
    {
        var options = new MeridianClientOptions();
        builder.Configuration.GetSection(MeridianClientOptions.SectionName).Bind(options);
        configure?.Invoke(options);
        var gateways = options.ParseGateways();

        builder.Services.AddSingleton(Options.Create(options));
        builder.Services.AddSingleton<IMeridianClient, MeridianClient>();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = options.ServiceId;
                o.ClusterId = options.EffectiveClusterId;
            });
            client.UseStaticClustering(gateways);
            var deadline = DateTimeOffset.MinValue;
            client.UseConnectionRetryFilter(async (exception, ct) =>
            {
                var now = TimeProvider.System.GetUtcNow();
                if (deadline == DateTimeOffset.MinValue) deadline = now + options.ConnectTimeout;
                if (now >= deadline)
                {
                    throw new MeridianUnreachableException(
                        $"cannot reach datacenter {options.Datacenter} at gateway {string.Join(", ", options.Gateways)}: {exception.Message}",
                        exception);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
                return true;
            });
        });
        return builder;
    }
}
