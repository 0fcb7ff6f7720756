using System.Collections.Immutable;
using Meridian.Core.Discovery;

namespace Meridian.Grains.Discovery;

/// <summary>Prepared query DTOs (Consul's field names) to Core's model and back; default arrays and null maps read as empty.</summary>
public static class PreparedQueryMapping
{
    /// <summary>The Core definition of <paramref name="d"/>.</summary>
    public static PreparedQuery ToCore(this PreparedQueryDto d) => new()
    {
        Id = d.ID ?? "",
        Name = d.Name ?? "",
        Session = d.Session ?? "",
        Token = d.Token ?? "",
        Service = (d.Service ?? new()).ToCore(),
        Dns = new QueryDns(d.DNS?.TTL ?? ""),
        Template = new QueryTemplate(d.Template?.Type ?? "", d.Template?.Regexp ?? "", d.Template?.RemoveEmptyTags ?? false),
        CreateIndex = d.CreateIndex,
        ModifyIndex = d.ModifyIndex,
    };

    /// <summary>The DTO of <paramref name="q"/>.</summary>
    public static PreparedQueryDto ToDto(this PreparedQuery q) => new()
    {
        ID = q.Id,
        Name = q.Name,
        Session = q.Session,
        Token = q.Token,
        Service = new ServiceQueryDto
        {
            Service = q.Service.Service,
            Failover = new QueryFailoverDto
            {
                NearestN = q.Service.Failover.NearestN,
                Datacenters = Array(q.Service.Failover.Datacenters),
                Targets = [.. Array(q.Service.Failover.Targets).Select(t => new QueryFailoverTargetDto
                    { Datacenter = t.Datacenter, Peer = t.Peer, Partition = t.Partition, Namespace = t.Namespace })],
            },
            OnlyPassing = q.Service.OnlyPassing,
            Near = q.Service.Near,
            Tags = Array(q.Service.Tags),
            NodeMeta = q.Service.NodeMeta,
            ServiceMeta = q.Service.ServiceMeta,
            IgnoreCheckIDs = Array(q.Service.IgnoreCheckIds),
            Connect = q.Service.Connect,
        },
        DNS = new QueryDnsDto { TTL = q.Dns.Ttl },
        Template = new QueryTemplateDto { Type = q.Template.Type, Regexp = q.Template.Regexp, RemoveEmptyTags = q.Template.RemoveEmptyTags },
        CreateIndex = q.CreateIndex,
        ModifyIndex = q.ModifyIndex,
    };

    private static ServiceQuery ToCore(this ServiceQueryDto s) => new()
    {
        Service = s.Service ?? "",
        Failover = new QueryFailover
        {
            NearestN = s.Failover?.NearestN ?? 0,
            Datacenters = Array(s.Failover?.Datacenters),
            Targets = [.. Array(s.Failover?.Targets).Select(t => new QueryFailoverTarget(t.Datacenter ?? "", t.Peer ?? "", t.Partition ?? "", t.Namespace ?? ""))],
        },
        OnlyPassing = s.OnlyPassing,
        Near = s.Near ?? "",
        Tags = Array(s.Tags),
        NodeMeta = s.NodeMeta ?? ImmutableDictionary<string, string>.Empty,
        ServiceMeta = s.ServiceMeta ?? ImmutableDictionary<string, string>.Empty,
        IgnoreCheckIds = Array(s.IgnoreCheckIDs),
        Connect = s.Connect,
    };

    private static ImmutableArray<T> Array<T>(ImmutableArray<T> a) => a.IsDefault ? [] : a;

    private static ImmutableArray<T> Array<T>(ImmutableArray<T>? a) => a is { IsDefault: false } v ? v : [];
}
