using System.Collections.Immutable;
using Meridian.Core.Acl;

namespace Meridian.Grains.Acl;

/// <summary>Between the ACL DTOs of the wire and storage and Core's ACL model.</summary>
public static class AclMapping
{
    public static AclLink ToCore(this AclLinkDto link) => new(link.ID ?? "", link.Name ?? "");

    public static AclLinkDto ToDto(this AclLink link) => new(link.ID, link.Name);

    public static AclServiceIdentity ToCore(this AclServiceIdentityDto s) => new(s.ServiceName ?? "", s.Datacenters.IsDefault ? [] : s.Datacenters);

    public static AclServiceIdentityDto ToDto(this AclServiceIdentity s) => new(s.ServiceName, s.Datacenters.IsDefault ? [] : s.Datacenters);

    public static AclNodeIdentity ToCore(this AclNodeIdentityDto n) => new(n.NodeName ?? "", n.Datacenter ?? "");

    public static AclNodeIdentityDto ToDto(this AclNodeIdentity n) => new(n.NodeName, n.Datacenter);

    public static AclPolicy ToCore(this AclPolicyDto p) => new()
    {
        ID = p.ID ?? "",
        Name = p.Name ?? "",
        Description = p.Description ?? "",
        Rules = p.Rules ?? "",
        Datacenters = p.Datacenters.IsDefault ? [] : p.Datacenters,
        CreateIndex = p.CreateIndex,
        ModifyIndex = p.ModifyIndex,
    };

    public static AclPolicyDto ToDto(this AclPolicy p) => new()
    {
        ID = p.ID,
        Name = p.Name,
        Description = p.Description,
        Rules = p.Rules,
        Datacenters = p.Datacenters.IsDefault ? [] : p.Datacenters,
        CreateIndex = p.CreateIndex,
        ModifyIndex = p.ModifyIndex,
    };

    public static AclRole ToCore(this AclRoleDto r) => new()
    {
        ID = r.ID ?? "",
        Name = r.Name ?? "",
        Description = r.Description ?? "",
        Policies = Map(r.Policies, ToCore),
        ServiceIdentities = Map(r.ServiceIdentities, ToCore),
        NodeIdentities = Map(r.NodeIdentities, ToCore),
        CreateIndex = r.CreateIndex,
        ModifyIndex = r.ModifyIndex,
    };

    /// <summary>The request as <see cref="AclValidation.ValidateToken"/> checks it.</summary>
    public static AclTokenRequest ToRequest(this AclTokenDto t) => new()
    {
        AccessorID = t.AccessorID,
        SecretID = t.SecretID,
        Description = t.Description ?? "",
        Policies = Map(t.Policies, ToCore),
        Roles = Map(t.Roles, ToCore),
        ServiceIdentities = Map(t.ServiceIdentities, ToCore),
        NodeIdentities = Map(t.NodeIdentities, ToCore),
        Local = t.Local,
        ExpirationTime = t.ExpirationTime,
        ExpirationTTL = t.ExpirationTTL,
    };

    /// <summary>A stored token as Core's resolver takes it.</summary>
    public static AclToken ToCore(this AclTokenDto t, string secretHash) => new()
    {
        AccessorID = t.AccessorID,
        SecretHash = secretHash,
        Description = t.Description,
        Policies = Map(t.Policies, ToCore),
        Roles = Map(t.Roles, ToCore),
        ServiceIdentities = Map(t.ServiceIdentities, ToCore),
        NodeIdentities = Map(t.NodeIdentities, ToCore),
        Local = t.Local,
        CreateTime = t.CreateTime,
        ExpirationTime = t.ExpirationTime,
        CreateIndex = t.CreateIndex,
        ModifyIndex = t.ModifyIndex,
    };

    private static ImmutableArray<TOut> Map<TIn, TOut>(ImmutableArray<TIn> items, Func<TIn, TOut> map) =>
        items.IsDefaultOrEmpty ? [] : [.. items.Select(map)];
}
