using Meridian.Grains;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meridian.Silo;

/// <summary>
/// Liveness and readiness of a silo, apart (as Kubernetes and container health checks need them):
/// <c>/health/live</c> answers 200 while the process serves HTTP and is not stopping, whatever the datacenter's state,
/// so a restart is never the answer to a primary that is down; <c>/health/ready</c> answers 200 only when the silo can
/// do its job: the CA is initialised and, in a secondary, every replication has applied a first round from the primary
/// and none is held for the operator (<c>meridian replication adopt</c>). <c>/health</c> stays the datacenter's
/// health (<see cref="SiloHealth"/>).
/// </summary>
public static class SiloReadiness
{
    /// <summary>The liveness path.</summary>
    public const string LivePath = "/health/live";

    /// <summary>The readiness path.</summary>
    public const string ReadyPath = "/health/ready";

    /// <summary>Why a datacenter with <paramref name="status"/> is not ready, or null when it is.</summary>
    public static string? NotReadyReason(DatacenterStatusDto status)
    {
        List<string> reasons = [];
        if (string.IsNullOrEmpty(status.Ca.ActiveRootID))
            reasons.Add($"the CA of {status.Datacenter} is not initialised (state {status.Ca.State})");
        foreach (var r in status.ReplicationStatuses().Where(r => r.Enabled))
        {
            if (r.Held is { } held)
                reasons.Add($"{r.ReplicationType} replication is held ({held.Summary}): review it with `meridian replication status` and apply it with `meridian replication adopt`");
            else if (r.LastSuccess == default || r.LastSuccess == DateTimeOffset.MinValue)
                reasons.Add($"{r.ReplicationType} replication from {r.SourceDatacenter} has not completed its first round");
        }
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    /// <summary>The answer of <c>/health/ready</c> and <c>/health/live</c>.</summary>
    public sealed record Report(string Status, string Reason, string Datacenter);

    internal static IResult Live(IHostApplicationLifetime lifetime, IOptions<MeridianOptions> options)
        => lifetime.ApplicationStopping.IsCancellationRequested
            ? Results.Json(new Report("stopping", "the silo is shutting down", options.Value.Datacenter), statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Json(new Report("alive", "", options.Value.Datacenter));

    internal static async Task<IResult> ReadyAsync(IGrainFactory grains, IHostApplicationLifetime lifetime, IOptions<MeridianOptions> options,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var dc = options.Value.Datacenter;
        // A stopping silo drains: load balancers stop sending it work before its gateway closes.
        if (lifetime.ApplicationStopping.IsCancellationRequested) return NotReady("the silo is shutting down");
        DatacenterStatusDto status;
        try
        {
            status = await grains.GetGrain<IDatacenterGrain>(dc).GetStatusAsync(ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            SiloHealth.LogStatusFailed(loggers.CreateLogger(typeof(SiloHealth).FullName!), dc, e);
            return NotReady($"the status of datacenter {dc} could not be read; the silo log has the error (event {MeridianEventIds.HealthStatusFailed})");
        }
        return NotReadyReason(status) is { } reason ? NotReady(SiloHealth.PublicReason(reason)) : Results.Json(new Report("ready", "", dc));

        IResult NotReady(string why) => Results.Json(new Report("not-ready", why, dc), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
