using Meridian.Grains;
using Meridian.Integration.Tests.Processes;

namespace Meridian.Integration.Tests;

/// <summary>
/// The seal of the cluster-internal surface over a real TCP gateway (docs/grain-surfaces.md, issue 12 §1): a plain
/// Orleans client of the production silo wiring, holding only the grain contracts, is refused an entry write and the
/// management grain, while the SDK's calls and the silo's own callers keep working.
/// </summary>
public sealed class ClusterSealTests
{
    [Fact]
    public async Task PlainClientOverTcp_ClusterInternalWrite_IsRefusedAndWritesNothing_SdkStillWorks()
    {
        await using var silo = await InProcessDatacenter.StartAsync();
        await using var sdk = await SdkClient.ConnectAsync(silo.Gateway);
        var entry = new IntentionEntryDto
        {
            Name = "payments", Namespace = "default", Partition = "default",
            Sources = [new SourceIntentionDto { Name = "attacker", Namespace = "default", Partition = "default", Action = "allow" }],
        };

        var refused = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(
            () => sdk.Orleans.GetGrain<IIntentionGrain>("dc1/default/default/payments").SetAsync(entry));
        Assert.Contains("IIntentionGrain.SetAsync", refused.Message);
        Assert.Contains("internal to the datacenter", refused.Message);
        await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => sdk.Orleans.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true));

        // Nothing was written: the silo's own factory (an in-silo caller, like the dashboard) still reads no entry.
        Assert.Null(await silo.Grains.GetGrain<IIntentionGrain>("dc1/default/default/payments").GetAsync());
        // The SDK's own calls are public; `cert get` returns the certificate with its key (ACLs decide who may, issue 13).
        Assert.Contains("PRIVATE KEY", (await sdk.Client.GetCertificateAsync("payments")).PrivateKeyPEM);
        // In-silo callers keep Orleans' management grain (the test fixture's idle collection uses it).
        await silo.DeactivateIdleGrainsAsync();
    }
}
