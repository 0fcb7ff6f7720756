using System.Collections.Immutable;
using Meridian.Grains.Replication;

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
        ImmutableArray<ReplicationStatusDto> replication = [];
        if (!datacenter.IsPrimary)
        {
            var statuses = new ReplicationStatusDto[ReplicatedTypes.All.Length];
            for (var i = 0; i < statuses.Length; i++) statuses[i] = await ReplicatedTypes.All[i].GetStatus(GrainFactory, name, cancellationToken);
            replication = [.. statuses];
        }
        // Problems an operator must see (docs/consul-pain-points.md rows 5, 12): the newest error is later than the last success.
        List<string> degraded = [];
        if (caInitError.Length > 0) degraded.Add($"CA initialisation failed: {caInitError}");
        if (!string.IsNullOrEmpty(ca.Degraded)) degraded.Add($"CA: {ca.Degraded}");
        foreach (var r in replication.Where(r => r.LastError > r.LastSuccess))
        {
            if (r.ReplicationType != ReplicatedTypes.CaRoots) degraded.Add($"{ReplicationLabel(r.ReplicationType)} replication: {r.LastErrorMessage}");
            else if (r.LastErrorMessage != ca.Degraded) degraded.Add($"CA root watch: {r.LastErrorMessage}");
        }
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
            Replication = replication,
            IntentionReplication = replication.FirstOrDefault(r => r.ReplicationType == ReplicatedTypes.Intentions),
            RootReplication = replication.FirstOrDefault(r => r.ReplicationType == ReplicatedTypes.CaRoots),
            RotationProgress = progress,
        };
    }

    /// <inheritdoc />
    public async Task<ReplicationAdoptResultDto> AdoptPrimaryStateAsync(CancellationToken cancellationToken = default)
    {
        var name = ServedName();
        List<ReplicationAdoptResultDto> results = [];
        foreach (var type in ReplicatedTypes.Types)
            results.Add(await type.Adopt!(GrainFactory, name, cancellationToken) with { ReplicationType = type.Name });
        if (results.Count == 1) return results[0];
        // One type held something (the usual case: a replaced primary's intentions, or its ACLs): its answer, with its
        // index and epoch, and every type's answer in Types for the CLI.
        var acted = results.Where(r => r.Hold is not null).ToList();
        if (acted.Count == 1) return acted[0] with { Types = [.. results] };
        // Several types: adopted when any was, still held (the CLI's failure) when any stays held.
        var stillHeld = results.FirstOrDefault(r => !r.Adopted && r.Hold is not null);
        return new ReplicationAdoptResultDto
        {
            Adopted = stillHeld is null && results.Any(r => r.Adopted),
            Hold = stillHeld?.Hold ?? results.FirstOrDefault(r => r.Adopted)?.Hold,
            Changes = results.Sum(r => r.Changes),
            Message = string.Join("; ", results.Select(r => $"{r.ReplicationType}: {r.Message}")),
            Types = [.. results],
        };
    }

    // "intentions" → "intention", as the status has always said ("intention replication: …").
    private static string ReplicationLabel(string type) => type == ReplicatedTypes.Intentions ? "intention" : type;

    private string ServedName()
    {
        var name = this.GetPrimaryKeyString();
        return name == datacenter.Datacenter
            ? name
            : throw new MeridianNotFoundException(
                $"this cluster serves datacenter {datacenter.Datacenter}, not {name}: connect to {name}'s gateway or pass --datacenter {datacenter.Datacenter}");
    }
}
