using System.Collections.Immutable;
using System.CommandLine;
using Meridian.Client;
using Meridian.Core.Acl;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian acl …</c>: Consul's <c>consul acl bootstrap|policy|role|token</c> commands with Consul's output
/// (<c>AccessorID:</c>, <c>SecretID:</c>, …). A SecretID is printed only by <c>bootstrap</c> and <c>token create</c>;
/// every read prints <c>&lt;hidden&gt;</c>: the store keeps only a hash of it.
/// </summary>
internal static class AclCommands
{
    public static Command Create(CommandRunner runner)
    {
        var acl = new Command("acl", "Bootstrap the ACL system and manage its policies, roles and tokens");
        acl.Subcommands.Add(Bootstrap(runner));
        acl.Subcommands.Add(Policy(runner));
        acl.Subcommands.Add(Role(runner));
        acl.Subcommands.Add(Token(runner));
        return acl;
    }

    private static Command Bootstrap(CommandRunner runner)
    {
        var command = new Command("bootstrap",
            "Create the first management token and print it with its SecretID (once; later calls are refused with the reset index, see README)");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.AclBootstrapAsync(cancellationToken: run.CancellationToken), WriteToken));
        return command;
    }

    // ---------------------------------------------------------------------------------------------------- policies

    private static Command Policy(CommandRunner runner)
    {
        var policy = new Command("policy", "Create, read, update, delete and list ACL policies");
        policy.Subcommands.Add(PolicyCreate(runner));
        policy.Subcommands.Add(PolicyRead(runner));
        policy.Subcommands.Add(PolicyUpdate(runner));
        policy.Subcommands.Add(PolicyDelete(runner));
        policy.Subcommands.Add(PolicyList(runner));
        return policy;
    }

    private static readonly ApiFields PolicyFields = new(
        ("--name", ["Name"]), ("--description", ["Description"]), ("--rules", ["Rules"]), ("--valid-datacenter", ["Datacenters"]));

    private sealed class PolicyOptions
    {
        public Option<string?> Description { get; } = new("--description") { Description = "Free-form description", HelpName = "TEXT" };

        public Option<string?> Rules { get; } = new("--rules")
        {
            Description = "Rules in Consul's HCL or JSON form, or @FILE to read them from a file", HelpName = "RULES|@FILE",
        };

        public Option<string[]> Datacenters { get; } = new("--valid-datacenter")
        {
            Description = "A datacenter the policy applies in (repeatable; Consul's -valid-datacenter). None: every datacenter",
            HelpName = "DC",
            AllowMultipleArgumentsPerToken = false,
        };

        public Command AddTo(Command command)
        {
            command.Options.Add(Description);
            command.Options.Add(Rules);
            command.Options.Add(Datacenters);
            return command;
        }

        public string? ReadRules(CommandRun run) => run.Get(Rules) is { } text ? RulesText(Rules.Name, text) : null;
    }

    private static Command PolicyCreate(CommandRunner runner)
    {
        var name = new Option<string>("--name") { Description = "The policy's name (unique)", Required = true };
        var options = new PolicyOptions();
        var command = options.AddTo(new Command("create", "Create a policy") { name });
        runner.OnClient(command, async (run, client) =>
        {
            var policy = new AclPolicyDto
            {
                Name = run.Required(name),
                Description = run.Get(options.Description) ?? "",
                Rules = options.ReadRules(run) ?? "",
                Datacenters = [.. run.Get(options.Datacenters) ?? []],
            };
            run.Output.Write(await client.CreateAclPolicyAsync(policy, run.CancellationToken), WritePolicy);
        }, PolicyFields);
        return command;
    }

    private static Command PolicyRead(CommandRunner runner)
    {
        var which = new Selector("policy");
        var command = which.AddTo(new Command("read", "Show a policy"));
        runner.OnClient(command, async (run, client) =>
        {
            var (id, name) = which.Get(run);
            run.Output.Write(await client.GetAclPolicyAsync(id, name, run.CancellationToken), WritePolicy);
        });
        return command;
    }

    private static Command PolicyUpdate(CommandRunner runner)
    {
        var which = new Selector("policy");
        var newName = new Option<string?>("--new-name") { Description = "Rename the policy", HelpName = "NAME" };
        var options = new PolicyOptions();
        var command = options.AddTo(which.AddTo(new Command("update", "Change a policy: the options given replace those fields, the others stay") { newName }));
        runner.OnClient(command, async (run, client) =>
        {
            var (id, name) = which.Get(run);
            var current = await client.GetAclPolicyAsync(id, name, run.CancellationToken);
            var datacenters = run.Get(options.Datacenters);
            var policy = current with
            {
                Name = run.Get(newName) ?? current.Name,
                Description = run.Get(options.Description) ?? current.Description,
                Rules = options.ReadRules(run) ?? current.Rules,
                Datacenters = datacenters is { Length: > 0 } ? [.. datacenters] : current.Datacenters,
            };
            run.Output.Write(await client.UpdateAclPolicyAsync(policy, run.CancellationToken), WritePolicy);
        }, new ApiFields(("--new-name", ["Name"]), ("--description", ["Description"]), ("--rules", ["Rules"]), ("--valid-datacenter", ["Datacenters"])));
        return command;
    }

    private static Command PolicyDelete(CommandRunner runner)
    {
        var which = new Selector("policy");
        var command = which.AddTo(new Command("delete", "Delete a policy"));
        runner.OnClient(command, async (run, client) =>
        {
            var (id, name) = which.Get(run);
            var policy = id is not null ? id : (await client.GetAclPolicyAsync(null, name, run.CancellationToken)).ID;
            await client.DeleteAclPolicyAsync(policy, run.CancellationToken);
            run.Output.Write(new { ID = policy }, (o, _) => o.Line($"Policy \"{policy}\" deleted successfully"));
        });
        return command;
    }

    private static Command PolicyList(CommandRunner runner)
    {
        var command = new Command("list", "List every policy");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.ListAclPoliciesAsync(run.CancellationToken), (o, policies) =>
            {
                foreach (var p in policies)
                {
                    o.Line($"{Output.Printable(p.Name)}:");
                    o.Fields(("   ID", p.ID), ("   Description", Output.Printable(p.Description)), ("   Datacenters", string.Join(", ", p.Datacenters)));
                }
            }));
        return command;
    }

    // ---------------------------------------------------------------------------------------------------- roles

    private static Command Role(CommandRunner runner)
    {
        var role = new Command("role", "Create, read, update, delete and list ACL roles");
        role.Subcommands.Add(RoleCreate(runner));
        role.Subcommands.Add(RoleRead(runner));
        role.Subcommands.Add(RoleUpdate(runner));
        role.Subcommands.Add(RoleDelete(runner));
        role.Subcommands.Add(RoleList(runner));
        return role;
    }

    private static readonly ApiFields RoleFields = new(("--name", ["Name"]), ("--description", ["Description"]));

    private static Command RoleCreate(CommandRunner runner)
    {
        var name = new Option<string>("--name") { Description = "The role's name (unique)", Required = true };
        var links = new LinkOptions(roles: false);
        var command = links.AddTo(new Command("create", "Create a role") { name });
        runner.OnClient(command, async (run, client) =>
        {
            var role = new AclRoleDto
            {
                Name = run.Required(name), Description = run.Get(links.Description) ?? "",
                Policies = links.Policies(run), ServiceIdentities = links.ServiceIdentities(run),
            };
            run.Output.Write(await client.CreateAclRoleAsync(role, run.CancellationToken), WriteRole);
        }, RoleFields);
        return command;
    }

    private static Command RoleRead(CommandRunner runner)
    {
        var which = new Selector("role");
        var command = which.AddTo(new Command("read", "Show a role"));
        runner.OnClient(command, async (run, client) =>
        {
            var (id, name) = which.Get(run);
            run.Output.Write(await client.GetAclRoleAsync(id, name, run.CancellationToken), WriteRole);
        });
        return command;
    }

    private static Command RoleUpdate(CommandRunner runner)
    {
        var which = new Selector("role");
        var newName = new Option<string?>("--new-name") { Description = "Rename the role", HelpName = "NAME" };
        var links = new LinkOptions(roles: false);
        var command = links.AddTo(which.AddTo(new Command("update",
            "Change a role: --policy-*/--service-identity given replace that list, the others stay") { newName }));
        runner.OnClient(command, async (run, client) =>
        {
            var (id, name) = which.Get(run);
            var current = await client.GetAclRoleAsync(id, name, run.CancellationToken);
            var role = current with
            {
                Name = run.Get(newName) ?? current.Name,
                Description = run.Get(links.Description) ?? current.Description,
                Policies = links.HasPolicies(run) ? links.Policies(run) : current.Policies,
                ServiceIdentities = links.HasServiceIdentities(run) ? links.ServiceIdentities(run) : current.ServiceIdentities,
            };
            run.Output.Write(await client.UpdateAclRoleAsync(role, run.CancellationToken), WriteRole);
        }, new ApiFields(("--new-name", ["Name"]), ("--description", ["Description"])));
        return command;
    }

    private static Command RoleDelete(CommandRunner runner)
    {
        var which = new Selector("role");
        var command = which.AddTo(new Command("delete", "Delete a role"));
        runner.OnClient(command, async (run, client) =>
        {
            var (id, name) = which.Get(run);
            var role = id is not null ? id : (await client.GetAclRoleAsync(null, name, run.CancellationToken)).ID;
            await client.DeleteAclRoleAsync(role, run.CancellationToken);
            run.Output.Write(new { ID = role }, (o, _) => o.Line($"Role \"{role}\" deleted successfully"));
        });
        return command;
    }

    private static Command RoleList(CommandRunner runner)
    {
        var command = new Command("list", "List every role");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.ListAclRolesAsync(run.CancellationToken), (o, roles) =>
            {
                for (var i = 0; i < roles.Count; i++)
                {
                    if (i > 0) o.Line();
                    WriteRole(o, roles[i]);
                }
            }));
        return command;
    }

    // ---------------------------------------------------------------------------------------------------- tokens

    private static Command Token(CommandRunner runner)
    {
        var token = new Command("token", "Create, read, update, delete and list ACL tokens");
        token.Subcommands.Add(TokenCreate(runner));
        token.Subcommands.Add(TokenRead(runner));
        token.Subcommands.Add(TokenReadSelf(runner));
        token.Subcommands.Add(TokenUpdate(runner));
        token.Subcommands.Add(TokenDelete(runner));
        token.Subcommands.Add(TokenList(runner));
        return token;
    }

    private static readonly ApiFields TokenFields = new(
        ("--description", ["Description"]), ("--expires-ttl", ["ExpirationTTL"]), ("--secret", ["SecretID"]), ("--accessor", ["AccessorID"]));

    private static Command TokenCreate(CommandRunner runner)
    {
        var links = new LinkOptions(roles: true);
        var local = new Option<bool>("--local") { Description = "Create a local token: it lives only in this datacenter and is never replicated" };
        var ttl = CliParsers.DurationOption("--expires-ttl", "Expire the token this long after creation (1m to 24h), e.g. 8h");
        var accessor = new Option<string?>("--accessor") { Description = "Choose the AccessorID (a UUID); default: generated", HelpName = "UUID" };
        var secret = new Option<string?>("--secret") { Description = "Choose the SecretID (a UUID); default: generated", HelpName = "UUID" };
        var replication = new Option<bool>("--replication")
        {
            Description = "Link the replication policy (acl, operator write; every service's intentions read), creating it as \"replication\" if absent: " +
                "the token a secondary sets as Meridian:Acl:Tokens:Replication",
        };
        var command = links.AddTo(new Command("create", "Create a token and print it with its SecretID (the only time the SecretID is shown)")
        {
            local, ttl, accessor, secret, replication,
        });
        runner.OnClient(command, async (run, client) =>
        {
            var token = new AclTokenDto
            {
                AccessorID = run.Get(accessor) ?? "",
                SecretID = run.Get(secret) ?? "",
                Description = run.Get(links.Description) ?? "",
                Policies = links.Policies(run),
                Roles = links.Roles(run),
                ServiceIdentities = links.ServiceIdentities(run),
                Local = run.Get(local),
                ExpirationTTL = run.Get(ttl),
            };
            var created = run.Get(replication)
                ? await client.CreateAclReplicationTokenAsync(token, run.CancellationToken)
                : await client.CreateAclTokenAsync(token, run.CancellationToken);
            run.Output.Write(created, WriteToken);
        }, TokenFields);
        return command;
    }

    private static Option<string> AccessorOption() => new("--id")
    {
        Description = "The token's AccessorID (Consul's -id)", HelpName = "ACCESSOR_ID", Required = true,
    };

    private static Command TokenRead(CommandRunner runner)
    {
        var id = AccessorOption();
        var command = new Command("read", "Show a token (its SecretID is shown as <hidden>)") { id };
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.GetAclTokenAsync(run.Required(id), run.CancellationToken), WriteToken));
        return command;
    }

    private static Command TokenReadSelf(CommandRunner runner)
    {
        var command = new Command("read-self", "Show the token this command sends (--token, --token-file, MERIDIAN_TOKEN)");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.GetAclTokenSelfAsync(run.CancellationToken), WriteToken));
        return command;
    }

    private static Command TokenUpdate(CommandRunner runner)
    {
        var id = AccessorOption();
        var links = new LinkOptions(roles: true);
        var command = links.AddTo(new Command("update",
            "Change a token: --policy-*/--role-*/--service-identity given replace that list, the others stay; the SecretID never changes") { id });
        runner.OnClient(command, async (run, client) =>
        {
            var current = await client.GetAclTokenAsync(run.Required(id), run.CancellationToken);
            var token = current with
            {
                SecretID = "",
                Description = run.Get(links.Description) ?? current.Description,
                Policies = links.HasPolicies(run) ? links.Policies(run) : current.Policies,
                Roles = links.HasRoles(run) ? links.Roles(run) : current.Roles,
                ServiceIdentities = links.HasServiceIdentities(run) ? links.ServiceIdentities(run) : current.ServiceIdentities,
            };
            run.Output.Write(await client.UpdateAclTokenAsync(token, run.CancellationToken), WriteToken);
        }, TokenFields);
        return command;
    }

    private static Command TokenDelete(CommandRunner runner)
    {
        var id = AccessorOption();
        var command = new Command("delete", "Delete a token") { id };
        runner.OnClient(command, async (run, client) =>
        {
            var accessor = run.Required(id);
            await client.DeleteAclTokenAsync(accessor, run.CancellationToken);
            run.Output.Write(new { AccessorID = accessor }, (o, _) => o.Line($"Token \"{accessor}\" deleted successfully"));
        });
        return command;
    }

    private static Command TokenList(CommandRunner runner)
    {
        var command = new Command("list", "List every token (SecretIDs shown as <hidden>)");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.ListAclTokensAsync(run.CancellationToken), (o, tokens) =>
            {
                for (var i = 0; i < tokens.Count; i++)
                {
                    if (i > 0) o.Line();
                    WriteToken(o, tokens[i]);
                }
            }));
        return command;
    }

    // ---------------------------------------------------------------------------------------------------- shared

    /// <summary><c>--id</c> or <c>--name</c> (exactly one), as Consul's <c>-id</c>/<c>-name</c>.</summary>
    private sealed class Selector(string what)
    {
        private readonly Option<string?> _id = new("--id") { Description = $"The {what}'s ID", HelpName = "ID" };
        private readonly Option<string?> _name = new("--name") { Description = $"The {what}'s name", HelpName = "NAME" };

        public Command AddTo(Command command)
        {
            command.Options.Add(_id);
            command.Options.Add(_name);
            return command;
        }

        public (string? Id, string? Name) Get(CommandRun run)
        {
            var (id, name) = (run.Get(_id), run.Get(_name));
            if (string.IsNullOrEmpty(id) == string.IsNullOrEmpty(name))
                throw new CliUsageException([new CliProblem("--id", $"give the {what}'s --id or its --name (one of them)")]);
            return (string.IsNullOrEmpty(id) ? null : id, string.IsNullOrEmpty(name) ? null : name);
        }
    }

    /// <summary>The description and link options of roles and tokens (repeatable, as Consul's).</summary>
    private sealed class LinkOptions(bool roles)
    {
        public Option<string?> Description { get; } = new("--description") { Description = "Free-form description", HelpName = "TEXT" };
        private readonly Option<string[]> _policyNames = Repeatable("--policy-name", "NAME", "Link the policy with this name (repeatable)");
        private readonly Option<string[]> _policyIds = Repeatable("--policy-id", "ID", "Link the policy with this ID (repeatable)");
        private readonly Option<string[]> _roleNames = Repeatable("--role-name", "NAME", "Link the role with this name (repeatable)");
        private readonly Option<string[]> _roleIds = Repeatable("--role-id", "ID", "Link the role with this ID (repeatable)");
        private readonly Option<string[]> _serviceIdentities = Repeatable("--service-identity", "NAME[:DC1,DC2]",
            "A service identity: write on the service and its sidecar proxy, read on every service and node; limited to the datacenters after ':' (repeatable)");

        public Command AddTo(Command command)
        {
            command.Options.Add(Description);
            command.Options.Add(_policyNames);
            command.Options.Add(_policyIds);
            if (roles)
            {
                command.Options.Add(_roleNames);
                command.Options.Add(_roleIds);
            }
            command.Options.Add(_serviceIdentities);
            return command;
        }

        public bool HasPolicies(CommandRun run) => Given(run, _policyNames) || Given(run, _policyIds);
        public bool HasRoles(CommandRun run) => Given(run, _roleNames) || Given(run, _roleIds);
        public bool HasServiceIdentities(CommandRun run) => Given(run, _serviceIdentities);

        public ImmutableArray<AclLinkDto> Policies(CommandRun run) => Links(run, _policyIds, _policyNames);
        public ImmutableArray<AclLinkDto> Roles(CommandRun run) => Links(run, _roleIds, _roleNames);

        public ImmutableArray<AclServiceIdentityDto> ServiceIdentities(CommandRun run) =>
        [
            .. (run.Get(_serviceIdentities) ?? []).Select(AclServiceIdentity.Parse).Select(s => new AclServiceIdentityDto(s.ServiceName, s.Datacenters)),
        ];

        private static ImmutableArray<AclLinkDto> Links(CommandRun run, Option<string[]> ids, Option<string[]> names) =>
            [.. (run.Get(ids) ?? []).Select(id => new AclLinkDto(id, "")), .. (run.Get(names) ?? []).Select(AclLinkDto.ByName)];

        private static bool Given(CommandRun run, Option<string[]> option) => run.Parse.GetResult(option) is { Implicit: false };

        private static Option<string[]> Repeatable(string name, string helpName, string description) => new(name)
        {
            Description = description, HelpName = helpName, AllowMultipleArgumentsPerToken = false,
        };
    }

    // Consul's -rules: the text itself, or @FILE.
    private static string RulesText(string option, string text)
    {
        if (!text.StartsWith('@')) return text;
        var path = text[1..];
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException([new CliProblem(option, $"cannot read {Path.GetFullPath(path)}: {e.Message}")]);
        }
    }

    /// <summary>Consul's token output (<c>command/acl/token/formatter.go</c>).</summary>
    internal static void WriteToken(Output o, AclTokenDto t)
    {
        o.Fields(
            ("AccessorID", t.AccessorID),
            ("SecretID", string.IsNullOrEmpty(t.SecretID) ? AclTokenDto.HiddenSecret : t.SecretID),
            ("Description", Output.Printable(t.Description)),
            ("Local", t.Local ? "true" : "false"),
            ("Create Time", Output.Time(t.CreateTime)),
            ("Expiration Time", t.ExpirationTime is { } e ? Output.Time(e) : null));
        Links(o, "Policies", t.Policies);
        Links(o, "Roles", t.Roles);
        Identities(o, t.ServiceIdentities);
    }

    /// <summary>Consul's policy output (<c>command/acl/policy/formatter.go</c>).</summary>
    internal static void WritePolicy(Output o, AclPolicyDto p)
    {
        o.Fields(("ID", p.ID), ("Name", Output.Printable(p.Name)), ("Description", Output.Printable(p.Description)),
            ("Datacenters", string.Join(", ", p.Datacenters)));
        o.Line("Rules:");
        o.Line(p.Rules.TrimEnd('\n', '\r'));
    }

    /// <summary>Consul's role output (<c>command/acl/role/formatter.go</c>).</summary>
    internal static void WriteRole(Output o, AclRoleDto r)
    {
        o.Fields(("ID", r.ID), ("Name", Output.Printable(r.Name)), ("Description", Output.Printable(r.Description)));
        Links(o, "Policies", r.Policies);
        Identities(o, r.ServiceIdentities);
    }

    private static void Links(Output o, string label, ImmutableArray<AclLinkDto> links)
    {
        if (links.IsDefaultOrEmpty) return;
        o.Line($"{label}:");
        foreach (var link in links) o.Line($"   {link.ID} - {Output.Printable(link.Name)}");
    }

    private static void Identities(Output o, ImmutableArray<AclServiceIdentityDto> identities)
    {
        if (identities.IsDefaultOrEmpty) return;
        o.Line("Service Identities:");
        foreach (var s in identities)
            o.Line($"   {Output.Printable(s.ServiceName)} (Datacenters: {(s.Datacenters.IsDefaultOrEmpty ? "all" : string.Join(", ", s.Datacenters))})");
    }
}
