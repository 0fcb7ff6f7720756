namespace Meridian.Grains.Tests;

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class DatacenterGrainTests(ClusterFixture fx)
{
    [Fact]
    public async Task GetStatus_ReportsPrimaryRole_InitializedCa_AndCounts()
    {
        var registry = fx.Client.GetGrain<IIntentionRegistryGrain>(fx.PrimaryDatacenter);
        var write = await registry.UpsertAsync(new IntentionDto
        {
            SourceName = $"web-{Guid.NewGuid():N}", DestinationName = $"db-{Guid.NewGuid():N}", Action = "allow",
        });

        var status = await fx.Client.GetGrain<IDatacenterGrain>(fx.PrimaryDatacenter).GetStatusAsync();
        var list = await registry.ListAsync();
        var roots = await fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter).GetRootsAsync();

        Assert.Equal(("dc1", "dc1", "primary", "Memory", ""),
            (status.Datacenter, status.PrimaryDatacenter, status.Role, status.StorageProvider, status.Degraded));
        Assert.Equal("INITIALIZED", status.Ca.State);
        Assert.Equal(roots.TrustDomain, status.TrustDomain);
        Assert.Equal(roots.ActiveRootID, status.Ca.ActiveRootID);
        Assert.NotNull(status.Ca.SigningCaExpiry);
        Assert.True(status.IntentionIndex >= write.Index);
        Assert.Equal(list.Index, status.IntentionIndex);
        Assert.Equal(list.Intentions.Length, status.IntentionCount);
    }

    [Fact]
    public async Task GetStatus_OfAnotherDatacenter_IsNotFound()
    {
        var ex = await Assert.ThrowsAsync<MeridianNotFoundException>(
            () => fx.Client.GetGrain<IDatacenterGrain>("dc7").GetStatusAsync());
        Assert.Contains("this cluster serves datacenter dc1, not dc7", ex.Message);
    }
}
