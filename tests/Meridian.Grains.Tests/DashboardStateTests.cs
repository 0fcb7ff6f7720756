using System.Reflection;
using System.Text.Json;
using Orleans.Core;

namespace Meridian.Grains.Tests;

/// <summary>
/// The Orleans dashboard's Grain Details calls, on every interface of a grain, each parameterless method that is named
/// <c>GetState</c> or returns the type of one of the grain's persisted states, and shows the result as JSON. Meridian's
/// answers must show the datacenter's state and never a key.
/// </summary>
[Collection(ClusterCollection.Name), Trait("Category", "Cluster")]
public sealed class DashboardStateTests(ClusterFixture fx)
{
    [Fact]
    public void GrainContracts_ParameterlessMethods_NeverReturnAPersistedState()
    {
        // A persisted state holds what a grain keeps to itself (the CA's signing key): returned by a parameterless
        // method, the dashboard would show it as is.
        var states = typeof(DatacenterGrain).Assembly.GetTypes()
            .SelectMany(t => t.GetConstructors().SelectMany(c => c.GetParameters()))
            .Select(p => p.ParameterType)
            .Where(t => t.IsGenericType && typeof(IStorage).IsAssignableFrom(t))
            .Select(t => t.GetGenericArguments()[0])
            .ToHashSet();
        Assert.Contains(typeof(Certificates.CertificateAuthorityState), states);
        var contracts = typeof(IDatacenterGrain).Assembly.GetTypes().Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t));
        var offenders = contracts.SelectMany(t => t.GetMethods())
            .Where(m => m.GetParameters().Length == 0 && m.ReturnType.IsGenericType && m.ReturnType.GetGenericArguments().Any(states.Contains))
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}");
        Assert.Empty(offenders);
    }

    [Fact]
    public async Task DatacenterGetState_AfterAWrite_ShowsStatusRootsAndTheIntention_WithoutAKey()
    {
        var destination = $"db-{Guid.NewGuid():N}";
        await fx.Client.GetGrain<IIntentionRegistryGrain>(fx.PrimaryDatacenter).UpsertAsync(new IntentionDto
        {
            SourceName = "web", DestinationName = destination, Action = "allow",
        });

        var state = await fx.Client.GetGrain<IDatacenterGrain>(fx.PrimaryDatacenter).GetState();

        Assert.Equal(("dc1", "primary"), (state.Status.Datacenter, state.Status.Role));
        Assert.Equal(state.Status.TrustDomain, state.Roots.TrustDomain);
        Assert.Contains(state.Roots.Roots, r => r.Active && r.ID == state.Status.Ca.ActiveRootID);
        Assert.Contains(state.Intentions.Intentions, i => i.DestinationName == destination);
        Assert.True(state.Intentions.Index >= state.Status.IntentionIndex);
        Assert.DoesNotContain("PRIVATE KEY", JsonSerializer.Serialize(state), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CaGetState_ShowsRootsAndConfiguration_NeverTheSigningKey()
    {
        var ca = fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter);
        await ca.InitializeAsync();

        var state = await ca.GetState();

        Assert.Equal("INITIALIZED", state.Status.State);
        Assert.NotEmpty(state.Roots.Roots);
        Assert.DoesNotContain("PRIVATE KEY", JsonSerializer.Serialize(state), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceCertificateGetState_AfterIssue_ShowsTheCertificateWithoutItsKey()
    {
        await fx.Client.GetGrain<ICertificateAuthorityGrain>(fx.PrimaryDatacenter).InitializeAsync();
        await fx.WaitForSignersAsync();
        var grain = fx.Client.GetGrain<IServiceCertificateGrain>($"{fx.PrimaryDatacenter}/svc-{Guid.NewGuid():N}");
        var issued = await grain.GetAsync();

        var state = await grain.GetState();

        Assert.Contains("PRIVATE KEY", issued.PrivateKeyPEM, StringComparison.Ordinal);
        Assert.NotNull(state);
        Assert.Equal((issued.SerialNumber, issued.CertPEM, ""), (state.SerialNumber, state.CertPEM, state.PrivateKeyPEM));
    }

    [Fact]
    public async Task ServiceCertificateGetState_BeforeAnyIssue_IsNullAndIssuesNothing()
    {
        var grain = fx.Client.GetGrain<IServiceCertificateGrain>($"{fx.PrimaryDatacenter}/svc-{Guid.NewGuid():N}");

        Assert.Null(await grain.GetState());
        Assert.Null(await grain.GetState());
    }
}
