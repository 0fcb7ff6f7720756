using System.Collections.Immutable;
using System.CommandLine;
using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary><c>meridian intention …</c> and <c>meridian authorize</c>.</summary>
internal static class IntentionCommands
{
    /// <summary>The JSON shape of <c>intention check</c> (Consul's <c>{"Allowed": …}</c>).</summary>
    internal sealed record CheckResult(bool Allowed);

    public static Command Create(CommandRunner runner)
    {
        var intention = new Command("intention", "Create, read, match and check intentions");
        intention.Subcommands.Add(Upsert(runner));
        intention.Subcommands.Add(Get(runner));
        intention.Subcommands.Add(Delete(runner));
        intention.Subcommands.Add(List(runner));
        intention.Subcommands.Add(Match(runner));
        intention.Subcommands.Add(Check(runner));
        return intention;
    }

    public static Command CreateAuthorize(CommandRunner runner)
    {
        var target = CliParsers.ServiceNameOption("--target", "Destination service being connected to");
        var uri = new Option<string>("--client-cert-uri") { Description = "URI SAN of the client certificate (spiffe://…)", Required = true, HelpName = "URI" };
        var command = new Command("authorize", "Decide whether a client certificate may connect to a service (Consul's L4 authorize)") { target, uri };
        runner.OnClient(command, async (run, client) =>
        {
            var request = new AuthorizeRequestDto { Target = run.Required(target), ClientCertURI = run.Required(uri) };
            var result = await client.AuthorizeAsync(request, run.CancellationToken);
            run.Output.Write(result, (o, r) => o.Line($"{(r.Authorized ? "authorized" : "denied")}: {r.Reason}"));
        }, new ApiFields(("--target", ["Target"]), ("--client-cert-uri", ["ClientCertURI"])));
        return command;
    }

    private static Command Upsert(CommandRunner runner)
    {
        var pair = new PairOptions();
        var action = new Option<string>("--action") { Description = "allow or deny", Required = true }.AcceptOnlyFromAmong("allow", "deny");
        var description = new Option<string?>("--description") { Description = "Free-form description (no control characters)", HelpName = "TEXT" };
        var meta = CliParsers.MetaOption();
        meta.Description = "Metadata KEY=VALUE (repeatable). Meta belongs to the destination's entry, shared by all its sources: "
            + "given, it replaces the entry's meta; omitted, the entry keeps what it has";
        var wait = WaitReplicatedOption();
        var command = pair.AddTo(new Command("upsert", UpsertDescription) { action, description, meta, wait });
        runner.OnClient(command, async (run, client) =>
        {
            var (source, destination) = pair.Services(run);
            var intention = new IntentionDto
            {
                SourceNS = source.Namespace,
                SourceName = source.Name,
                DestinationNS = destination.Namespace,
                DestinationName = destination.Name,
                SourceDatacenter = run.Get(pair.SourceDatacenter) ?? "",
                DestinationDatacenter = run.Get(pair.DestinationDatacenter) ?? "",
                Action = run.Required(action),
                Description = run.Get(description) ?? "",
                Meta = run.Get(meta) ?? ImmutableDictionary<string, string>.Empty,
            };
            var result = await client.UpsertIntentionAsync(intention, Writes(run, wait), run.CancellationToken);
            run.Output.Write(result, (o, r) => o.Line($"{source} => {destination} {intention.Action}: written at index {r.Index} in {r.CommittedIn}"));
        }, UpsertFields);
        return command;
    }

    // Consul's config-entry model (service-intentions): every source of one destination lives in one entry, which
    // carries the Meta and the Create/ModifyIndex that each of its intentions shows. Consul's intentions read through
    // the legacy API report the entry's indexes too, so per-intention indexes would be ours alone.
    internal const string UpsertDescription =
        "Create or replace the intention for a source and destination. Names are lower-case letters, digits, '-' and '_' "
        + "(as for certificates), or '*'. Intentions are stored per destination, as Consul's service-intentions config "
        + "entries: Meta, CreateIndex and ModifyIndex belong to the destination's entry and are the same on all of its "
        + "intentions (writing one source bumps ModifyIndex on its siblings; CreateIndex is when the destination got its "
        + "first intention)";

    private static readonly ApiFields UpsertFields = new(
        ("--source", ["SourceNS", "SourceName", "SourcePartition"]),
        ("--destination", ["DestinationNS", "DestinationName", "DestinationPartition"]),
        ("--source-dc", ["SourceDatacenter"]),
        ("--destination-dc", ["DestinationDatacenter"]),
        ("--action", ["Action"]),
        ("--description", ["Description"]),
        ("--meta", ["Meta"]));

    // Get, delete and check name the pair as "source" and "destination".
    private static readonly ApiFields PairFields = new(("--source", ["source"]), ("--destination", ["destination"]));

    // --wait-replicated: a write through a secondary is committed in the primary; wait until this datacenter has it.
    private static Option<bool> WaitReplicatedOption() => new("--wait-replicated")
    {
        Description = "After a write through a secondary, wait (up to 1 minute) until this datacenter has replicated it",
    };

    private static WriteOptions Writes(CommandRun run, Option<bool> wait)
        => new() { ReadYourWrites = run.Get(wait), MaxWait = TimeSpan.FromMinutes(1) };

    private static Command Get(CommandRunner runner)
    {
        var pair = new PairOptions();
        var command = pair.AddTo(new Command("get", "Show the intention for an exact source and destination"));
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.GetIntentionAsync(pair.Ref(run), run.CancellationToken), WriteIntention), PairFields);
        return command;
    }

    private static Command Delete(CommandRunner runner)
    {
        var pair = new PairOptions();
        var wait = WaitReplicatedOption();
        var command = pair.AddTo(new Command("delete", "Delete the intention for a source and destination (no error when absent)") { wait });
        runner.OnClient(command, async (run, client) =>
        {
            var result = await client.DeleteIntentionAsync(pair.Ref(run), Writes(run, wait), run.CancellationToken);
            run.Output.Write(result, (o, r) => o.Line($"deleted at index {r.Index} in {r.CommittedIn}"));
        }, PairFields);
        return command;
    }

    private static Command List(CommandRunner runner)
    {
        var command = new Command("list", "List every intention, highest precedence first");
        runner.OnClient(command, async (run, client) =>
            run.Output.Write(await client.ListIntentionsAsync(run.CancellationToken), (o, list) =>
            {
                WriteRows(o, list.Intentions, "");
                // Consul says the same with X-Consul-Results-Filtered-By-ACLs: true (docs/acl.md).
                if (list.FilteredByAcls) o.Line("(filtered by ACLs: intentions the token may not read are not listed)");
            }));
        return command;
    }

    private static Command Match(CommandRunner runner)
    {
        var by = new Option<string>("--by") { Description = "Match intentions by source or by destination", Required = true }
            .AcceptOnlyFromAmong("source", "destination");
        var names = CliParsers.ServiceRefArgument("NAME", "Service names ([NS/]NAME)");
        var command = new Command("match", "List the intentions that apply to services, in evaluation order") { by, names };
        runner.OnClient(command, async (run, client) =>
        {
            var result = await client.MatchIntentionsAsync(run.Required(by), run.Get(names) ?? [], run.CancellationToken);
            run.Output.Write(result, (o, match) =>
            {
                foreach (var entry in match.Matches)
                {
                    o.Line($"{Output.Printable(entry.Name)}:");
                    WriteRows(o, entry.Intentions, "  ");
                }
            });
        }, new ApiFields(("<NAME>", ["name"]), ("--by", ["by"])));
        return command;
    }

    private static Command Check(CommandRunner runner)
    {
        var source = CliParsers.ServiceRefOption("--source", "Source service [NS/]NAME", required: true);
        var destination = CliParsers.ServiceRefOption("--destination", "Destination service [NS/]NAME", required: true);
        var command = new Command("check", "Whether the source may connect to the destination: exit 0 when allowed, 2 when denied (as Consul)")
        {
            source, destination,
        };
        runner.OnClient(command, async (run, client) =>
        {
            var allowed = await client.CheckIntentionAsync(
                run.Get(source)!.Value.ToString(), run.Get(destination)!.Value.ToString(), run.CancellationToken);
            run.Output.Write(new CheckResult(allowed), (o, r) => o.Line(r.Allowed ? "allowed" : "denied"));
            // Consul's `intention check` exits 2 when denied, so `consul intention check a b && …` scripts keep working.
            // 2 is also our bad-input code; both mean "do not connect", and only bad input writes to stderr.
            return allowed ? ExitCodes.Ok : ExitCodes.Denied;
        }, PairFields);
        return command;
    }

    private static void WriteIntention(Output o, IntentionDto i) => o.Fields(
        ("ID", i.ID),
        ("Source", Scoped(i.SourceNS, i.SourceName, i.SourceDatacenter)),
        ("Destination", Scoped(i.DestinationNS, i.DestinationName, i.DestinationDatacenter)),
        ("Action", ActionText(i)),
        ("Precedence", i.Precedence.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("Description", i.Description.Length == 0 ? null : Output.Printable(i.Description)),
        ("Meta", i.Meta.IsEmpty ? null : Output.Printable(string.Join(", ", i.Meta.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}")))),
        ("ModifyIndex", i.ModifyIndex.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static void WriteRows(Output o, ImmutableArray<IntentionDto> intentions, string indent)
    {
        if (intentions.IsEmpty) o.Line(indent + "(no intentions)");
        foreach (var i in intentions)
        {
            o.Line($"{indent}{Scoped(i.SourceNS, i.SourceName, i.SourceDatacenter)} => " +
                $"{Scoped(i.DestinationNS, i.DestinationName, i.DestinationDatacenter)} {ActionText(i)} (precedence {i.Precedence})");
        }
    }

    // An intention with L7 permissions has no single action; Consul's CLI shows them as "L7".
    private static string ActionText(IntentionDto i) => i.Permissions.IsDefaultOrEmpty ? i.Action : "L7";

    private static string Scoped(string ns, string name, string datacenter)
        => Output.Service(ns, name) + (datacenter.Length == 0 ? "" : $" (dc {datacenter})");

    /// <summary>The options naming one intention: its source, destination and optional datacenter scope.</summary>
    private sealed class PairOptions
    {
        public Option<ServiceRef?> Source { get; } = CliParsers.ServiceRefOption("--source", "Source service [NS/]NAME ('*' for any)", required: true);
        public Option<ServiceRef?> Destination { get; } = CliParsers.ServiceRefOption("--destination", "Destination service [NS/]NAME ('*' for any)", required: true);
        public Option<string?> SourceDatacenter { get; } = new("--source-dc") { Description = "Apply only to sources in this datacenter (default: any)", HelpName = "DC" };
        public Option<string?> DestinationDatacenter { get; } = new("--destination-dc") { Description = "Apply only to destinations in this datacenter (default: any)", HelpName = "DC" };

        public Command AddTo(Command command)
        {
            command.Options.Add(Source);
            command.Options.Add(Destination);
            command.Options.Add(SourceDatacenter);
            command.Options.Add(DestinationDatacenter);
            return command;
        }

        public (ServiceRef Source, ServiceRef Destination) Services(CommandRun run) => (run.Get(Source)!.Value, run.Get(Destination)!.Value);

        public IntentionRefDto Ref(CommandRun run)
        {
            var (source, destination) = Services(run);
            return new IntentionRefDto
            {
                Source = source.ToString(),
                Destination = destination.ToString(),
                SourceDatacenter = run.Get(SourceDatacenter) ?? "",
                DestinationDatacenter = run.Get(DestinationDatacenter) ?? "",
            };
        }
    }
}
