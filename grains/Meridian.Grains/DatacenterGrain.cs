namespace Meridian.Grains;

/// <summary>Coordinates one datacenter; see <see cref="IDatacenterGrain"/>.</summary>
public sealed class DatacenterGrain(DatacenterContext datacenter) : Grain, IDatacenterGrain
{
    /// <inheritdoc />
    public async Task<DatacenterOverviewDto> GetState()
    {
        var name = this.GetPrimaryKeyString();
        var status = await GetStatusAsync();
        var roots = GrainFactory.GetGrain<ICertificateAuthorityGrain>(name).GetRootsAsync();
        var intentions = GrainFactory.GetGrain<IIntentionRegistryGrain>(name).ListAsync();
        var certificates = GrainFactory.GetGrain<ICertificateInventoryGrain>(name).GetState();
        return new DatacenterOverviewDto
        {
            Status = status,
            Roots = await roots,
            Intentions = await intentions,
            Certificates = await certificates,
        };
    }

    /// <inheritdoc />
    public async Task<DatacenterStatusDto> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var name = ServedName();
        // SPEC §5 item 16 (Consul #9570): a CA that cannot initialise must not take status (and /health) down with it;
        // intentions and authorize do not need the CA, so the datacenter answers, degraded, with the reason.
        var caGrain = GrainFactory.GetGrain<ICertificateAuthorityGrain>(name);
        CaStatusDto ca;
        string caInitError = "";
        try
        {
            ca = await caGrain.InitializeAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            caInitError = e is MeridianValidationException v && v.Problems.Length > 0 ? string.Join("; ", v.Problems) : e.Message;
            ca = await caGrain.GetStatusAsync(cancellationToken);
        }
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
        if (caInitError.Length > 0) degraded.Add($"CA initialisation failed: {caInitError}");
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

    /// <inheritdoc />
    public Task<ReplicationAdoptResultDto> AdoptPrimaryStateAsync(CancellationToken cancellationToken = default)
        => GrainFactory.GetGrain<IIntentionReplicatorGrain>(ServedName()).AdoptAsync(cancellationToken);

    private string ServedName()
    {
        var name = this.GetPrimaryKeyString();
        return name == datacenter.Datacenter
            ? name
            : throw new MeridianNotFoundException(
                $"this cluster serves datacenter {datacenter.Datacenter}, not {name}: connect to {name}'s gateway or pass --datacenter {datacenter.Datacenter}");
    }
}
