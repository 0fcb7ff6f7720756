using System.Collections.Immutable;
using Orleans.Concurrency;

namespace Meridian.Grains;

/// <summary>What <c>meridian status</c> shows for one datacenter.</summary>
[GenerateSerializer, Alias("meridian.datacenter.Status"), Immutable]
public sealed record DatacenterStatusDto
{
    [Id(0)] public string Datacenter { get; init; } = "";
    [Id(1)] public string PrimaryDatacenter { get; init; } = "";
    /// <summary><c>primary</c> or <c>secondary</c>.</summary>
    [Id(2)] public string Role { get; init; } = "";
    [Id(3)] public string TrustDomain { get; init; } = "";
    [Id(4)] public CaStatusDto Ca { get; init; } = new();
    [Id(5)] public ulong IntentionIndex { get; init; }
    [Id(6)] public int IntentionCount { get; init; }
    /// <summary>Empty when healthy, else the reason (role mismatch, CA degraded, ...).</summary>
    [Id(7)] public string Degraded { get; init; } = "";
    [Id(8)] public string StorageProvider { get; init; } = "";
    /// <summary>Secondary: intention replication from the primary (null in the primary); also in <see cref="Replication"/>.</summary>
    [Id(9)] public ReplicationStatusDto? IntentionReplication { get; init; }
    /// <summary>Secondary: the watch on the primary's CA roots (null in the primary); also in <see cref="Replication"/>.</summary>
    [Id(10)] public ReplicationStatusDto? RootReplication { get; init; }
    /// <summary>Certificates of this datacenter on the active root / all, for following a rotation.</summary>
    [Id(11)] public RotationProgressDto? RotationProgress { get; init; }
    /// <summary>
    /// Secondary: every loop following the primary, one status each (each replicated type, then <c>ca-roots</c>);
    /// empty in the primary. What <c>meridian replication status</c> lists.
    /// </summary>
    [Id(12)] public ImmutableArray<ReplicationStatusDto> Replication { get; init; } = [];

    /// <summary>
    /// Every replication status to show: <see cref="Replication"/>, or from a server that predates it, the intention
    /// and root statuses. What the SDK, the CLI and the dashboard enumerate.
    /// </summary>
    public IReadOnlyList<ReplicationStatusDto> ReplicationStatuses()
        => Replication.IsDefaultOrEmpty ? [.. new[] { IntentionReplication, RootReplication }.OfType<ReplicationStatusDto>()] : Replication;
}

/// <summary>Coordinates one datacenter (key: datacenter name): its role, trust domain and overall status.</summary>
[GrainSurface(Surface.Public)]
[Alias("meridian.datacenter.IDatacenterGrain")]
public interface IDatacenterGrain : IGrainWithStringKey
{
    /// <summary>Overall status. Starts the CA's initialisation if it has not run yet.</summary>
    [Acl(AclTarget.Operator, AclLevel.Read)]
    [Alias("GetStatus")]
    Task<DatacenterStatusDto> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Status, roots, intentions and certificate inventory of the datacenter, for the Orleans dashboard's Grain Details, which calls a parameterless method named <c>GetState</c>
    /// (hence the name without <c>Async</c>). Read-only; never a private key.
    /// </summary>
    [GrainSurface(Surface.ClusterInternal)]
    [Alias("GetState")]
    Task<DatacenterOverviewDto> GetState();

    /// <summary>
    /// <c>meridian replication adopt</c>: applies, once, the round each replicated type (intentions, …) of the secondary
    /// holds back (a replaced or reset primary; see <see cref="ReplicationStatusDto.Held"/>); later changes then flow
    /// normally. One type: its answer; several: their answers in <see cref="ReplicationAdoptResultDto.Types"/>, summed up.
    /// Idempotent: with nothing held it changes nothing. In the primary: a <see cref="MeridianErrorKind.Validation"/> error (it follows nobody).
    /// </summary>
    [Acl(AclTarget.Operator, AclLevel.Write)]
    [Alias("AdoptPrimaryState")]
    Task<ReplicationAdoptResultDto> AdoptPrimaryStateAsync(CancellationToken cancellationToken = default);
}
