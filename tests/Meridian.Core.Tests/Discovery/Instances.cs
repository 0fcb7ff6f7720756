using System.Collections.Immutable;
using Meridian.Core.Discovery;

namespace Meridian.Core.Tests.Discovery;

/// <summary>Builders for catalog instances in discovery tests.</summary>
internal static class Instances
{
    public static ImmutableDictionary<string, string> Map(params (string Key, string Value)[] pairs) =>
        pairs.ToImmutableDictionary(p => p.Key, p => p.Value);

    public static ServiceInstance Of(
        string id, string service = "web", string[]? tags = null, HealthStatus[]? checks = null, string kind = ServiceKinds.Typical,
        string destination = "", bool native = false, ImmutableDictionary<string, string>? nodeMeta = null,
        ImmutableDictionary<string, string>? serviceMeta = null, string dc = "dc1")
    {
        var node = new CatalogNode($"node-{id}", "10.0.0.1", dc, Map(), nodeMeta ?? Map());
        var svc = new CatalogService(id, service, [.. tags ?? []], "", ImmutableDictionary<string, ServiceAddress>.Empty, 8080,
            serviceMeta ?? Map(), kind, kind == ServiceKinds.ConnectProxy ? new ProxySettings(destination, "", "", 0, []) : null, native);
        var cs = (checks ?? []).Select((s, i) => new CatalogCheck(node.Name, $"check-{i}", $"check {i}", s, id, service)).ToImmutableArray();
        return new ServiceInstance(node, svc, cs);
    }
}
