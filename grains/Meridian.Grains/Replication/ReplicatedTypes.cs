using System.Collections.Immutable;

namespace Meridian.Grains.Replication;

/// <summary>
/// One loop a secondary runs against its primary, as start-up, <see cref="DatacenterGrain"/> (status, adopt) call
/// it: its name (the status' <c>ReplicationType</c>) and its grain's three calls, keyed by the secondary's name.
/// </summary>
/// <param name="Name">What it follows: <c>intentions</c>, <c>ca-roots</c>.</param>
/// <param name="EnsureRunning">Starts the loop if it is not running (idempotent).</param>
/// <param name="GetStatus">The loop's status.</param>
/// <param name="Adopt">Applies the round held for the operator; null when nothing can be held (the CA root watch).</param>
public sealed record ReplicatorRef(
    string Name,
    Func<IGrainFactory, string, CancellationToken, Task> EnsureRunning,
    Func<IGrainFactory, string, CancellationToken, Task<ReplicationStatusDto>> GetStatus,
    Func<IGrainFactory, string, CancellationToken, Task<ReplicationAdoptResultDto>>? Adopt)
{
    /// <summary>The replicator whose grain is <typeparamref name="TGrain"/>, keyed by the secondary's name.</summary>
    public static ReplicatorRef Of<TGrain>(string name, Func<TGrain, CancellationToken, Task> ensureRunning,
        Func<TGrain, CancellationToken, Task<ReplicationStatusDto>> getStatus, Func<TGrain, CancellationToken, Task<ReplicationAdoptResultDto>>? adopt)
        where TGrain : IGrainWithStringKey
        => new(name,
            (g, dc, ct) => ensureRunning(g.GetGrain<TGrain>(dc), ct),
            (g, dc, ct) => getStatus(g.GetGrain<TGrain>(dc), ct),
            adopt is null ? null : (g, dc, ct) => adopt(g.GetGrain<TGrain>(dc), ct));
}

/// <summary>
/// The one list of what a secondary replicates from its primary. Start-up (<see cref="Hosting.FederationStarter"/>),
/// <see cref="DatacenterGrain"/>'s status and <c>meridian replication adopt</c>, and through the status the SDK, the
/// CLI and the dashboard, enumerate it rather than naming each replicator: a new replicated type is one line here
/// (ACL policies, roles and tokens: <see cref="Acl"/>) plus its adapter.
/// </summary>
public static class ReplicatedTypes
{
    /// <summary>The name of replicated intentions.</summary>
    public const string Intentions = "intentions";

    /// <summary>The name of replicated ACL policies, roles and non-local tokens.</summary>
    public const string Acl = "acl";

    /// <summary>The name of the replicated datacenter list (gateways and WAN addresses).</summary>
    public const string Datacenters = "datacenters";

    /// <summary>The name of the CA root watch.</summary>
    public const string CaRoots = "ca-roots";

    /// <summary>
    /// Every replicated store, in status order; each can hold a round for the operator (ReplicationHoldRule) and
    /// <c>meridian replication adopt</c> applies it. ACL replication runs only where ACLs are enabled (elsewhere its
    /// status says disabled and adopt has nothing to do).
    /// </summary>
    public static ImmutableArray<ReplicatorRef> Types { get; } =
    [
        ReplicatorRef.Of<IIntentionReplicatorGrain>(Intentions, (g, ct) => g.EnsureRunningAsync(ct), (g, ct) => g.GetStatusAsync(ct), (g, ct) => g.AdoptAsync(ct)),
        ReplicatorRef.Of<IAclReplicatorGrain>(Acl, (g, ct) => g.EnsureRunningAsync(ct), (g, ct) => g.GetStatusAsync(ct), (g, ct) => g.AdoptAsync(ct)),
    ];

    /// <summary>The watch on the primary's CA roots: it follows the primary too, but keeps no store of its own to hold.</summary>
    public static ReplicatorRef RootWatch { get; } =
        ReplicatorRef.Of<IRootWatcherGrain>(CaRoots, (g, ct) => g.EnsureRunningAsync(ct), (g, ct) => g.GetStatusAsync(ct), adopt: null);

    /// <summary>
    /// The datacenter list: a replicated store that never holds a round (every datacenter registers itself again, so a
    /// rebuilt primary's list refills on its own), so it is not in <see cref="Types"/>.
    /// </summary>
    public static ReplicatorRef DatacenterList { get; } =
        ReplicatorRef.Of<IDatacenterReplicatorGrain>(Datacenters, (g, ct) => g.EnsureRunningAsync(ct), (g, ct) => g.GetStatusAsync(ct), adopt: null);

    /// <summary>Every loop a secondary runs: <see cref="Types"/>, then <see cref="DatacenterList"/> and <see cref="RootWatch"/>.</summary>
    public static ImmutableArray<ReplicatorRef> All { get; } = [.. Types, DatacenterList, RootWatch];
}
