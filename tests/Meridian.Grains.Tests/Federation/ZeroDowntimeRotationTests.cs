namespace Meridian.Grains.Tests.Federation;

[Collection(FederationCollection.Name), Trait("Category", "Cluster")]
public sealed class ZeroDowntimeRotationTests(TwoDatacenterFixture fx)
{
    // Handshakes that must succeed before the rotation, and after both services are on the new root.
    private const int Warmup = 10;
    private const int Settled = 20;

    [Fact]
    public async Task RotationInPrimary_DuringContinuousMutualTls_BetweenDc1AndDc2_NoHandshakeFails()
    {
        var before = await fx.FollowedRootsAsync();
        var oldRoot = before.Roots.Single(r => r.Active);
        await using var web = await MeshWorkload.StartAsync(fx.Dc1, $"web-{Guid.NewGuid():N}");
        await using var api = await MeshWorkload.StartAsync(fx.Dc2, $"api-{Guid.NewGuid():N}");

        // The check is real: a peer trusting an unrelated CA refuses the other.
        Assert.NotNull(await MutualTls.HandshakeAsync(web.Current, web.Trust, api.Current, MutualTls.UnrelatedTrust()));
        Assert.NotNull(await MutualTls.HandshakeAsync(web.Current, MutualTls.UnrelatedTrust(), api.Current, api.Trust));

        var failures = new List<string>();
        var ok = 0;
        var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? newRootId = null;
        var settledAt = -1;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var traffic = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested && !done.Task.IsCompleted; i++)
            {
                // Both directions: dc1 serves dc2, then dc2 serves dc1. Each side uses its own latest certificate and bundle.
                var error = i % 2 == 0
                    ? await MutualTls.HandshakeAsync(web.Current, web.Trust, api.Current, api.Trust)
                    : await MutualTls.HandshakeAsync(api.Current, api.Trust, web.Current, web.Trust);
                if (error is null) ok++;
                else failures.Add($"#{i} ({(i % 2 == 0 ? "dc1 server" : "dc2 server")}; web on {web.Current.Certificate.RootID}, api on {api.Current.Certificate.RootID}): {error}");
                if (ok >= Warmup) warmedUp.TrySetResult();
                var root = Volatile.Read(ref newRootId);
                if (root is not null && settledAt < 0 && web.Current.Certificate.RootID == root && api.Current.Certificate.RootID == root) settledAt = ok;
                if (settledAt >= 0 && ok - settledAt >= Settled) done.TrySetResult();
            }
        });

        await warmedUp.Task.WaitAsync(Poll.Timeout);
        var rotated = await fx.Dc1.Ca.RotateAsync();
        var newRoot = rotated.Roots.Single(r => r.Active);
        Volatile.Write(ref newRootId, newRoot.ID);
        await Task.WhenAny(done.Task, traffic);
        await stop.CancelAsync();
        await traffic;

        Assert.True(done.Task.IsCompleted, $"both services did not reach the new root {newRoot.ID} with {Settled} handshakes after: " +
            $"web on {web.Current.Certificate.RootID}, api on {api.Current.Certificate.RootID}, {ok} handshakes ok");
        Assert.True(failures.Count == 0, $"{failures.Count} of {ok + failures.Count} handshakes failed:\n" + string.Join("\n", failures.Take(10)));
        Assert.True(ok >= Warmup + Settled, $"only {ok} handshakes");

        foreach (var w in new[] { web, api })
        {
            Assert.Equal(newRoot.ID, w.Current.Certificate.RootID);
            CertAssert.ChainsTo(w.Current.Certificate.CertPEM, newRoot.RootCert);
            CertAssert.ChainsTo(w.Current.Certificate.CertPEM, oldRoot.RootCert); // peers that have not refreshed their bundle yet
        }
        Assert.NotEqual(oldRoot.ID, newRoot.ID);
    }
}
