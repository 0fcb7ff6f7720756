namespace Meridian.Grains.Tests;

[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class DatacenterRegistryGrainTests(ClusterFixture fx)
{
    private IDatacenterRegistryGrain Registry => fx.Client.GetGrain<IDatacenterRegistryGrain>(fx.PrimaryDatacenter);

    [Fact]
    public async Task Register_NewThenSame_OneIndexEach_SecondIsNoChange_AndTheFeedCarriesIt()
    {
        var name = $"dcr{Guid.NewGuid():N}"[..12];
        var entry = new DatacenterEntryDto { Name = name, Gateways = ["10.0.0.7:30000"], WanAddress = "198.51.100.7", ClusterId = $"meridian-{name}" };
        var first = await Registry.RegisterAsync(entry);
        Assert.Equal(first, await Registry.RegisterAsync(entry)); // idempotent: no new index
        var moved = await Registry.RegisterAsync(entry with { Gateways = ["10.0.0.8:30000"] });
        Assert.True(moved > first);

        var stored = Assert.Single(await Registry.ListAsync(), e => e.Name == name);
        Assert.Equal(("10.0.0.8:30000", "198.51.100.7", first, moved), (Assert.Single(stored.Gateways), stored.WanAddress, stored.CreateIndex, stored.ModifyIndex));
        var delta = await Registry.WaitForChangesAsync(first, (await Registry.WaitForChangesAsync(0, "", TimeSpan.Zero)).Epoch, TimeSpan.Zero);
        Assert.False(delta.IsSnapshot);
        Assert.Contains(delta.Entries, e => e.Name == name && e.ModifyIndex == moved);
    }

    [Fact]
    public async Task GetDatacenters_CarriesTheRegisteredGatewaysAndClusterId_ForTheSdksClientPool()
    {
        var name = $"dcg{Guid.NewGuid():N}"[..12];
        await Registry.RegisterAsync(new DatacenterEntryDto { Name = name, Gateways = ["10.0.0.9:30000", "10.0.0.10:30000"], ClusterId = $"meridian-{name}" });
        var listed = Assert.Single((await Registry.GetDatacentersAsync()).Datacenters, d => d.Name == name);
        Assert.Equal(new[] { "10.0.0.9:30000", "10.0.0.10:30000" }, listed.Gateways.ToArray());
        Assert.Equal($"meridian-{name}", listed.ClusterId);
    }

    [Fact]
    public async Task Register_BadNameAndGateway_RefusedNamingEachField_NothingWritten()
    {
        var error = await Assert.ThrowsAsync<MeridianValidationException>(() =>
            Registry.RegisterAsync(new DatacenterEntryDto { Name = "DC 9", Gateways = ["no-port", "10.0.0.1:99999"] }));
        Assert.Equal(["Name", "Gateways", "Gateways"], error.Problems.Select(p => p.Field));
        Assert.Contains("HOST:PORT", error.Problems[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(await Registry.ListAsync(), e => e.Name == "DC 9");
    }

    [Fact]
    public async Task GetDatacenters_ListsThisOneFirst_Local_Primary_Reachable_AtZero()
    {
        var list = await Registry.GetDatacentersAsync();
        Assert.Equal(fx.PrimaryDatacenter, list.AnsweredBy);
        Assert.True(list.Datacenters[0] is { Local: true, Primary: true, Reachable: true } first && first.Name == fx.PrimaryDatacenter && first.Rtt == TimeSpan.Zero);
        // The primary registers itself at start (DatacenterRegistrar), as every datacenter does.
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!(await Registry.ListAsync()).Any(e => e.Name == fx.PrimaryDatacenter) && DateTime.UtcNow < until) await Task.Delay(50);
        Assert.Contains(await Registry.ListAsync(), e => e.Name == fx.PrimaryDatacenter);
    }
}
