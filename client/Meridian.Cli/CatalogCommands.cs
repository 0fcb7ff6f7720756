using System.Collections.Immutable;
using System.CommandLine;
using System.Text.Json;
using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian catalog register|deregister|nodes|services|service</c>, <c>meridian health service</c> and
/// <c>meridian check pass|warn|fail</c>. <c>--json</c> prints Consul's shapes: <c>catalog services</c> a name-to-tags
/// object, <c>catalog nodes</c> the node list, <c>catalog service</c> <c>ServiceNode</c>s, <c>health service</c>
/// <c>CheckServiceNode</c>s.
/// </summary>
internal static class CatalogCommands
{
    public static Command Create(CommandRunner runner)
    {
        var catalog = new Command("catalog", "Register and read nodes, services and checks (Consul's catalog)");
        catalog.Subcommands.Add(Register(runner));
        catalog.Subcommands.Add(Deregister(runner));
        catalog.Subcommands.Add(Nodes(runner));
        catalog.Subcommands.Add(Services(runner));
        catalog.Subcommands.Add(Service(runner));
        return catalog;
    }

    public static Command CreateHealth(CommandRunner runner)
    {
        var health = new Command("health", "Read the health of service instances");
        var name = new Argument<string>("NAME") { Description = "The service" };
        var passing = new Option<bool>("--passing") { Description = "Only instances whose checks (their own and their node's) all pass" };
        var dc = DcOption();
        var service = new Command("service", "Each instance of a service with its node and every check that affects it") { name, passing, dc };
        runner.OnClient(service, async (run, client) =>
        {
            var answer = await client.GetServiceHealthAsync(run.Get(name) ?? "", run.Get(passing), run.Get(dc), run.CancellationToken);
            if (run.Output.Json) run.Output.WriteJson(answer.Instances);
            else
            {
                foreach (var i in answer.Instances)
                {
                    var worst = i.Checks.Select(c => c.Status).OrderByDescending(Rank).FirstOrDefault() ?? "passing";
                    run.Output.Line($"{Output.Printable(i.Node.Node)}\t{Output.Printable(i.Service.ID)}\t{Address(i)}\t{worst}");
                }
                Filtered(run.Output, answer.FilteredByAcls);
            }
        });
        health.Subcommands.Add(service);
        return health;
    }

    public static Command CreateCheck(CommandRunner runner)
    {
        var check = new Command("check", "Set a check's status (refreshes a TTL check)");
        foreach (var (verb, status) in new[] { ("pass", "passing"), ("warn", "warning"), ("fail", "critical") })
        {
            var id = new Argument<string>("ID") { Description = "The check ID" };
            var node = new Option<string?>("--node")
            {
                Description = "The check's node; when omitted the check is looked up by ID (an ID on several nodes needs --node)",
                HelpName = "NODE",
            };
            var note = new Option<string?>("--note") { Description = "Text for the check's Output", HelpName = "TEXT" };
            var dc = DcOption();
            var command = new Command(verb, $"Mark a check {status}") { id, node, note, dc };
            runner.OnClient(command, async (run, client) =>
            {
                var result = await client.UpdateCheckAsync(run.Get(id) ?? "", status, run.Get(node), run.Get(note), run.Get(dc), run.CancellationToken);
                run.Output.Write(result, (o, c) => o.Line($"{Output.Printable(c.CheckID)} on {Output.Printable(c.Node)}: {c.Status}"));
            }, new ApiFields(("--node", ["Node", "node"]), ("ID", ["CheckID"])));
            check.Subcommands.Add(command);
        }
        HealthCheckCommand.AddTo(check, runner);
        return check;
    }

    private static Option<string?> DcOption() => new("--dc")
    {
        Description = "The datacenter to ask (default: the one connected to); another one is reached over its link",
        HelpName = "DC",
    };

    private static Command Register(CommandRunner runner)
    {
        var file = new Option<string?>("--file") { Description = "A JSON body of Consul's PUT /v1/catalog/register (instead of the options below)", HelpName = "PATH" };
        var node = new Option<string?>("--node") { Description = "The node name", HelpName = "NODE" };
        var address = new Option<string?>("--address") { Description = "The node's address", HelpName = "ADDRESS" };
        var nodeId = new Option<string?>("--node-id") { Description = "The node's UUID", HelpName = "UUID" };
        var dc = new Option<string?>("--dc") { Description = "The datacenter to register in (the body's Datacenter)", HelpName = "DC" };
        var tagged = CliParsers.KeyValueOption("--tagged-address", "A node tagged address NAME=ADDRESS (lan, wan, lan_ipv4…; repeatable)");
        var nodeMeta = CliParsers.KeyValueOption("--node-meta", "Node metadata KEY=VALUE (repeatable)");
        var skip = new Option<bool>("--skip-node-update") { Description = "Leave the node's fields as they are (no --address needed)" };
        var service = new Option<string?>("--service") { Description = "A service instance on the node: its name", HelpName = "NAME" };
        var serviceId = new Option<string?>("--service-id") { Description = "The instance's ID (default: the name)", HelpName = "ID" };
        var serviceAddress = new Option<string?>("--service-address") { Description = "The instance's address (default: the node's)", HelpName = "ADDRESS" };
        var port = CliParsers.IntOption("--port", "The instance's port");
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeatable)", Arity = ArgumentArity.OneOrMore, HelpName = "TAG" };
        var serviceMeta = CliParsers.KeyValueOption("--service-meta", "Service metadata KEY=VALUE (repeatable)");
        var kind = new Option<string?>("--kind") { Description = "\"\" or connect-proxy", HelpName = "KIND" };
        var destination = new Option<string?>("--proxy-destination") { Description = "A connect-proxy's destination service", HelpName = "NAME" };
        var checkId = new Option<string?>("--check-id") { Description = "A check: its ID", HelpName = "ID" };
        var checkName = new Option<string?>("--check-name") { Description = "The check's name (default: its ID)", HelpName = "NAME" };
        var checkStatus = new Option<string?>("--check-status") { Description = "passing, warning or critical (default: critical)", HelpName = "STATUS" };
        var checkTtl = new Option<string?>("--check-ttl") { Description = "A TTL (30s): the check turns critical when not refreshed in time (`meridian check pass`)", HelpName = "DURATION" };
        var nodeCheck = new Option<bool>("--node-check") { Description = "The check is on the node (affects every instance on it), not on the service" };
        var command = new Command("register", "Register a node, optionally a service instance and a check on it (Consul's catalog register)")
        {
            file, node, address, nodeId, dc, tagged, nodeMeta, skip, service, serviceId, serviceAddress, port, tags, serviceMeta,
            kind, destination, checkId, checkName, checkStatus, checkTtl, nodeCheck,
        };
        runner.OnClient(command, async (run, client) =>
        {
            CatalogRegisterRequestDto request;
            if (run.Get(file) is { } path)
                request = JsonSerializer.Deserialize<CatalogRegisterRequestDto>(await File.ReadAllTextAsync(path, run.CancellationToken), FileJson)
                    ?? throw new InvalidDataException($"{path}: empty JSON");
            else
            {
                NodeServiceDto? instance = run.Get(service) is { } name ? new NodeServiceDto
                {
                    ID = run.Get(serviceId) ?? "", Service = name, Address = run.Get(serviceAddress) ?? "", Port = run.Get(port) ?? 0,
                    Tags = [.. run.Get(tags) ?? []], Meta = run.Get(serviceMeta) ?? ImmutableDictionary<string, string>.Empty,
                    Kind = run.Get(kind) ?? "",
                    Proxy = run.Get(destination) is { } d ? new ProxyDto { DestinationServiceName = d } : null,
                } : null;
                HealthCheckDto? check = run.Get(checkId) is { } cid ? new HealthCheckDto
                {
                    CheckID = cid, Name = run.Get(checkName) ?? cid, Status = run.Get(checkStatus) ?? "",
                    ServiceID = instance is null || run.Get(nodeCheck) ? "" : string.IsNullOrEmpty(instance.ID) ? instance.Service : instance.ID,
                    Type = run.Get(checkTtl) is null ? "" : "ttl",
                    Definition = new HealthCheckDefinitionDto { TTL = run.Get(checkTtl) ?? "" },
                } : null;
                request = new CatalogRegisterRequestDto
                {
                    Node = run.Get(node) ?? "", Address = run.Get(address) ?? "", ID = run.Get(nodeId) ?? "", Datacenter = run.Get(dc) ?? "",
                    TaggedAddresses = run.Get(tagged) ?? ImmutableDictionary<string, string>.Empty,
                    NodeMeta = run.Get(nodeMeta) ?? ImmutableDictionary<string, string>.Empty,
                    SkipNodeUpdate = run.Get(skip), Service = instance, Check = check,
                };
            }
            var index = await client.RegisterCatalogAsync(request, run.CancellationToken);
            run.Output.Write(new WriteResult(index), (o, r) => o.Line($"registered {Output.Printable(request.Node)} at index {r.Index}"));
        }, RegisterFields);
        return command;
    }

    /// <summary>The JSON of a catalog write: the index it was written at.</summary>
    internal sealed record WriteResult(ulong Index);

    private static readonly JsonSerializerOptions FileJson = new() { PropertyNameCaseInsensitive = true };

    private static readonly ApiFields RegisterFields = new(
        ("--node", ["Node"]), ("--address", ["Address"]), ("--service", ["Service.Service"]),
        ("--service-address", ["Service.Address"]), ("--port", ["Service.Port"]), ("--kind", ["Service.Kind"]),
        ("--proxy-destination", ["Service.Proxy.DestinationServiceName"]),
        ("--check-status", ["Checks[0].Status"]), ("--check-ttl", ["Checks[0].Definition.TTL"]), ("--check-id", ["Checks[0].CheckID"]));

    private static Command Deregister(CommandRunner runner)
    {
        var node = new Option<string?>("--node") { Description = "The node", HelpName = "NODE" };
        var serviceId = new Option<string?>("--service-id") { Description = "Remove only this service instance", HelpName = "ID" };
        var checkId = new Option<string?>("--check-id") { Description = "Remove only this check", HelpName = "ID" };
        var dc = new Option<string?>("--dc") { Description = "The datacenter (the body's Datacenter)", HelpName = "DC" };
        var command = new Command("deregister", "Remove a node with everything on it, or one service instance or check") { node, serviceId, checkId, dc };
        runner.OnClient(command, async (run, client) =>
        {
            var request = new CatalogDeregisterRequestDto
            {
                Node = run.Get(node) ?? "", ServiceID = run.Get(serviceId) ?? "", CheckID = run.Get(checkId) ?? "", Datacenter = run.Get(dc) ?? "",
            };
            var index = await client.DeregisterCatalogAsync(request, run.CancellationToken);
            run.Output.Write(new WriteResult(index), (o, r) => o.Line($"deregistered at index {r.Index}"));
        }, new ApiFields(("--node", ["Node"]), ("--service-id", ["ServiceID"]), ("--check-id", ["CheckID"])));
        return command;
    }

    private static Command Nodes(CommandRunner runner)
    {
        var dc = DcOption();
        var command = new Command("nodes", "List the nodes") { dc };
        runner.OnClient(command, async (run, client) =>
        {
            var answer = await client.GetCatalogNodesAsync(run.Get(dc), run.CancellationToken);
            if (run.Output.Json) run.Output.WriteJson(answer.Nodes);
            else
            {
                foreach (var n in answer.Nodes) run.Output.Line($"{Output.Printable(n.Node)}\t{Output.Printable(n.Address)}\t{n.Datacenter}");
                Filtered(run.Output, answer.FilteredByAcls);
            }
        });
        return command;
    }

    private static Command Services(CommandRunner runner)
    {
        var dc = DcOption();
        var command = new Command("services", "List the services and their tags") { dc };
        runner.OnClient(command, async (run, client) =>
        {
            var answer = await client.GetCatalogServicesAsync(run.Get(dc), run.CancellationToken);
            if (run.Output.Json) run.Output.WriteJson(answer.Services);
            else
            {
                foreach (var (name, tags) in answer.Services)
                    run.Output.Line(tags.IsDefaultOrEmpty ? Output.Printable(name) : $"{Output.Printable(name)}\t{Output.Printable(string.Join(",", tags))}");
                Filtered(run.Output, answer.FilteredByAcls);
            }
        });
        return command;
    }

    private static Command Service(CommandRunner runner)
    {
        var name = new Argument<string>("NAME") { Description = "The service" };
        var dc = DcOption();
        var command = new Command("service", "List a service's instances (Consul's ServiceNode entries)") { name, dc };
        runner.OnClient(command, async (run, client) =>
        {
            var answer = await client.GetCatalogServiceAsync(run.Get(name) ?? "", run.Get(dc), run.CancellationToken);
            run.Output.Write(answer, (o, list) =>
            {
                foreach (var s in list)
                    o.Line($"{Output.Printable(s.Node)}\t{Output.Printable(s.ServiceID)}\t{Output.Printable(s.ServiceAddress.Length > 0 ? s.ServiceAddress : s.Address)}:{s.ServicePort}");
            });
        });
        return command;
    }

    private static string Address(CheckServiceNodeDto i) =>
        Output.Printable($"{(i.Service.Address.Length > 0 ? i.Service.Address : i.Node.Address)}:{i.Service.Port}");

    private static int Rank(string status) => status switch { "passing" => 0, "warning" => 1, _ => 2 };

    // Consul says the same with X-Consul-Results-Filtered-By-ACLs: true (docs/acl.md).
    private static void Filtered(Output output, bool filtered)
    {
        if (filtered) output.Line("(filtered by ACLs: entries the token may not read are not listed)");
    }
}
