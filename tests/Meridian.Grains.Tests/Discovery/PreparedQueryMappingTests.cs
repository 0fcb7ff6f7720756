using System.Collections.Immutable;
using Meridian.Core.Discovery;
using Meridian.Grains.Discovery;

namespace Meridian.Grains.Tests.Discovery;

[Trait("Category", "Unit")]
public sealed class PreparedQueryMappingTests
{
    [Fact]
    public void ToDtoToCore_EveryField_RoundTrips()
    {
        var q = new PreparedQuery
        {
            Id = "5e1e24e5-1329-f86f-18c6-3d3734edb2cd", Name = "geo-", Session = "s", Token = "t",
            Service = new ServiceQuery
            {
                Service = "${match(1)}", OnlyPassing = true, Near = "_agent", Connect = true,
                Failover = new() { NearestN = 2, Datacenters = ["dc2"], Targets = [new("dc3", "p", "part", "ns")] },
                Tags = ["a", "!b"], IgnoreCheckIds = ["c"],
                NodeMeta = ImmutableDictionary<string, string>.Empty.Add("k", "v"),
                ServiceMeta = ImmutableDictionary<string, string>.Empty.Add("k2", "v2"),
            },
            Dns = new("10s"), Template = new("name_prefix_match", "^geo-(.*)$", true), CreateIndex = 3, ModifyIndex = 4,
        };
        var back = q.ToDto().ToCore();
        Assert.Equal((q.Id, q.Name, q.Session, q.Token, q.Dns, q.Template, q.CreateIndex, q.ModifyIndex),
            (back.Id, back.Name, back.Session, back.Token, back.Dns, back.Template, back.CreateIndex, back.ModifyIndex));
        var (s, b) = (q.Service, back.Service);
        Assert.Equal((s.Service, s.OnlyPassing, s.Near, s.Connect, s.Failover.NearestN), (b.Service, b.OnlyPassing, b.Near, b.Connect, b.Failover.NearestN));
        Assert.Equal(s.Failover.Datacenters.ToArray(), b.Failover.Datacenters.ToArray());
        Assert.Equal(s.Failover.Targets.ToArray(), b.Failover.Targets.ToArray());
        Assert.Equal(s.Tags.ToArray(), b.Tags.ToArray());
        Assert.Equal(s.IgnoreCheckIds.ToArray(), b.IgnoreCheckIds.ToArray());
        Assert.Equal(s.NodeMeta, b.NodeMeta);
        Assert.Equal(s.ServiceMeta, b.ServiceMeta);
    }

    [Fact]
    public void ToCore_DefaultArraysAndNulls_ReadAsEmpty()
    {
        var q = new PreparedQueryDto { Service = new ServiceQueryDto { Tags = default, IgnoreCheckIDs = default, NodeMeta = null!, Failover = null! }, DNS = null!, Template = null! }.ToCore();
        Assert.Equal((0, 0, 0, 0, "", ""), (q.Service.Tags.Length, q.Service.IgnoreCheckIds.Length, q.Service.NodeMeta.Count, q.Service.Failover.Datacenters.Length, q.Dns.Ttl, q.Template.Type));
    }
}
