using System.Collections.Immutable;

namespace Meridian.Core.Discovery;

/// <summary>
/// Which instances a prepared query answers with (Consul's <c>execute</c> in
/// <c>agent/consul/prepared_query_endpoint.go</c>): health, node and service meta, tags, Connect; then a shuffle and the
/// limit. The same rules run in every datacenter a query is executed in (the local one and each failover target).
/// </summary>
public static class QueryResultFilter
{
    /// <summary>
    /// The instances of <paramref name="instances"/> that <paramref name="query"/> (already rendered, see
    /// <see cref="PreparedQueryRules.Render"/>) answers with, in their order:
    /// <list type="bullet">
    /// <item>Connect: sidecar proxies (<c>connect-proxy</c>) whose destination is the service, and Connect-native
    /// instances of it; otherwise every instance registered under the service's name.</item>
    /// <item>Health: an instance with any <c>critical</c> check is dropped; with <see cref="ServiceQuery.OnlyPassing"/>
    /// any check other than <c>passing</c> drops it; checks in <see cref="ServiceQuery.IgnoreCheckIds"/> are not
    /// looked at. Node checks count (they are among the instance's checks).</item>
    /// <item>Every <see cref="ServiceQuery.NodeMeta"/> and <see cref="ServiceQuery.ServiceMeta"/> pair must be present
    /// with that value.</item>
    /// <item>Every tag must be present and no <c>!tag</c> may be, compared case-insensitively.</item>
    /// </list>
    /// </summary>
    public static ImmutableArray<ServiceInstance> Filter(IEnumerable<ServiceInstance> instances, ServiceQuery query)
    {
        var ignored = query.IgnoreCheckIds.IsDefault ? [] : query.IgnoreCheckIds.ToHashSet(StringComparer.Ordinal);
        var must = new List<string>();
        var not = new List<string>();
        foreach (var tag in query.Tags.IsDefault ? [] : query.Tags)
        {
            var t = tag.ToLowerInvariant();
            if (t.StartsWith('!')) not.Add(t[1..]);
            else must.Add(t);
        }
        var result = ImmutableArray.CreateBuilder<ServiceInstance>();
        foreach (var i in instances)
        {
            if (!Selected(i.Service, query)) continue;
            if (!Healthy(i.Checks, query.OnlyPassing, ignored)) continue;
            if (!Satisfies(i.Node.Meta, query.NodeMeta) || !Satisfies(i.Service.Meta, query.ServiceMeta)) continue;
            if (must.Count + not.Count > 0)
            {
                var tags = (i.Service.Tags.IsDefault ? [] : i.Service.Tags).Select(t => t.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
                if (!must.All(tags.Contains) || not.Any(tags.Contains)) continue;
            }
            result.Add(i);
        }
        return result.ToImmutable();
    }

    /// <summary>Consul's <c>CheckServiceNodes.FilterIgnore</c>: false when a non-ignored check is critical, or not passing when <paramref name="onlyPassing"/>.</summary>
    public static bool Healthy(IEnumerable<CatalogCheck> checks, bool onlyPassing, IReadOnlySet<string> ignoredCheckIds) =>
        checks.All(c => ignoredCheckIds.Contains(c.CheckId)
            || (c.Status != HealthStatus.Critical && (!onlyPassing || c.Status == HealthStatus.Passing)));

    /// <summary>
    /// <paramref name="instances"/> in a random order drawn from <paramref name="random"/> (Consul shuffles so that
    /// load spreads over the instances), then at most <paramref name="limit"/> of them (0 or less: all).
    /// </summary>
    public static ImmutableArray<ServiceInstance> ShuffleAndLimit(IEnumerable<ServiceInstance> instances, Random random, int limit = 0)
    {
        var array = instances.ToArray();
        random.Shuffle(array);
        return limit > 0 && array.Length > limit ? [.. array.AsSpan(0, limit)] : [.. array];
    }

    private static bool Selected(CatalogService s, ServiceQuery q) => q.Connect
        ? (s.Kind == ServiceKinds.ConnectProxy && s.Proxy?.DestinationServiceName == q.Service) || (s.ConnectNative && s.Name == q.Service && s.Kind == ServiceKinds.Typical)
        : s.Name == q.Service;

    // Consul's SatisfiesMetaFilters: every filter pair present with the same value.
    private static bool Satisfies(ImmutableDictionary<string, string>? meta, ImmutableDictionary<string, string> filters) =>
        filters.IsEmpty || filters.All(f => meta is not null && meta.TryGetValue(f.Key, out var v) && v == f.Value);
}
