using System.Collections.Immutable;
using Meridian.Grains;
using Microsoft.AspNetCore.Routing;

namespace Meridian.HttpApi;

/// <summary>
/// ACL: bootstrap, tokens (and self, clone), policies, roles, replication. https://developer.hashicorp.com/consul/api-docs/acl
/// Consul answers some not-found cases 404 although their text says <c>ACL not found</c> (which maps to 403 elsewhere).
/// </summary>
internal static class AclEndpoints
{
    public static void Map(IEndpointRouteBuilder routes, ConsulApi api)
    {
        api.Route(routes, "/v1/acl/bootstrap", ("PUT", BootstrapAsync));
        api.Route(routes, "/v1/acl/replication", ("GET", ReplicationAsync));

        api.Route(routes, "/v1/acl/token", ("PUT", async r =>
        {
            var token = Normalize(await r.BodyAsync<AclTokenDto>("Token decoding failed") ?? new AclTokenDto());
            await r.JsonAsync(await r.Client.CreateAclTokenAsync(token, r.Aborted));
        }));
        api.Route(routes, "/v1/acl/token/self", ("GET", async r =>
        {
            // The secret is the caller's own: shown, as Consul does.
            var self = await r.Client.GetAclTokenSelfAsync(r.Aborted);
            await r.JsonAsync(r.Token is { } secret ? self with { SecretID = secret } : self);
        }));
        api.Route(routes, "/v1/acl/token/{id}", ("GET", async r => await r.JsonAsync(await GetTokenAsync(r, Id(r, "token AccessorID"), "Requested token does not exist: ACL not found"))),
            ("PUT", async r =>
            {
                var id = Id(r, "token AccessorID");
                var token = Normalize(await r.BodyAsync<AclTokenDto>("Token decoding failed") ?? new AclTokenDto());
                if (token.AccessorID.Length > 0 && token.AccessorID != id) throw new ConsulHttpException(400, "Token Accessor ID in URL and payload do not match");
                await r.JsonAsync(await r.Client.UpdateAclTokenAsync(token with { AccessorID = id }, r.Aborted));
            }),
            ("DELETE", async r =>
            {
                var id = Id(r, "token AccessorID");
                await GetTokenAsync(r, id, "Cannot find token to delete");
                await r.Client.DeleteAclTokenAsync(id, r.Aborted);
                await r.JsonAsync(true);
            }));
        api.Route(routes, "/v1/acl/token/{id}/clone", ("PUT", async r =>
        {
            var source = await GetTokenAsync(r, Id(r, "token AccessorID"), "Requested token does not exist: ACL not found");
            var body = await r.BodyAsync("Token decoding failed");
            var description = body is null ? source.Description : AgentEndpoints.Str(body, "Description");
            var clone = source with { AccessorID = "", SecretID = "", Description = description, CreateIndex = 0, ModifyIndex = 0, ExpirationTTL = null };
            await r.JsonAsync(await r.Client.CreateAclTokenAsync(clone, r.Aborted));
        }));
        api.Route(routes, "/v1/acl/tokens", ("GET", async r =>
        {
            var tokens = await r.Client.ListAclTokensAsync(r.Aborted);
            var policy = r.Query("policy");
            var role = r.Query("role");
            var service = r.Query("servicename");
            var filtered = tokens.Where(t =>
                (string.IsNullOrEmpty(policy) || t.Policies.Any(p => p.ID == policy))
                && (string.IsNullOrEmpty(role) || t.Roles.Any(x => x.ID == role))
                && (string.IsNullOrEmpty(service) || t.ServiceIdentities.Any(s => s.ServiceName == service)));
            await r.JsonAsync(filtered, Max(tokens.Select(t => t.ModifyIndex)));
        }));

        api.Route(routes, "/v1/acl/policy", ("PUT", async r =>
        {
            var policy = Normalize(await r.BodyAsync<AclPolicyDto>("Policy decoding failed") ?? new AclPolicyDto());
            if (policy.ID.Length > 0) throw new ConsulHttpException(400, "Cannot specify the ID when creating a new policy");
            await r.JsonAsync(PolicyShape(await r.Client.CreateAclPolicyAsync(policy, r.Aborted), true));
        }));
        api.Route(routes, "/v1/acl/policy/name/{name}", ("GET", async r =>
        {
            var name = AgentEndpoints.Route(r, "name");
            if (name.Length == 0) throw new ConsulHttpException(400, "Missing policy Name");
            await r.JsonAsync(PolicyShape(await Found(() => r.Client.GetAclPolicyAsync(null, name, r.Aborted), "Requested policy does not exist: ACL not found"), true));
        }));
        api.Route(routes, "/v1/acl/policy/{id}",
            ("GET", async r => await r.JsonAsync(PolicyShape(await Found(() => r.Client.GetAclPolicyAsync(Id(r, "policy ID"), null, r.Aborted), "Requested policy does not exist: ACL not found"), true))),
            ("PUT", async r =>
            {
                var id = Id(r, "policy ID");
                var policy = Normalize(await r.BodyAsync<AclPolicyDto>("Policy decoding failed") ?? new AclPolicyDto());
                if (policy.ID.Length > 0 && policy.ID != id) throw new ConsulHttpException(400, "Policy ID in URL and payload do not match");
                await r.JsonAsync(PolicyShape(await r.Client.UpdateAclPolicyAsync(policy with { ID = id }, r.Aborted), true));
            }),
            ("DELETE", async r =>
            {
                var id = Id(r, "policy ID");
                await Found(() => r.Client.GetAclPolicyAsync(id, null, r.Aborted), "Cannot find policy to delete");
                await r.Client.DeleteAclPolicyAsync(id, r.Aborted);
                await r.JsonAsync(true);
            }));
        api.Route(routes, "/v1/acl/policies", ("GET", async r =>
        {
            var policies = await r.Client.ListAclPoliciesAsync(r.Aborted);
            await r.JsonAsync(policies.Select(p => PolicyShape(p, false)), Max(policies.Select(p => p.ModifyIndex)));
        }));

        api.Route(routes, "/v1/acl/role", ("PUT", async r =>
        {
            var role = Normalize(await r.BodyAsync<AclRoleDto>("Role decoding failed") ?? new AclRoleDto());
            if (role.ID.Length > 0) throw new ConsulHttpException(400, "Cannot specify the ID when creating a new role");
            await r.JsonAsync(await r.Client.CreateAclRoleAsync(role, r.Aborted));
        }));
        api.Route(routes, "/v1/acl/role/name/{name}", ("GET", async r =>
            await r.JsonAsync(await Found(() => r.Client.GetAclRoleAsync(null, AgentEndpoints.Route(r, "name"), r.Aborted), "Requested role does not exist: ACL not found"))));
        api.Route(routes, "/v1/acl/role/{id}",
            ("GET", async r => await r.JsonAsync(await Found(() => r.Client.GetAclRoleAsync(Id(r, "role ID"), null, r.Aborted), "Requested role does not exist: ACL not found"))),
            ("PUT", async r =>
            {
                var id = Id(r, "role ID");
                var role = Normalize(await r.BodyAsync<AclRoleDto>("Role decoding failed") ?? new AclRoleDto());
                if (role.ID.Length > 0 && role.ID != id) throw new ConsulHttpException(400, "Role ID in URL and payload do not match");
                await r.JsonAsync(await r.Client.UpdateAclRoleAsync(role with { ID = id }, r.Aborted));
            }),
            ("DELETE", async r =>
            {
                var id = Id(r, "role ID");
                await Found(() => r.Client.GetAclRoleAsync(id, null, r.Aborted), "Cannot find role to delete");
                await r.Client.DeleteAclRoleAsync(id, r.Aborted);
                await r.JsonAsync(true);
            }));
        api.Route(routes, "/v1/acl/roles", ("GET", async r =>
        {
            var roles = await r.Client.ListAclRolesAsync(r.Aborted);
            await r.JsonAsync(roles, Max(roles.Select(x => x.ModifyIndex)));
        }));
    }

    private static ulong Max(IEnumerable<ulong> indexes) => indexes.DefaultIfEmpty(1UL).Max();

    private static string Id(ConsulRequest r, string what)
    {
        var id = AgentEndpoints.Route(r, "id");
        return id.Length > 0 ? id : throw new ConsulHttpException(400, $"Missing {what}");
    }

    private static async Task<T> Found<T>(Func<Task<T>> read, string notFound)
    {
        try
        {
            return await read();
        }
        catch (MeridianNotFoundException)
        {
            throw new ConsulHttpException(404, notFound);
        }
        catch (MeridianException e) when (e.Message.Contains("ACL not found", StringComparison.Ordinal) && !e.Message.Contains("Permission denied", StringComparison.Ordinal) && e.Kind == MeridianErrorKind.NotFound)
        {
            throw new ConsulHttpException(404, notFound);
        }
    }

    private static Task<AclTokenDto> GetTokenAsync(ConsulRequest r, string id, string notFound)
        => Found(() => r.Client.GetAclTokenAsync(id, r.Aborted), notFound);

    private static async Task BootstrapAsync(ConsulRequest r)
    {
        // Consul parses the body only when there is one (py-consul sends {}).
        var body = await r.BodyAsync("Request decoding failed");
        var secret = body is null ? null : AgentEndpoints.Str(body, "BootstrapSecret") is { Length: > 0 } s ? s : null;
        var token = await r.Client.AclBootstrapAsync(secret, r.Aborted);
        var shaped = System.Text.Json.JsonSerializer.SerializeToNode(token, ConsulJson.Compact)!.AsObject();
        shaped["ID"] = token.SecretID; // Consul's legacy field, still read by old clients
        await r.JsonAsync(shaped);
    }

    private static async Task ReplicationAsync(ConsulRequest r)
    {
        await r.RequireLocalDatacenterAsync();
        var status = await r.Client.GetStatusAsync(r.Aborted);
        var all = status.ReplicationStatuses();
        var acl = all.Where(s => s.ReplicationType.Contains("acl", StringComparison.OrdinalIgnoreCase) || s.ReplicationType is "tokens" or "policies").ToList();
        var enabled = status.Role != "primary" && acl.Count > 0;
        var first = acl.FirstOrDefault();
        await r.JsonAsync(new
        {
            Enabled = enabled,
            Running = enabled && acl.All(s => s.Running),
            SourceDatacenter = status.PrimaryDatacenter,
            ReplicationType = first is null ? "" : "tokens",
            ReplicatedIndex = first?.ReplicatedIndex ?? 0,
            ReplicatedRoleIndex = first?.ReplicatedIndex ?? 0,
            ReplicatedTokenIndex = first?.ReplicatedIndex ?? 0,
            LastSuccess = first?.LastSuccess ?? DateTimeOffset.UnixEpoch,
            LastError = first?.LastError ?? DateTimeOffset.UnixEpoch,
            LastErrorMessage = first?.LastErrorMessage ?? "",
        });
    }

    private static AclTokenDto Normalize(AclTokenDto t) => t with
    {
        AccessorID = t.AccessorID ?? "",
        SecretID = t.SecretID ?? "",
        Description = t.Description ?? "",
        Policies = t.Policies.IsDefault ? [] : t.Policies,
        Roles = t.Roles.IsDefault ? [] : t.Roles,
        ServiceIdentities = t.ServiceIdentities.IsDefault ? [] : [.. t.ServiceIdentities.Select(s => s with { Datacenters = s.Datacenters.IsDefault ? [] : s.Datacenters })],
        NodeIdentities = t.NodeIdentities.IsDefault ? [] : t.NodeIdentities,
    };

    private static AclPolicyDto Normalize(AclPolicyDto p) => p with
    {
        ID = p.ID ?? "",
        Name = p.Name ?? "",
        Description = p.Description ?? "",
        Rules = p.Rules ?? "",
        Datacenters = p.Datacenters.IsDefault ? [] : p.Datacenters,
    };

    private static AclRoleDto Normalize(AclRoleDto x) => x with
    {
        ID = x.ID ?? "",
        Name = x.Name ?? "",
        Description = x.Description ?? "",
        Policies = x.Policies.IsDefault ? [] : x.Policies,
        ServiceIdentities = x.ServiceIdentities.IsDefault ? [] : [.. x.ServiceIdentities.Select(s => s with { Datacenters = s.Datacenters.IsDefault ? [] : s.Datacenters })],
        NodeIdentities = x.NodeIdentities.IsDefault ? [] : x.NodeIdentities,
    };

    /// <summary>Consul's policy JSON; the list leaves out Rules, and Datacenters is left out when empty.</summary>
    private static Dictionary<string, object?> PolicyShape(AclPolicyDto p, bool withRules)
    {
        var d = new Dictionary<string, object?> { ["ID"] = p.ID, ["Name"] = p.Name, ["Description"] = p.Description };
        if (withRules) d["Rules"] = p.Rules;
        if (!p.Datacenters.IsDefaultOrEmpty) d["Datacenters"] = p.Datacenters;
        d["Hash"] = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(p.Name + "\n" + p.Rules)));
        d["CreateIndex"] = p.CreateIndex;
        d["ModifyIndex"] = p.ModifyIndex;
        return d;
    }
}
