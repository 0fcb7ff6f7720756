using Microsoft.Extensions.Logging;

namespace Meridian.Proxy;

public sealed partial class ConnectProxy
{
    [LoggerMessage(EventId = ProxyEventIds.Ready, Level = LogLevel.Information,
        Message = "Proxy for {Service} ready: public listener {Listen} -> {LocalApp}; upstreams: {Upstreams}")]
    private static partial void LogReady(ILogger logger, string service, string listen, string localApp, string upstreams);

    [LoggerMessage(EventId = ProxyEventIds.InboundRefused, Level = LogLevel.Warning,
        Message = "Proxy for {Service} refused a connection from {Remote}: {Reason}")]
    private static partial void LogInboundRefused(ILogger logger, string service, string remote, string reason);

    [LoggerMessage(EventId = ProxyEventIds.UpstreamRefused, Level = LogLevel.Warning,
        Message = "Proxy for {Service} refused upstream {Upstream} at {Endpoint}: {Reason}")]
    private static partial void LogUpstreamRefused(ILogger logger, string service, string upstream, string endpoint, string reason);

    [LoggerMessage(EventId = ProxyEventIds.UpstreamDialFailed, Level = LogLevel.Warning,
        Message = "Proxy for {Service} could not connect to upstream {Upstream} at {Endpoint}: {Error}; trying another instance")]
    private static partial void LogDialFailed(ILogger logger, string service, string upstream, string endpoint, string error);

    [LoggerMessage(EventId = ProxyEventIds.UpstreamNoEndpoints, Level = LogLevel.Warning,
        Message = "Proxy for {Service} dropped a connection to upstream {Upstream}: {Reason}")]
    private static partial void LogNoEndpoints(ILogger logger, string service, string upstream, string reason);

    [LoggerMessage(EventId = ProxyEventIds.Registered, Level = LogLevel.Information,
        Message = "Proxy for {Service} registered as {ProxyId} on node {Node} at {Address}")]
    private static partial void LogRegistered(ILogger logger, string service, string proxyId, string node, string address);

    [LoggerMessage(EventId = ProxyEventIds.Deregistered, Level = LogLevel.Information,
        Message = "Proxy for {Service} deregistered {ProxyId}")]
    private static partial void LogDeregistered(ILogger logger, string service, string proxyId);

    [LoggerMessage(EventId = ProxyEventIds.HeartbeatFailed, Level = LogLevel.Warning,
        Message = "Proxy for {Service} could not update {CheckId} (attempt {Attempt}): {Error}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string service, string checkId, int attempt, string error);

    [LoggerMessage(EventId = ProxyEventIds.Draining, Level = LogLevel.Information,
        Message = "Proxy for {Service} draining: stopped accepting, {Open} connection(s) open, up to {TimeoutSeconds} s to finish")]
    private static partial void LogDraining(ILogger logger, string service, int open, double timeoutSeconds);

    [LoggerMessage(EventId = ProxyEventIds.DrainTimedOut, Level = LogLevel.Warning,
        Message = "Proxy for {Service} closed {Open} connection(s) still open at the drain deadline")]
    private static partial void LogDrainTimedOut(ILogger logger, string service, int open);

    [LoggerMessage(EventId = ProxyEventIds.LocalAppUnreachable, Level = LogLevel.Warning,
        Message = "Proxy for {Service} could not reach the local application at {LocalApp} for {Remote}: {Error}")]
    private static partial void LogLocalAppUnreachable(ILogger logger, string service, string localApp, string remote, string error);

    [LoggerMessage(EventId = ProxyEventIds.ConnectionFailed, Level = LogLevel.Debug,
        Message = "Proxy for {Service}: {Direction} connection from {Remote} ended with an error: {Error}")]
    private static partial void LogConnectionFailed(ILogger logger, string service, string direction, string remote, string error);
}
