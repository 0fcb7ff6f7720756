using System.Text.RegularExpressions;
using Meridian.Grains;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meridian.Silo;

/// <summary>
/// <c>/health</c>: <c>healthy</c> (200) or <c>degraded</c> (503) with the reason, for load balancers and probes. The
/// reason never carries an internal exception's type, message or stack: those go to the silo log (and to
/// <c>meridian status</c>, which needs the gateway and its TLS).
/// </summary>
internal static partial class SiloHealth
{
    /// <summary>The answer of <c>/health</c>.</summary>
    public sealed record Report(string Status, string Reason, string Datacenter, string PrimaryDatacenter, string Role, string CaState);

    public static async Task<IResult> ReadAsync(IGrainFactory grains, IOptions<MeridianOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        var meridian = options.Value;
        Report report;
        try
        {
            var status = await grains.GetGrain<IDatacenterGrain>(meridian.Datacenter).GetStatusAsync(ct);
            report = new Report(status.Degraded.Length == 0 ? "healthy" : "degraded", PublicReason(status.Degraded),
                status.Datacenter, status.PrimaryDatacenter, status.Role, status.Ca.State);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Before: the exception left the endpoint, a 500 without a reason (and the whole stack in Development).
            LogStatusFailed(loggers.CreateLogger(typeof(SiloHealth).FullName!), meridian.Datacenter, e);
            report = new Report("degraded", $"the status of datacenter {meridian.Datacenter} could not be read; the silo log has the error (event {MeridianEventIds.HealthStatusFailed})",
                meridian.Datacenter, meridian.PrimaryDatacenter, meridian.Datacenter == meridian.PrimaryDatacenter ? "primary" : "secondary", "");
        }
        return Results.Json(report, statusCode: report.Status == "healthy" ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// <paramref name="degraded"/> without the exceptions quoted in it: an unexpected failure inside the datacenter
    /// reaches status as <c>Operation failed (TypeName): message</c> (<see cref="MeridianErrors.Translate"/>); what it
    /// says there is for operators, not for whoever can reach the HTTP port.
    /// </summary>
    internal static string PublicReason(string degraded) => QuotedException().Replace(degraded, "failed (see the silo log)");

    // "failed (XyzException): anything up to the next reason" (reasons are joined with "; ").
    [GeneratedRegex(@"failed \([A-Za-z0-9_.`]*Exception\): [^;]*")]
    private static partial Regex QuotedException();

    [LoggerMessage(EventId = MeridianEventIds.HealthStatusFailed, Level = LogLevel.Warning,
        Message = "/health could not read the status of datacenter {Datacenter}; it answered degraded")]
    internal static partial void LogStatusFailed(ILogger logger, string datacenter, Exception exception);
}
