using System.Collections.Immutable;

namespace Meridian.Core.Discovery;

/// <summary>
/// Where a prepared query fails over to, and the execution that walks it (Consul's <c>queryFailover</c> and
/// <c>Execute</c> in <c>agent/consul/prepared_query_endpoint.go</c>;
/// https://developer.hashicorp.com/consul/api-docs/query#failover).
/// </summary>
public static class QueryFailoverPlan
{
    /// <summary>
    /// The datacenters to try, in order, after the local one answered with no instance: the first
    /// <see cref="QueryFailover.NearestN"/> of <paramref name="nearest"/> (other datacenters, nearest first; the local
    /// one is removed if present), then each of <see cref="QueryFailover.Datacenters"/> (or the datacenter
    /// <see cref="QueryFailover.Targets"/>) in order, leaving out datacenters not in <paramref name="known"/> (reported
    /// in <see cref="FailoverCandidates.Unknown"/>, for Consul's log line <c>Skipping unknown datacenter in prepared
    /// query</c>) and datacenters already chosen. Peer targets are not supported and are left out.
    /// </summary>
    /// <remarks>
    /// The local datacenter counts as already chosen, so naming it in <c>Datacenters</c> does not query it twice
    /// (Consul would run it again as a remote query).
    /// </remarks>
    public static FailoverCandidates Plan(string localDatacenter, IReadOnlyList<string> nearest, IReadOnlySet<string> known, QueryFailover failover)
    {
        var chosen = new HashSet<string>(StringComparer.Ordinal) { localDatacenter };
        var order = ImmutableArray.CreateBuilder<string>();
        var unknown = ImmutableArray.CreateBuilder<string>();
        foreach (var dc in nearest.Where(d => d != localDatacenter).Take(Math.Max(0, failover.NearestN)))
            if (chosen.Add(dc)) order.Add(dc);
        var listed = !failover.Targets.IsDefaultOrEmpty
            ? failover.Targets.Select(t => t.Datacenter).Where(d => d.Length > 0)
            : failover.Datacenters.IsDefault ? [] : failover.Datacenters.AsEnumerable();
        foreach (var dc in listed)
        {
            if (!known.Contains(dc))
            {
                unknown.Add(dc);
                continue;
            }
            if (chosen.Add(dc)) order.Add(dc);
        }
        return new(order.ToImmutable(), unknown.ToImmutable());
    }

    /// <summary>
    /// Executes <paramref name="query"/> (rendered): <paramref name="fetch"/> in <paramref name="localDatacenter"/>;
    /// only if that answers no instance, each candidate of <see cref="Plan"/> in order until one answers at least one
    /// instance. A candidate whose fetch throws is skipped (recorded in <see cref="QueryExecution.Errors"/>). The fetch
    /// of a candidate must not fail over again (one level only, as Consul's <c>ExecuteRemote</c>); it applies
    /// <see cref="QueryResultFilter"/>, the shuffle and the limit in its datacenter. An error of the local fetch is
    /// not caught: the query fails, as Consul's.
    /// </summary>
    /// <returns>
    /// The answer: <see cref="PreparedQueryAnswer.Datacenter"/> is the last datacenter that answered (the local one
    /// when every candidate failed), <see cref="PreparedQueryAnswer.Failovers"/> the number of candidates tried.
    /// </returns>
    public static async Task<QueryExecution> ExecuteAsync(
        PreparedQuery query,
        string localDatacenter,
        IReadOnlyList<string> nearest,
        IReadOnlySet<string> known,
        Func<string, CancellationToken, Task<IReadOnlyList<ServiceInstance>>> fetch,
        CancellationToken ct = default)
    {
        var nodes = await fetch(localDatacenter, ct);
        var answeredBy = localDatacenter;
        var plan = new FailoverCandidates([], []);
        var errors = ImmutableArray.CreateBuilder<FailoverError>();
        var failovers = 0;
        if (nodes.Count == 0 && HasFailover(query.Service.Failover))
        {
            plan = Plan(localDatacenter, nearest, known, query.Service.Failover);
            foreach (var dc in plan.Datacenters)
            {
                ct.ThrowIfCancellationRequested();
                failovers++;
                try
                {
                    nodes = await fetch(dc, ct);
                    answeredBy = dc;
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    errors.Add(new(dc, e));
                    nodes = [];
                    continue;
                }
                if (nodes.Count > 0) break;
            }
        }
        var answer = new PreparedQueryAnswer(query.Service.Service, [.. nodes], query.Dns, answeredBy, failovers);
        return new(answer, plan.Unknown, errors.ToImmutable());
    }

    /// <summary>True when the query names anywhere to fail over to (Consul's <c>HasFailover</c>).</summary>
    public static bool HasFailover(QueryFailover f) =>
        f.NearestN > 0 || !f.Datacenters.IsDefaultOrEmpty || !f.Targets.IsDefaultOrEmpty;
}

/// <summary>The failover order, and the listed datacenters skipped as unknown.</summary>
public sealed record FailoverCandidates(ImmutableArray<string> Datacenters, ImmutableArray<string> Unknown);

/// <summary>A failover candidate whose fetch failed (logged by the caller; the next candidate is tried).</summary>
public sealed record FailoverError(string Datacenter, Exception Error);

/// <summary>
/// Consul's execute answer (<c>PreparedQueryExecuteResponse</c>): <c>Service</c>, <c>Nodes</c>, <c>DNS</c>,
/// <c>Datacenter</c> (the one that answered), <c>Failovers</c> (candidates tried).
/// </summary>
public sealed record PreparedQueryAnswer(string Service, ImmutableArray<ServiceInstance> Nodes, QueryDns Dns, string Datacenter, int Failovers);

/// <summary>An execution: the answer, plus what the caller logs (unknown datacenters skipped, candidates that failed).</summary>
public sealed record QueryExecution(PreparedQueryAnswer Answer, ImmutableArray<string> UnknownDatacenters, ImmutableArray<FailoverError> Errors);
