using System.Collections.Immutable;
using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian query create|list|get|update|delete|explain</c>: prepared queries of the datacenter the CLI talks to
/// (Consul's <c>/v1/query</c> endpoints; Consul has no CLI for them). A definition comes from <c>--file</c> (JSON with
/// Consul's field names, as <c>POST /v1/query</c> takes it) and/or options; options override the file's fields.
/// <c>--json</c> answers with Consul's shapes: <c>{"ID"}</c> for create, an array for list and get, <c>{"Query"}</c>
/// for explain.
/// </summary>
internal static class QueryCommands
{
    public static Command Create(CommandRunner runner)
    {
        var query = new Command("query", "Create, list, read, update, delete and explain prepared queries");
        query.Subcommands.Add(CreateCommand(runner));
        query.Subcommands.Add(List(runner));
        query.Subcommands.Add(Get(runner));
        query.Subcommands.Add(Update(runner));
        query.Subcommands.Add(Delete(runner));
        query.Subcommands.Add(Explain(runner));
        query.Subcommands.Add(Execute(runner));
        return query;
    }

    // What the file parser accepts: Consul's field names in any case; an unknown field is an error (Consul answers 400
    // for one, e.g. a top-level Near, which belongs inside Service).
    private static readonly JsonSerializerOptions FileOptions = new()
    {
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private static readonly ApiFields Fields = new(
        ("--name", ["Name"]), ("--session", ["Session"]), ("--query-token", ["Token"]), ("--service", ["Service.Service"]),
        ("--nearest-n", ["Service.Failover.NearestN"]), ("--failover-datacenter", ["Service.Failover.Targets"]),
        ("--dns-ttl", ["DNS.TTL"]), ("--template", ["Template.Type"]), ("--regexp", ["Template.Regexp"]),
        ("--node-meta", ["Service.NodeMeta"]));

    private sealed class DefinitionOptions
    {
        public Option<string?> File { get; } = new("--file") { Description = "A definition in JSON with Consul's field names (POST /v1/query's body); options override its fields", HelpName = "PATH" };
        public Option<string?> Name { get; } = new("--name") { Description = "The query's name (a template: the prefix it matches; empty: every name)", HelpName = "NAME" };
        public Option<string?> Session { get; } = new("--session") { Description = "A session to bind the query to", HelpName = "ID" };
        public Option<string?> Token { get; } = new("--query-token") { Description = "The token the query executes with (shown as <hidden> to callers without acl:write)", HelpName = "TOKEN" };
        public Option<string?> Service { get; } = new("--service") { Description = "The service to look up (templates: may use ${name.suffix}, ${match(1)}, ...)", HelpName = "SERVICE" };
        public Option<int?> NearestN { get; } = CliParsers.IntOption("--nearest-n", "Fail over to this many of the nearest other datacenters first (by measured RTT)");
        public Option<string[]> Datacenters { get; } = new("--failover-datacenter") { Description = "A datacenter to fail over to, after the nearest ones (repeatable, in order)", HelpName = "DC", AllowMultipleArgumentsPerToken = false };
        public Option<bool?> OnlyPassing { get; } = new("--only-passing") { Description = "Leave out instances with a warning check too (critical ones always are)" };
        public Option<string?> Near { get; } = new("--near") { Description = "Sort by RTT from this node (_agent, _ip or a node name)", HelpName = "NODE" };
        public Option<string[]> Tags { get; } = new("--tag") { Description = "A tag instances must have; !TAG: must not have (repeatable)", HelpName = "TAG", AllowMultipleArgumentsPerToken = false };
        public Option<ImmutableDictionary<string, string>> NodeMeta { get; } = Meta("--node-meta", "Node metadata KEY=VALUE instances' nodes must carry (repeatable)");
        public Option<ImmutableDictionary<string, string>> ServiceMeta { get; } = Meta("--service-meta", "Service metadata KEY=VALUE instances must carry (repeatable)");
        public Option<string[]> IgnoreChecks { get; } = new("--ignore-check-id") { Description = "A check whose status is ignored (repeatable)", HelpName = "CHECK", AllowMultipleArgumentsPerToken = false };
        public Option<bool?> Connect { get; } = new("--connect") { Description = "Answer with Connect-capable endpoints (sidecar proxies, native services)" };
        public Option<string?> DnsTtl { get; } = new("--dns-ttl") { Description = "TTL of DNS answers (Go duration, e.g. 10s)", HelpName = "DURATION" };
        public Option<string?> Template { get; } = new("--template") { Description = "Make it a template: name_prefix_match", HelpName = "TYPE" };
        public Option<string?> Regexp { get; } = new("--regexp") { Description = "The template's regular expression; its captures are ${match(N)}", HelpName = "REGEXP" };
        public Option<bool?> RemoveEmptyTags { get; } = new("--remove-empty-tags") { Description = "Drop tags that render empty (templates)" };

        private static Option<ImmutableDictionary<string, string>> Meta(string name, string description)
        {
            var option = CliParsers.MetaOption(name);
            option.Description = description;
            option.DefaultValueFactory = null;
            return option;
        }

        public Command AddTo(Command command)
        {
            foreach (var option in new Option[] { File, Name, Session, Token, Service, NearestN, Datacenters, OnlyPassing, Near, Tags, NodeMeta, ServiceMeta, IgnoreChecks, Connect, DnsTtl, Template, Regexp, RemoveEmptyTags })
                command.Options.Add(option);
            return command;
        }

        /// <summary>The file's definition (or <paramref name="fallback"/>), with every option given replacing its field.</summary>
        public PreparedQueryDto Read(CommandRun run, PreparedQueryDto fallback)
        {
            var q = run.Get(File) is { } path ? Load(path) : fallback;
            var s = q.Service ?? new ServiceQueryDto();
            var failover = s.Failover ?? new QueryFailoverDto();
            var datacenters = run.Get(Datacenters);
            var tags = run.Get(Tags);
            var ignore = run.Get(IgnoreChecks);
            var template = q.Template ?? new QueryTemplateDto();
            return q with
            {
                Name = run.Get(Name) ?? q.Name,
                Session = run.Get(Session) ?? q.Session,
                Token = run.Get(Token) ?? q.Token,
                Service = s with
                {
                    Service = run.Get(Service) ?? s.Service,
                    Failover = failover with
                    {
                        NearestN = run.Get(NearestN) ?? failover.NearestN,
                        Datacenters = datacenters is { Length: > 0 } ? [.. datacenters] : failover.Datacenters,
                    },
                    OnlyPassing = run.Get(OnlyPassing) ?? s.OnlyPassing,
                    Near = run.Get(Near) ?? s.Near,
                    Tags = tags is { Length: > 0 } ? [.. tags] : s.Tags,
                    NodeMeta = run.Get(NodeMeta) is { Count: > 0 } nodeMeta ? nodeMeta : s.NodeMeta,
                    ServiceMeta = run.Get(ServiceMeta) is { Count: > 0 } serviceMeta ? serviceMeta : s.ServiceMeta,
                    IgnoreCheckIDs = ignore is { Length: > 0 } ? [.. ignore] : s.IgnoreCheckIDs,
                    Connect = run.Get(Connect) ?? s.Connect,
                },
                DNS = run.Get(DnsTtl) is { } ttl ? new QueryDnsDto { TTL = ttl } : q.DNS ?? new QueryDnsDto(),
                Template = template with
                {
                    Type = run.Get(Template) ?? template.Type,
                    Regexp = run.Get(Regexp) ?? template.Regexp,
                    RemoveEmptyTags = run.Get(RemoveEmptyTags) ?? template.RemoveEmptyTags,
                },
            };
        }

        private PreparedQueryDto Load(string path)
        {
            string text;
            try
            {
                text = System.IO.File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new CliUsageException([new CliProblem(File.Name, $"cannot read {Path.GetFullPath(path)}: {e.Message}")]);
            }
            try
            {
                return JsonSerializer.Deserialize<PreparedQueryDto>(text, FileOptions)
                    ?? throw new CliUsageException([new CliProblem(File.Name, $"{path} holds null, not a prepared query definition")]);
            }
            catch (JsonException e)
            {
                throw new CliUsageException([new CliProblem(File.Name, $"{path} is not a prepared query definition: {e.Message}")]);
            }
        }
    }

    private static Command CreateCommand(CommandRunner runner)
    {
        var options = new DefinitionOptions();
        var command = options.AddTo(new Command("create", "Create a prepared query in this datacenter and print its ID"));
        runner.OnClient(command, async (run, client) =>
        {
            var id = await client.CreatePreparedQueryAsync(options.Read(run, new PreparedQueryDto()), run.CancellationToken);
            if (run.Output.Json) run.Output.WriteJson(new { ID = id });
            else run.Output.Line(id);
        }, Fields);
        return command;
    }

    private static Command Update(CommandRunner runner)
    {
        var id = new Argument<string>("ID") { Description = "The query's ID" };
        var options = new DefinitionOptions();
        var command = options.AddTo(new Command("update",
            "Change a prepared query: --file replaces the whole definition, options replace their fields (without --file, of the stored definition)") { id });
        runner.OnClient(command, async (run, client) =>
        {
            var target = run.Get(id)!;
            // Without --file the stored definition is the base. NOTE: a caller without acl:write reads the captured
            // token as <hidden>, which the server refuses to store back: give --query-token (or a full --file) then.
            var current = run.Get(options.File) is null ? await client.GetPreparedQueryAsync(target, run.CancellationToken) : new PreparedQueryDto();
            await client.UpdatePreparedQueryAsync(target, options.Read(run, current), run.CancellationToken);
            if (!run.Output.Json) run.Output.Line($"Updated prepared query {target}");
        }, Fields);
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var command = new Command("list", "List the prepared queries this token may read");
        runner.OnClient(command, async (run, client) =>
        {
            var list = await client.ListPreparedQueriesAsync(run.CancellationToken);
            if (run.Output.Json)
            {
                run.Output.WriteJson(list.Queries);
                return;
            }
            if (list.Queries.IsEmpty) run.Output.Line("No prepared queries.");
            foreach (var q in list.Queries)
                run.Output.Line($"{q.ID}  {Output.Printable(q.Name.Length == 0 && q.Template.Type.Length == 0 ? "(unnamed)" : q.Name)}  service={Output.Printable(q.Service.Service)}" +
                    (q.Template.Type.Length > 0 ? $"  template={q.Template.Type}" : ""));
            if (list.FilteredByAcls) run.Output.Line("(some queries are not shown: this token may not read them)");
        });
        return command;
    }

    private static Command Get(CommandRunner runner)
    {
        var id = new Argument<string>("ID") { Description = "The query's ID" };
        var command = new Command("get", "Show a prepared query") { id };
        runner.OnClient(command, async (run, client) =>
        {
            var q = await client.GetPreparedQueryAsync(run.Get(id)!, run.CancellationToken);
            if (run.Output.Json) run.Output.WriteJson(new[] { q }); // Consul's GET /v1/query/:id answers an array of one
            else WriteQuery(run.Output, q);
        });
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var id = new Argument<string>("ID") { Description = "The query's ID" };
        var command = new Command("delete", "Delete a prepared query") { id };
        runner.OnClient(command, async (run, client) =>
        {
            var target = run.Get(id)!;
            await client.DeletePreparedQueryAsync(target, run.CancellationToken);
            if (!run.Output.Json) run.Output.Line($"Deleted prepared query {target}");
        });
        return command;
    }

    private static Command Explain(CommandRunner runner)
    {
        var idOrName = new Argument<string>("ID_OR_NAME") { Description = "A query's ID or a name (templates render for it)" };
        var command = new Command("explain", "Show the definition executing ID_OR_NAME would run (templates rendered)") { idOrName };
        runner.OnClient(command, async (run, client) =>
        {
            var q = await client.ExplainPreparedQueryAsync(run.Get(idOrName)!, run.CancellationToken);
            if (run.Output.Json) run.Output.WriteJson(new { Query = q });
            else WriteQuery(run.Output, q);
        });
        return command;
    }

    private static Command Execute(CommandRunner runner)
    {
        var idOrName = new Argument<string>("ID_OR_NAME") { Description = "A query's ID or a name (templates render for it)" };
        var limit = CliParsers.IntOption("--limit", "Answer at most this many instances (0: all)");
        var connect = new Option<bool>("--connect") { Description = "Answer with Connect-capable endpoints (sidecar proxies, native services)" };
        var near = new Option<string?>("--near") { Description = "Sort by RTT from this node (accepted; Meridian keeps no node coordinates, so the order stays random)", HelpName = "NODE" };
        var command = new Command("execute", "Run a prepared query: local instances first, its failover datacenters only when there are none") { idOrName, limit, connect, near };
        runner.OnClient(command, async (run, client) =>
        {
            var answer = await client.ExecutePreparedQueryAsync(run.Get(idOrName)!,
                new QueryExecuteOptionsDto { Limit = run.Get(limit) ?? 0, Connect = run.Get(connect), Near = run.Get(near) ?? "" }, run.CancellationToken);
            if (run.Output.Json)
            {
                // Consul's GET /v1/query/:id/execute answer (DNS, Datacenter and Failovers at the top, not per node).
                run.Output.WriteJson(new { answer.Service, answer.Nodes, answer.DNS, answer.Datacenter, PeerName = "", answer.Failovers });
                return;
            }
            run.Output.Line($"Datacenter: {answer.Datacenter}  Failovers: {answer.Failovers}" + (answer.AddressesTranslated ? "  (WAN addresses)" : ""));
            if (answer.Nodes.IsEmpty) run.Output.Line("No healthy instances.");
            foreach (var n in answer.Nodes)
            {
                var address = string.IsNullOrEmpty(n.Service.Address) ? n.Node.Address : n.Service.Address;
                run.Output.Line($"{Output.Printable(n.Node.Node)}\t{Output.Printable(n.Service.ID)}\t{Output.Printable(address)}:{n.Service.Port}\t{n.Node.Datacenter}");
            }
        });
        return command;
    }

    private static void WriteQuery(Output output, PreparedQueryDto q)
    {
        static string List(IEnumerable<string> items) => string.Join(", ", items.Select(Output.Printable));
        static string Map(ImmutableDictionary<string, string> map) => string.Join(", ", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Output.Printable($"{p.Key}={p.Value}")));
        var s = q.Service;
        output.Fields(
            ("ID", q.ID),
            ("Name", Output.Printable(q.Name)),
            ("Session", q.Session.Length == 0 ? null : q.Session),
            ("Token", q.Token.Length == 0 ? null : q.Token),
            ("Service", Output.Printable(s.Service)),
            ("Template", q.Template.Type.Length == 0 ? null : q.Template.Type + (q.Template.Regexp.Length == 0 ? "" : $" {Output.Printable(q.Template.Regexp)}")
                + (q.Template.RemoveEmptyTags ? " (empty tags removed)" : "")),
            ("NearestN", s.Failover.NearestN == 0 ? null : s.Failover.NearestN.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("Datacenters", s.Failover.Datacenters.IsDefaultOrEmpty ? null : List(s.Failover.Datacenters)),
            ("OnlyPassing", s.OnlyPassing ? "true" : null),
            ("Near", s.Near.Length == 0 ? null : Output.Printable(s.Near)),
            ("Tags", s.Tags.IsDefaultOrEmpty ? null : List(s.Tags)),
            ("NodeMeta", s.NodeMeta is null || s.NodeMeta.IsEmpty ? null : Map(s.NodeMeta)),
            ("ServiceMeta", s.ServiceMeta is null || s.ServiceMeta.IsEmpty ? null : Map(s.ServiceMeta)),
            ("IgnoreCheckIDs", s.IgnoreCheckIDs.IsDefaultOrEmpty ? null : List(s.IgnoreCheckIDs)),
            ("Connect", s.Connect ? "true" : null),
            ("DNS TTL", q.DNS.TTL.Length == 0 ? null : q.DNS.TTL),
            ("CreateIndex", q.CreateIndex.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("ModifyIndex", q.ModifyIndex.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }
}
