using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Meridian.Silo;

/// <summary>
/// The dashboard of a silo: the Orleans dashboard at <c>/dashboard</c> and the Meridian page. Section
/// <c>Meridian:Dashboard</c>. Users inspect a datacenter there, so it stays on; the two parts that reach further than
/// reading counters are off unless enabled here.
/// </summary>
public sealed class MeridianDashboardOptions
{
    public const string SectionName = "Meridian:Dashboard";

    /// <summary>Serve the dashboard at all (it profiles every grain call). Default: true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The dashboard's Log Stream (<c>/dashboard/Trace</c>, Orleans' <c>DashboardOptions.HideTrace</c>): every log line
    /// of the silo, to anyone who reaches the HTTP port. Default: false.
    /// </summary>
    public bool LogStream { get; set; }

    /// <summary>
    /// The dashboard's Grain Details (<c>/dashboard/GrainState</c>): it activates any grain by type and key and
    /// <em>invokes</em> each of its parameterless methods that returns its state type or is named <c>GetState</c>, from
    /// an HTTP request. Default: false (the request is answered 404).
    /// </summary>
    public bool GrainDetails { get; set; }
}

/// <summary>
/// Where and how the silo's HTTP port (dashboard, <c>/health</c>) listens: on <c>Meridian:Endpoints:Address</c> only,
/// and with TLS on, HTTPS with the <c>Meridian:Tls</c> files: with <c>VerifyIncoming</c> (Consul's
/// <c>verify_incoming</c>, which covers Consul's HTTPS API too) every connection needs a client certificate of
/// <c>CaFile</c>; without it the dashboard still does (only <c>/health</c> is open to a client without one).
/// https://developer.hashicorp.com/consul/docs/reference/agent/configuration-file/tls
/// </summary>
internal static class SiloHttpHost
{
    /// <summary>
    /// The problem of a silo bound to a non-loopback address without TLS (anyone on that network owns the mesh: issue 12),
    /// unless <c>Meridian:Tls:AllowInsecure</c>; null when there is none.
    /// </summary>
    public static string? InsecureBindProblem(EndpointOptions endpoints, TransportTlsOptions tls)
    {
        if (tls.Enabled || tls.AllowInsecure || !IPAddress.TryParse(endpoints.Address, out var address) || IPAddress.IsLoopback(address)) return null;
        const string P = TransportTlsOptions.SectionName + ":";
        return $"{EndpointOptions.SectionName}:Address {endpoints.Address} is not a loopback address and TLS is off: anyone who reaches it can call " +
            $"the datacenter. Set {P}CaFile, {P}CertFile and {P}KeyFile (see `meridian tls cert create --server`), or {P}AllowInsecure=true " +
            "to serve plaintext on this network anyway";
    }

    /// <summary>Binds Kestrel to the configured address and port, HTTPS when <paramref name="tls"/> is set.</summary>
    public static void Listen(WebApplicationBuilder builder, IPAddress address, int port, TransportTls? tls)
    {
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port, listen =>
        {
            if (tls is null) return;
            listen.UseHttps(https =>
            {
                // The current files on every handshake: replaced certificates are served without a restart (ReloadInterval).
                https.ServerCertificateSelector = (_, _) => tls.Material.Certificate;
                https.ClientCertificateMode = tls.VerifyIncoming ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate;
                // Only CaFile decides, never the system store (the same check as the Orleans links).
                https.ClientCertificateValidation = (certificate, chain, _) => tls.Material.Verify(certificate, chain, null);
            });
        }));
    }

    /// <summary>
    /// With TLS, everything but <c>/health</c> (the dashboard above all) answers only a client that presented a
    /// certificate, which Kestrel has already checked chains to <c>CaFile</c>; without TLS the port is plaintext on
    /// loopback (or on purpose, <c>AllowInsecure</c>). Grain Details answers 404 unless
    /// <see cref="MeridianDashboardOptions.GrainDetails"/>: Orleans' dashboard has no option of its own for it.
    /// </summary>
    /// <remarks>
    /// Both checks fail closed: the certificate check covers every path but one, so no spelling of a dashboard path
    /// escapes it, and Grain Details is recognised by the endpoint routing chose as well as by its path.
    /// </remarks>
    public static WebApplication GuardHttp(this WebApplication app, bool tls, MeridianDashboardOptions options)
    {
        app.Use(async (context, next) =>
        {
            if (tls && context.Connection.ClientCertificate is null && !IsProbe(context.Request.Path))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync("This HTTP port (the dashboard) requires a client certificate of Meridian:Tls:CaFile (curl --cert FILE --key FILE); only /health (and /health/live, /health/ready) is open without one.\n", context.RequestAborted);
                return;
            }
            if (!options.GrainDetails && IsGrainDetails(context))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await context.Response.WriteAsync($"Grain Details is off: set {MeridianDashboardOptions.SectionName}:GrainDetails=true to enable it.\n", context.RequestAborted);
                return;
            }
            await next(context);
        });
        return app;
    }

    /// <summary>The path of the health probe, open without a client certificate unless <c>VerifyIncoming</c>.</summary>
    public const string HealthPath = "/health";

    // /health, /health/live and /health/ready: what probes and load balancers read, open without a client certificate.
    private static bool IsProbe(PathString path)
        => path.Equals(HealthPath, StringComparison.OrdinalIgnoreCase) || path.Equals(SiloReadiness.LivePath, StringComparison.OrdinalIgnoreCase)
            || path.Equals(SiloReadiness.ReadyPath, StringComparison.OrdinalIgnoreCase);

    private static bool IsGrainDetails(HttpContext context)
    {
        const string GrainState = "GrainState";
        var pattern = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText?.TrimEnd('/') ?? "";
        return pattern.EndsWith("/" + GrainState, StringComparison.OrdinalIgnoreCase)
            || context.Request.Path.StartsWithSegments($"{MeridianDashboard.DashboardPrefix}/{GrainState}", StringComparison.OrdinalIgnoreCase);
    }
}
