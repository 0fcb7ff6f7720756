namespace Meridian.Grains;

/// <summary>Coordinates one datacenter; see <see cref="IDatacenterGrain"/>.</summary>
public sealed class DatacenterGrain(DatacenterContext datacenter) : Grain, IDatacenterGrain
{
    /// <inheritdoc />
    public async Task<DatacenterStatusDto> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var name = this.GetPrimaryKeyString();
        if (name != datacenter.Datacenter)
        {
            throw new MeridianNotFoundException(
                $"this cluster serves datacenter {datacenter.Datacenter}, not {name}: connect to {name}'s gateway or pass --datacenter {datacenter.Datacenter}");
        }
        var ca = await GrainFactory.GetGrain<ICertificateAuthorityGrain>(name).InitializeAsync(cancellationToken);
        var intentions = await GrainFactory.GetGrain<IIntentionRegistryGrain>(name).GetSummaryAsync(cancellationToken);
        var progress = await GrainFactory.GetGrain<ICertificateInventoryGrain>(name).GetProgressAsync(cancellationToken);
        ReplicationStatusDto? replication = null, roots = null;
        if (!datacenter.IsPrimary)
        {
            replication = await GrainFactory.GetGrain<IIntentionReplicatorGrain>(name).GetStatusAsync(cancellationToken);
            roots = await GrainFactory.GetGrain<IRootWatcherGrain>(name).GetStatusAsync(cancellationToken);
        }
        // Problems an operator must see (SPEC §5 items 5, 12): the newest error is later than the last success.
        List<string> degraded = [];
        if (!string.IsNullOrEmpty(ca.Degraded)) degraded.Add($"CA: {ca.Degraded}");
        if (replication is { } r && r.LastError > r.LastSuccess) degraded.Add($"intention replication: {r.LastErrorMessage}");
        if (roots is { } w && w.LastError > w.LastSuccess && w.LastErrorMessage != ca.Degraded) degraded.Add($"CA root watch: {w.LastErrorMessage}");
        return new DatacenterStatusDto
        {
            Datacenter = name,
            PrimaryDatacenter = datacenter.PrimaryDatacenter,
            Role = datacenter.Role,
            TrustDomain = ca.TrustDomain,
            Ca = ca,
            IntentionIndex = intentions.Index,
            IntentionCount = intentions.Count,
            Degraded = string.Join("; ", degraded),
            StorageProvider = datacenter.StorageProvider,
            IntentionReplication = replication,
            RootReplication = roots,
            RotationProgress = progress,
        };
    }
}
