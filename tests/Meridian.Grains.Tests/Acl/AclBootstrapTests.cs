using Meridian.Core.Acl;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests.Acl;

/// <summary>Bootstrap once, and the reset file, on a datacenter of its own (no initial management token).</summary>
[Trait("Category", "Cluster")]
public sealed class AclBootstrapTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("meridian-acl-").FullName;

    private string ResetFile => Path.Combine(_directory, "acl-bootstrap-reset");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Bootstrap_Once_ThenRefused_ResetFileAllowsOneMore_WrongIndexRefused()
    {
        await using var cluster = await CustomCluster.StartAsync(s => s.AddSingleton(AclClusterFixture.Settings(null, ResetFile)));
        var store = cluster.GatewayClient.GetGrain<IAclStoreGrain>(CustomCluster.Datacenter);

        var first = await store.BootstrapAsync();
        Assert.Equal("Bootstrap Token (Global Management)", first.Description);
        Assert.Equal([AclBuiltins.GlobalManagementPolicyId], first.Policies.Select(p => p.ID));
        Assert.True(Guid.TryParse(first.SecretID, out _));
        using (CallerToken.Use(first.SecretID))
            Assert.Equal(first.AccessorID, (await store.GetSelfAsync()).AccessorID);

        var refused = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => store.BootstrapAsync());
        Assert.Equal($"Permission denied: ACL bootstrap no longer allowed (reset index: {first.CreateIndex})", refused.Message);

        await File.WriteAllTextAsync(ResetFile, $"{first.CreateIndex + 7}\n");
        var wrong = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => store.BootstrapAsync());
        Assert.Equal($"Invalid bootstrap reset index (specified {first.CreateIndex + 7}, reset index: {first.CreateIndex})", wrong.Message);

        await File.WriteAllTextAsync(ResetFile, $"{first.CreateIndex}\n");
        var chosen = Guid.NewGuid().ToString("D");
        var second = await store.BootstrapAsync(chosen);
        Assert.Equal(chosen, second.SecretID);
        Assert.False(File.Exists(ResetFile), "the reset file allows one bootstrap and is deleted");
        var again = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(() => store.BootstrapAsync());
        Assert.Contains($"(reset index: {second.CreateIndex})", again.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_BeforeBootstrap_SaysTheSystemMustBeBootstrapped()
    {
        await using var cluster = await CustomCluster.StartAsync(s => s.AddSingleton(AclClusterFixture.Settings(null)));
        var resolver = cluster.SiloServices.GetRequiredService<Meridian.Grains.Acl.IAclAuthorizerSource>();
        var ex = await Assert.ThrowsAsync<MeridianPermissionDeniedException>(async () => await resolver.ResolveAsync(Guid.NewGuid().ToString("D")));
        Assert.Equal("ACL system must be bootstrapped before making any requests that require authorization: ACL not found", ex.Message);
        // The anonymous token exists from the start: anonymous callers resolve (to the default policy).
        var anonymous = await resolver.ResolveAsync(null);
        Assert.Equal(AclBuiltins.AnonymousTokenAccessorId, anonymous.AccessorId);
        Assert.False(anonymous.Authorizer.ServiceRead("web").Allowed);
    }
}
