using System.CommandLine;

namespace Meridian.Cli;

/// <summary>Builds and runs the <c>meridian</c> command tree.</summary>
internal static class MeridianCli
{
    /// <summary>The whole command tree, bound to <paramref name="context"/>.</summary>
    public static RootCommand Build(CliContext context)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand("Meridian: a multi-datacenter service-mesh control plane (intentions and the Connect CA).");
        globals.AddTo(root);
        var runner = new CommandRunner(context, globals);
        root.Subcommands.Add(DevCommand.Create(runner));
        root.Subcommands.Add(IntentionCommands.Create(runner));
        root.Subcommands.Add(IntentionCommands.CreateAuthorize(runner));
        root.Subcommands.Add(CaCommands.Create(runner));
        root.Subcommands.Add(CertCommands.Create(runner));
        root.Subcommands.Add(StatusCommand.Create(runner));
        root.Subcommands.Add(ReplicationCommands.Create(runner));
        root.Subcommands.Add(DatacentersCommand.Create(runner));
        root.Subcommands.Add(AclCommands.Create(runner));
        root.Subcommands.Add(QueryCommands.Create(runner));
        root.Subcommands.Add(UpstreamCommands.Create(runner));
        root.Subcommands.Add(KeygenCommand.Create(runner));
        root.Subcommands.Add(TlsCommands.Create(runner));
        root.Subcommands.Add(CatalogCommands.Create(runner));
        root.Subcommands.Add(CatalogCommands.CreateHealth(runner));
        root.Subcommands.Add(CatalogCommands.CreateCheck(runner));
        root.Subcommands.Add(ConnectCommands.Create(runner));
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliContext context, CancellationToken cancellationToken = default)
    {
        // NOTE: no response files. System.CommandLine expands any "@FILE" token into the file's words by default, which
        // turned Consul's `--rules @policy.hcl` into stray arguments (and would expand an "@" in any value).
        var parse = Build(context).Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        // The parser's own error action prints help and exits 1; bad input here is exit 2 with one line per problem.
        // Help and version clear parse errors (`meridian intention upsert --help` must still print help).
        if (parse.Errors.Count > 0 && parse.Action is not { ClearsParseErrors: true })
            return ExitCodes.ReportParseErrors(parse.Errors, context.Error);
        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            // Ctrl-C/SIGTERM cancel the action; give `meridian dev` time to stop its silos before the process exits.
            ProcessTerminationTimeout = DevCommand.StopTimeout,
        };
        return await parse.InvokeAsync(invocation, cancellationToken);
    }
}
