using Meridian.Core.Acl;
using Meridian.Grains.Acl;
using Meridian.Grains.Tests.Federation;
using Microsoft.Extensions.DependencyInjection;

namespace Meridian.Grains.Tests.Acl;

/// <summary>
/// A write made in a secondary is forwarded to the primary with the caller's token (it travels in the RequestContext,
/// as Consul forwards a request with its token), and the primary checks it again against its own ACLs.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ForwardedWriteAclTests
{
    private static (StaticAclSource Source, Credential Writer) Source(string dc, bool knowsWriter, Credential writer)
    {
        var policy = new AclPolicy { ID = "p-fwd", Name = "fwd", Rules = "service \"fwd-db\" { policy = \"read\" intentions = \"write\" }" };
        (string, AclToken)[] tokens = knowsWriter
            ? [(writer.SecretId, new AclToken { AccessorID = writer.AccessorId, SecretHash = "", Policies = [new("p-fwd", "")] })]
            : [];
        return (new StaticAclSource([policy], [], tokens, anonymous: null, AclDefaultPolicy.Deny, dc, TimeProvider.System), writer);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WriteInSecondary_ForwardedWithTheCallersToken_PrimaryChecksItAgain(bool primaryKnowsTheToken)
    {
        var writer = new Credential(Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        var (inPrimary, _) = Source("dc1", primaryKnowsTheToken, writer);
        var (inSecondary, _) = Source("dc2", knowsWriter: true, writer);
        await using var dc1 = await DatacenterCluster.StartAsync("dc1", "dc1", services: s => s.AddSingleton<IAclAuthorizerSource>(inPrimary));
        var link = new TestPrimaryLink("dc1");
        link.PointTo(dc1.GatewayClient);
        link.Connect();
        await using var dc2 = await DatacenterCluster.StartAsync("dc2", "dc1", link, services: s => s.AddSingleton<IAclAuthorizerSource>(inSecondary));

        CallerToken.Set(writer.SecretId);
        Exception? error;
        try
        {
            error = await Record.ExceptionAsync(() => dc2.GatewayClient.GetGrain<IIntentionRegistryGrain>("dc2")
                .UpsertAsync(new IntentionDto { SourceName = "web", DestinationName = "fwd-db", Action = "allow" }));
        }
        finally
        {
            CallerToken.Set(null);
        }

        var inDc1 = (await dc1.Registry.ListAsync()).Intentions.Where(i => i.DestinationName == "fwd-db").ToList();
        if (primaryKnowsTheToken)
        {
            Assert.Null(error);
            Assert.Single(inDc1);
        }
        else
        {
            // Without the token the primary would have seen the anonymous token: this is the primary's own refusal.
            var denied = Assert.IsType<MeridianPermissionDeniedException>(error);
            Assert.Equal("ACL not found", denied.Message);
            Assert.Empty(inDc1);
        }
    }
}
