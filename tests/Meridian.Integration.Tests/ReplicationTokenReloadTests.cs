using Meridian.Grains.Acl;
using Meridian.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Integration.Tests;

/// <summary>
/// The host wiring of <c>Meridian:Acl:Tokens:Replication</c>: a configuration reload replaces the token every
/// replication round sends, without a restart (issue 13 §4).
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReplicationTokenReloadTests
{
    [Fact]
    public async Task ConfigurationReload_ReplacesTheReplicationToken_AndSignalsTheChange()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Meridian:Datacenter"] = "dc2",
            ["Meridian:PrimaryDatacenter"] = "dc1",
            ["Meridian:Primary:Gateways:0"] = "127.0.0.1:1",
            ["Meridian:Storage:Provider"] = "Memory",
            ["Meridian:Dashboard:Enabled"] = "false",
            ["Meridian:Acl:Tokens:Replication"] = "first-token",
        });
        builder.AddMeridianSilo();
        await using var app = builder.Build();
        var token = app.Services.GetRequiredService<AclReplicationToken>();
        Assert.Equal("first-token", token.Current);
        Assert.DoesNotContain("first-token", token.ToString(), StringComparison.Ordinal);

        var changed = token.Changed;
        app.Configuration["Meridian:Acl:Tokens:Replication"] = "second-token";
        ((IConfigurationRoot)app.Configuration).Reload();
        await changed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("second-token", token.Current);
    }
}
