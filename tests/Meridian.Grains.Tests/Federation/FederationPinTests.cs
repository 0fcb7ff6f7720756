using Meridian.Grains.Certificates;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests.Federation;

/// <summary>
/// Issue 12 §1 (no WAN call in the CA's turn) and §3 (a secondary pins its federation), each with datacenters of its
/// own: a primary that stalls, and an independent cluster that also calls itself dc1.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class FederationPinTests
{
    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private static IntentionDto Allow(string source, string destination) => new() { SourceName = source, DestinationName = destination, Action = "allow" };

    // The root watcher backs off 1 s, 2 s, 4 s … after refused rounds; a refused round must pass before the next one.
    private static readonly TimeSpan AfterBackoff = TimeSpan.FromSeconds(60);

    private static async Task<DatacenterCluster> StartPrimaryAsync(SigningGate? gate = null)
    {
        var dc1 = await DatacenterCluster.StartAsync("dc1", "dc1",
            services: gate is null ? null : s => s.AddSingleton<IIncomingGrainCallFilter>(gate));
        await dc1.Ca.InitializeAsync();
        return dc1;
    }

    private static IDatacenterGrain Datacenter(DatacenterCluster dc) => dc.Client.GetGrain<IDatacenterGrain>(dc.Name);

    // Everything a secondary holds for the federation: trust domain, roots, signer of every silo, intentions.
    private static async Task<string> HeldAsync(DatacenterCluster dc)
    {
        var status = await dc.Ca.GetStatusAsync();
        var roots = await dc.Ca.GetRootsAsync();
        return string.Join("\n", new[] { $"{status.TrustDomain} {status.ActiveRootID} {status.SigningKeyID} {status.State} {roots.Index}" }
            .Concat(roots.Roots.Select(r => $"{r.ID} {r.Active} {r.SigningKeyID} {r.ModifyIndex} {string.Join("|", r.IntermediateCerts)}"))
            .Concat(dc.SiloServices.Select(sp => sp.GetRequiredService<LocalSigner>().Current is { } s
                ? $"signer {s.ActiveRootId} {s.RootsIndex} {s.Leaves.SigningKeyId}" : "signer none"))
            .Concat((await IntentionContent.OfAsync(dc)).Select(i => i.ToString())));
    }

    [Fact]
    public async Task SecondaryCa_WhileThePrimaryStallsSigning_AnswersStatusAndSerialsAndIssuesOnItsRoot()
    {
        var gate = new SigningGate();
        await using var dc1 = await StartPrimaryAsync(gate);
        await using var dc2 = await DatacenterCluster.StartSecondaryAsync("dc2", dc1);
        var before = await dc1.Ca.GetRootsAsync();
        await dc2.WaitForSignersOnRootAsync(before.ActiveRootID);
        var statusBefore = await dc2.Ca.GetStatusAsync();

        gate.Close();
        try
        {
            var rotated = await dc1.Ca.RotateAsync();
            // dc2's root watcher saw the new root and asked dc1 to sign a new intermediate; dc1 does not answer.
            await gate.Entered.WaitAsync(Poll.Timeout);

            // Each call below waits on dc2's CA activation; none may wait for the primary (the gate is still closed).
            var during = await dc2.Ca.GetStatusAsync().WaitAsync(Poll.Timeout);
            Assert.Equal((statusBefore.ActiveRootID, statusBefore.SigningKeyID, "INITIALIZED"), (during.ActiveRootID, during.SigningKeyID, during.State));
            var serials = await dc2.Ca.ReserveSerialsAsync(1).WaitAsync(Poll.Timeout);
            Assert.True(serials.First > 0);
            var cert = await dc2.Certificate(Fresh("svc")).GetAsync().WaitAsync(Poll.Timeout);
            Assert.Equal((before.ActiveRootID, statusBefore.SigningKeyID), (cert.RootID, cert.SigningKeyID));
            Assert.False(gate.Released, "the primary answered before the secondary's CA did");

            gate.Open();
            await dc2.WaitForSignersOnRootAsync(rotated.ActiveRootID);
            Assert.NotEqual(statusBefore.SigningKeyID, (await dc2.Ca.GetStatusAsync()).SigningKeyID);
        }
        finally
        {
            gate.Open();
        }
    }

    [Fact]
    public async Task RoguePrimary_CallingItselfDc1_WithItsOwnTrustDomain_ChangesNothing_StatusSaysWhy_ThenARealRotationFlows()
    {
        await using var dc1 = await StartPrimaryAsync();
        await using var dc2 = await DatacenterCluster.StartSecondaryAsync("dc2", dc1);
        var index = (await dc1.Registry.UpsertAsync(Allow("web", "db"))).Index;
        await dc2.WaitForReplicatedAsync(index);
        var roots = await dc1.Ca.GetRootsAsync();
        await dc2.WaitForSignersOnRootAsync(roots.ActiveRootID);
        var service = Fresh("svc");
        var cert = await dc2.Certificate(service).GetAsync();
        var held = await HeldAsync(dc2);
        var pinned = dc2.Store.Latest<CertificateAuthorityState>("dc2")?.Pin;
        Assert.Equal((roots.TrustDomain, roots.ActiveRootID), (pinned?.TrustDomain, pinned?.RootLineage.Single()));

        // An independent cluster that also calls itself dc1 (primary), with its own trust domain and intentions, and which
        // would sign dc2's CSR (dc2 is in its federation list).
        await using var rogue = await StartPrimaryAsync();
        var rogueRoots = await rogue.Ca.GetRootsAsync();
        Assert.NotEqual(roots.TrustDomain, rogueRoots.TrustDomain);
        await rogue.Registry.UpsertAsync(Allow("attacker", "db"));
        dc2.Link!.PointTo(rogue.GatewayClient);

        DatacenterStatusDto status = new();
        await Poll.UntilAsync(async () => (status = await Datacenter(dc2).GetStatusAsync()).Ca.Degraded.Contains("trust domain mismatch", StringComparison.Ordinal)
                && status.Degraded.Contains("intention replication: held: primary replaced", StringComparison.Ordinal),
            () => Task.FromResult($"dc2 degraded: '{status.Degraded}'"));
        Assert.Contains($"pinned to trust domain {roots.TrustDomain}, but the primary offers trust domain {rogueRoots.TrustDomain}", status.Ca.Degraded, StringComparison.Ordinal);
        Assert.Contains($"meridian ca adopt-primary --trust-domain {rogueRoots.TrustDomain}", status.Ca.Degraded, StringComparison.Ordinal);
        Assert.Equal((roots.TrustDomain, roots.ActiveRootID), (status.TrustDomain, status.Ca.ActiveRootID));

        // Nothing changed in dc2 and nothing was signed by the rogue: its roots were read and refused (the pin), its
        // intentions, another epoch, are held (the replication hold), each guard on its own.
        Assert.Equal(held, await HeldAsync(dc2));
        Assert.Equal(cert.SerialNumber, (await dc2.Certificate(service).GetAsync()).SerialNumber);
        Assert.DoesNotContain(rogue.ClientCalls, c => c.Method.StartsWith("SignIntermediate", StringComparison.Ordinal));
        Assert.Equal([Allow("web", "db").SourceName], (await dc2.Registry.ListAsync()).Intentions.Select(i => i.SourceName));

        // Back on the real dc1, a real `ca rotate` flows through: new root cross-signed by the pinned one, dc2 re-keys.
        dc2.Link.PointTo(dc1.GatewayClient);
        var rotated = await dc1.Ca.RotateAsync();
        var newRoot = rotated.Roots.Single(r => r.Active);
        await Poll.UntilAsync(async () => (await dc2.Ca.GetStatusAsync()).ActiveRootID == newRoot.ID,
            async () => $"dc2 CA: {await HeldAsync(dc2)}, degraded '{(await dc2.Ca.GetStatusAsync()).Degraded}'", timeout: AfterBackoff);
        await dc2.WaitForSignersOnRootAsync(newRoot.ID);
        var after = await dc2.Ca.GetStatusAsync();
        Assert.Equal(roots.TrustDomain, after.TrustDomain);
        Assert.NotEqual(held.Split(' ')[2], after.SigningKeyID);
        var fresh = await dc2.Certificate(Fresh("svc")).GetAsync();
        CertAssert.ChainsTo(fresh.CertPEM, newRoot.RootCert);
        CertAssert.ChainsTo(fresh.CertPEM, roots.Roots.Single(r => r.Active).RootCert); // via the cross-signed new root
        var lineage = dc2.Store.Latest<CertificateAuthorityState>("dc2")?.Pin;
        Assert.Equal((roots.TrustDomain, $"{roots.ActiveRootID},{newRoot.ID}"), (lineage?.TrustDomain, string.Join(",", lineage?.RootLineage ?? [])));
        await Poll.UntilAsync(async () => (status = await Datacenter(dc2).GetStatusAsync()).Degraded.Length == 0,
            () => Task.FromResult($"dc2 still degraded: '{status.Degraded}'"), timeout: AfterBackoff);
        Assert.Equal([Allow("web", "db").SourceName], (await dc2.Registry.ListAsync()).Intentions.Select(i => i.SourceName));
    }

    [Fact]
    public async Task Pin_SurvivesARestartOfTheSecondary_WhichThenRefusesAnotherTrustDomain()
    {
        var store = new DatacenterStore("dc2");
        await using var dc1 = await StartPrimaryAsync();
        var roots = await dc1.Ca.GetRootsAsync();
        await using (var joined = await DatacenterCluster.StartSecondaryAsync("dc2", dc1, store))
            await joined.WaitForSignersOnRootAsync(roots.ActiveRootID);

        // Restarted from its storage, with gateways that now lead to an independent "dc1".
        await using var rogue = await StartPrimaryAsync();
        var link = new TestPrimaryLink("dc1");
        link.PointTo(rogue.GatewayClient);
        link.Connect();
        await using var dc2 = await DatacenterCluster.StartAsync("dc2", "dc1", link, store);
        CaStatusDto status = new();
        await Poll.UntilAsync(async () => (status = await dc2.Ca.GetStatusAsync()).Degraded.Contains("trust domain mismatch", StringComparison.Ordinal),
            () => Task.FromResult($"dc2 CA on '{status.TrustDomain}' root '{status.ActiveRootID}', degraded '{status.Degraded}'"));
        Assert.Equal((roots.TrustDomain, roots.ActiveRootID), (status.TrustDomain, status.ActiveRootID));
        Assert.DoesNotContain(rogue.ClientCalls, c => c.Method.StartsWith("SignIntermediate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AdoptPrimary_AfterTheRefusal_AcceptsTheNewTrustDomain()
    {
        await using var dc1 = await StartPrimaryAsync();
        await using var dc2 = await DatacenterCluster.StartSecondaryAsync("dc2", dc1);
        var roots = await dc1.Ca.GetRootsAsync();
        await dc2.WaitForSignersOnRootAsync(roots.ActiveRootID);
        await using var replacement = await StartPrimaryAsync();
        var replacementRoots = await replacement.Ca.GetRootsAsync();
        dc2.Link!.PointTo(replacement.GatewayClient);
        CaStatusDto status = new();
        await Poll.UntilAsync(async () => (status = await dc2.Ca.GetStatusAsync()).Degraded.Contains("trust domain mismatch", StringComparison.Ordinal),
            () => Task.FromResult($"dc2 CA degraded: '{status.Degraded}'"));

        // What the SDK calls (`meridian ca adopt-primary`): the public surface, through dc2's gateway.
        var operatorCa = dc2.GatewayClient.GetGrain<ICertificateAuthorityGrain>("dc2");
        var bad = await Assert.ThrowsAsync<MeridianValidationException>(() => operatorCa.AdoptPrimaryAsync("not a trust domain"));
        Assert.Contains(bad.Problems, p => p is { Field: "trust_domain", Code: "invalid_format" });
        var inPrimary = await Assert.ThrowsAsync<MeridianValidationException>(
            () => dc1.GatewayClient.GetGrain<ICertificateAuthorityGrain>("dc1").AdoptPrimaryAsync(replacementRoots.TrustDomain));
        Assert.Contains(inPrimary.Problems, p => p.Field == "datacenter");
        var adopting = await operatorCa.AdoptPrimaryAsync(replacementRoots.TrustDomain.ToUpperInvariant());
        Assert.Equal(roots.TrustDomain, adopting.TrustDomain); // the next root-watch round re-pins, not the command
        // Durable before it answered: a restart keeps the operator's decision.
        Assert.Contains(dc2.Store.Writes, w => w.State is CertificateAuthorityState { AdoptTrustDomain: var adopted } && adopted == replacementRoots.TrustDomain);

        await Poll.UntilAsync(async () => (status = await dc2.Ca.GetStatusAsync()).TrustDomain == replacementRoots.TrustDomain,
            () => Task.FromResult($"dc2 CA on '{status.TrustDomain}', degraded '{status.Degraded}'"), timeout: AfterBackoff);
        await dc2.WaitForSignersOnRootAsync(replacementRoots.ActiveRootID);
        var cert = await dc2.Certificate(Fresh("svc")).GetAsync();
        CertAssert.ChainsTo(cert.CertPEM, replacementRoots.Roots.Single(r => r.Active).RootCert);
        var stored = dc2.Store.Latest<CertificateAuthorityState>("dc2")!;
        Assert.Equal((replacementRoots.TrustDomain, replacementRoots.ActiveRootID, ""),
            (stored.Pin?.TrustDomain, string.Join(",", stored.Pin?.RootLineage ?? []), stored.AdoptTrustDomain));
    }
}

/// <summary>
/// Holds the primary's <c>SignIntermediate</c> while closed (a slow or stalled primary), and says when a call came in.
/// </summary>
public sealed class SigningGate : IIncomingGrainCallFilter
{
    private volatile TaskCompletionSource _open = Completed();
    private volatile TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a signing call reached the closed gate.</summary>
    public Task Entered => _entered.Task;

    /// <summary>True once the gate was opened after being closed.</summary>
    public bool Released => _open.Task.IsCompleted;

    public void Close()
    {
        _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Open() => _open.TrySetResult();

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name == nameof(ICertificateAuthorityGrain.SignIntermediateAsync) && !_open.Task.IsCompleted)
        {
            _entered.TrySetResult();
            await _open.Task;
        }
        await context.Invoke();
    }

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource();
        done.SetResult();
        return done;
    }
}
