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
        var intentions = await GrainFactory.GetGrain<IIntentionRegistryGrain>(name).ListAsync(cancellationToken);
        return new DatacenterStatusDto
        {
            Datacenter = name,
            PrimaryDatacenter = datacenter.PrimaryDatacenter,
            Role = datacenter.Role,
            TrustDomain = ca.TrustDomain,
            Ca = ca,
            IntentionIndex = intentions.Index,
            IntentionCount = intentions.Intentions.Length,
            Degraded = string.IsNullOrEmpty(ca.Degraded) ? "" : $"CA: {ca.Degraded}",
            StorageProvider = datacenter.StorageProvider,
        };
    }
}
