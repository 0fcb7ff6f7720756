using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Meridian.Grains;
using Meridian.Grains.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Silo;

/// <summary>
/// What Meridian adds to the Orleans dashboard: a read-only Meridian page naming the datacenter (role, primary, trust
/// domain, intentions, replication, CA, certificates), a link to it and to Grain Details deep links inside the
/// dashboard, and a Log Stream that reaches the browser.
/// </summary>
/// <remarks>
/// Every value shown comes from <see cref="IDatacenterGrain.GetState"/>, which is built only from DTOs without private
/// keys. The page reads the grains once per request (and reloads itself at most every 30 s): the dashboard already
/// profiles every grain call, so nothing here polls in a loop.
/// </remarks>
public static class MeridianDashboard
{
    /// <summary>Where the Orleans dashboard is mapped.</summary>
    public const string DashboardPrefix = "/dashboard";

    /// <summary>The Meridian page, inside the dashboard's path so the dashboard's own link is relative.</summary>
    public const string PagePath = DashboardPrefix + "/meridian";

    /// <summary>The same data as the page, as JSON.</summary>
    public const string JsonPath = PagePath + "/overview";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>
    /// Maps the Meridian page and its JSON, and adds the link and Log Stream fixes to the dashboard. The page links to
    /// Grain Details only when <paramref name="grainDetails"/> (<c>Meridian:Dashboard:GrainDetails</c>).
    /// </summary>
    public static WebApplication MapMeridianDashboard(this WebApplication app, bool grainDetails)
    {
        app.Use(DashboardFixes);
        app.MapGet(PagePath, async (IGrainFactory grains, DatacenterContext datacenter) =>
            Results.Content(MeridianPage.Render(await ReadAsync(grains, datacenter), grainDetails), "text/html; charset=utf-8"));
        app.MapGet(JsonPath, async (IGrainFactory grains, DatacenterContext datacenter) =>
            Results.Json(await ReadAsync(grains, datacenter), Json));
        return app;
    }

    private static Task<DatacenterOverviewDto> ReadAsync(IGrainFactory grains, DatacenterContext datacenter)
        => grains.GetGrain<IDatacenterGrain>(datacenter.Datacenter).GetState();

    private static async Task DashboardFixes(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path.Value ?? "";
        if (path == DashboardPrefix + "/Trace")
        {
            // The dashboard streams its log without a Content-Type, so Chromium holds the first 1024 bytes back to
            // sniff the type: with Orleans at Warning the banner alone is shorter, and Log Stream stayed at
            // "Connecting..." until enough log lines arrived. A declared type (and nosniff) lets each chunk through.
            context.Response.OnStarting(() =>
            {
                if (string.IsNullOrEmpty(context.Response.ContentType)) context.Response.ContentType = "text/plain; charset=utf-8";
                context.Response.Headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            });
            await next(context);
            return;
        }
        if (path is not (DashboardPrefix + "/" or DashboardPrefix + "/index.html"))
        {
            await next(context);
            return;
        }
        // The dashboard's page is an embedded SPA we cannot change: add the Meridian link (naming the datacenter) to
        // its HTML. Ask for it uncompressed and unconditionally so there is a body to add to.
        context.Request.Headers.AcceptEncoding = "identity";
        context.Request.Headers.IfNoneMatch = default;
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }
        var html = Encoding.UTF8.GetString(buffer.ToArray());
        if (context.Response.StatusCode == StatusCodes.Status200OK && html.Contains("</body>", StringComparison.Ordinal))
        {
            var datacenter = context.RequestServices.GetRequiredService<DatacenterContext>();
            html = html.Replace("</body>", DashboardAddOn(datacenter) + "</body>", StringComparison.Ordinal);
            context.Response.Headers.ETag = default;
        }
        var bytes = Encoding.UTF8.GetBytes(html);
        context.Response.ContentLength = bytes.Length;
        await original.WriteAsync(bytes, context.RequestAborted);
    }

    // A fixed link outside the SPA's root (React re-renders its own nodes) and a deep link for Grain Details:
    // `?grainType=T&grainId=K#/grainDetails` fills the form and shows the state, so the Meridian page can link to it.
    private static string DashboardAddOn(DatacenterContext datacenter)
    {
        var label = WebUtility.HtmlEncode(datacenter.IsPrimary
            ? $"Meridian {datacenter.Datacenter} (primary)"
            : $"Meridian {datacenter.Datacenter} (secondary of {datacenter.PrimaryDatacenter})");
        return $$"""
            <a id="meridian-link" href="meridian" style="position:fixed;right:16px;bottom:16px;z-index:2000;padding:8px 14px;border-radius:6px;background:#1f6feb;color:#fff !important;font:600 14px sans-serif;text-decoration:none;box-shadow:0 2px 6px rgba(0,0,0,.3)">{{label}}: datacenter, CA, replication &rarr;</a>
            <script>
            (function () {
              document.title = document.getElementById('meridian-link').textContent.split(':')[0] + ' - Orleans Dashboard';
              var q = new URLSearchParams(location.search), type = q.get('grainType'), id = q.get('grainId');
              if (!type || !id) return;
              function set(el, proto, value, event) {
                Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
                el.dispatchEvent(new Event(event, { bubbles: true }));
              }
              var tries = 0, timer = setInterval(function () {
                var select = document.querySelector('#content select'), input = document.querySelector('#content input[placeholder="Grain Id"]');
                var button = document.querySelector('#content input[value="Show Details"]');
                if (++tries > 100) clearInterval(timer);
                if (!select || !input || !button || !select.querySelector('option[value="' + CSS.escape(type) + '"]')) return;
                clearInterval(timer);
                set(select, HTMLSelectElement.prototype, type, 'change');
                set(input, HTMLInputElement.prototype, id, 'input');
                setTimeout(function () { button.click(); }, 0);
              }, 100);
            })();
            </script>
            """;
    }

    /// <summary>The dashboard URL (relative to the Meridian page) that shows <paramref name="grainType"/>'s state for <paramref name="key"/>.</summary>
    internal static string GrainDetailsLink(string grainType, string key)
        => $"./?grainType={Uri.EscapeDataString(grainType)}&grainId={Uri.EscapeDataString(key)}#/grainDetails";

    internal static string Time(DateTimeOffset? value)
        => value is not { } t || t == DateTimeOffset.MinValue ? "never" : t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
