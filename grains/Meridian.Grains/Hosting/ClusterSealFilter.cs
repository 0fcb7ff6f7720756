using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace Meridian.Grains.Hosting;

/// <summary>
/// Seals the cluster-internal surface (docs/grain-surfaces.md, issue 12 §1): a method classified
/// <see cref="Surface.ClusterInternal"/> is refused with <see cref="MeridianPermissionDeniedException"/> when a client of
/// the gateway calls it; nothing runs and nothing is written. Public and federation methods pass (<see cref="AclFilter"/>
/// authorizes them, docs/acl.md). Orleans' own management and memory-storage grains and the dashboard's grains count as cluster-internal.
/// </summary>
/// <remarks>
/// Who called, as Orleans 10.4 reports it in <see cref="IGrainCallContext.SourceId"/> (the message's sending grain):
/// a grain (its timers and reminders included) or a system target of the cluster: that grain's id; code in a silo
/// outside any grain (ASP.NET endpoints, hosted services, the dashboard) calls through the silo's hosted client,
/// <c>sys.client/hosted-&lt;silo address&gt;</c>; a client of a gateway: <c>sys.client/&lt;random id&gt;</c>.
/// NOTE: the gateway does not check that a message's sending id is the id the client connected with, so a client
/// that rewrites its Orleans runtime can claim a grain's or a hosted client's id. This filter closes the surface to
/// every ordinary client (the SDK, a plain <c>IClusterClient</c>); keeping unknown clients off the gateway at all is
/// the job of mutual TLS (issue 12 §2).
/// </remarks>
internal sealed partial class ClusterSealFilter(ILogger<ClusterSealFilter> logger) : IIncomingGrainCallFilter
{
    private const string HostedClientPrefix = "hosted-";

    // Per interface method, resolved once: this runs on every call, authorize included, so the steady state is one
    // dictionary lookup (no attribute reflection).
    private static readonly ConcurrentDictionary<MethodInfo, Surface> Surfaces = new();

    private static readonly Assembly Contracts = typeof(Surface).Assembly;

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod is { } method
            && Surfaces.GetOrAdd(method, SurfaceOf) == Surface.ClusterInternal
            && IsGatewayClient(context.SourceId))
        {
            var operation = $"{method.DeclaringType?.Name ?? context.InterfaceName}.{method.Name}";
            LogRefused(logger, operation, context.SourceId?.ToString() ?? "unknown");
            throw new MeridianPermissionDeniedException(
                $"{operation} is internal to the datacenter: only its own silos may call it, not a client of its gateway; nothing was done");
        }
        return context.Invoke();
    }

    /// <summary>
    /// How the seal treats a method: Meridian contracts by their <see cref="GrainSurfaceAttribute"/> (an unclassified
    /// one as cluster-internal: never public by accident); Orleans' grains that read or change the cluster's state as
    /// cluster-internal; anything else (Orleans' system targets a client needs, other applications' grains) as public.
    /// </summary>
    internal static Surface SurfaceOf(MethodInfo interfaceMethod) => SurfaceOf(interfaceMethod, Contracts);

    /// <summary><see cref="SurfaceOf(MethodInfo)"/> with the assembly of Meridian's contracts given (tests).</summary>
    internal static Surface SurfaceOf(MethodInfo interfaceMethod, Assembly contracts)
    {
        var type = interfaceMethod.DeclaringType;
        if (type is null) return Surface.ClusterInternal;
        if (type.Assembly == contracts)
            return GrainSurfaceAttribute.Of(interfaceMethod) is var surface && surface != Surface.Unclassified ? surface : Surface.ClusterInternal;
        if (type == typeof(IManagementGrain) || type == typeof(IVersionManager) || type == typeof(IMemoryStorageGrain)
            || type.Namespace?.StartsWith("Orleans.Dashboard", StringComparison.Ordinal) == true)
            return Surface.ClusterInternal;
        return Surface.Public;
    }

    /// <summary>True unless the caller is a grain or system target of this cluster or a silo's own hosted client.</summary>
    internal static bool IsGatewayClient(GrainId? source) =>
        source is not { } id
        || (id.IsClient() && !id.Key.ToString().StartsWith(HostedClientPrefix, StringComparison.Ordinal));

    [LoggerMessage(EventId = MeridianEventIds.ClusterInternalCallRefused, Level = LogLevel.Warning,
        Message = "Refused {Operation} from gateway client {Caller}: the method is internal to the datacenter")]
    private static partial void LogRefused(ILogger logger, string operation, string caller);
}
