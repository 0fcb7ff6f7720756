using System.CommandLine;
using System.CommandLine.Parsing;
using Meridian.Client;
using Meridian.Grains;
using Microsoft.Extensions.Options;

namespace Meridian.Cli;

/// <summary>
/// The CLI's exit codes and the single mapping from errors to them. Results go to stdout, errors to stderr;
/// bad input prints one <c>field: message</c> line per problem.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
    public const int NotFound = 3;
    public const int PermissionDenied = 4;
    public const int Unreachable = 5;

    /// <summary><c>intention check</c> answered "denied": Consul's exit code for it (bad input shares it, on stderr).</summary>
    public const int Denied = 2;

    /// <summary>Prints the parser's errors as <c>--option: message</c> lines.</summary>
    public static int ReportParseErrors(IReadOnlyList<ParseError> errors, TextWriter error)
    {
        // Some parser messages span lines (the list of allowed values); a problem is one line.
        foreach (var e in errors)
            error.WriteLine($"{FieldOf(e.SymbolResult)}: {string.Join(' ', e.Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
        return BadInput;
    }

    /// <summary>Prints <paramref name="exception"/> to <paramref name="error"/> and returns its exit code.</summary>
    public static int Report(Exception exception, TextWriter error, ConnectionSettings? settings)
    {
        var (code, lines) = Classify(exception, settings);
        foreach (var line in lines) error.WriteLine(line);
        return code;
    }

    internal static (int Code, IEnumerable<string> Lines) Classify(Exception exception, ConnectionSettings? settings)
    {
        // The first exception in the chain we know wins; the CLI's own cases come before the SDK's at each step.
        foreach (var ex in Chain(exception))
        {
            switch (ex)
            {
                case CliUsageException usage:
                    return (BadInput, usage.Problems.Select(p => p.ToString()));
                // Before the connection cases: a silo `dev` could not start is not a gateway the CLI could not reach.
                // Bad configuration inside it is still bad input (the loop goes on to it).
                case DevSiloStartException start when !Chain(start.InnerException!).Any(i => i is OptionsValidationException):
                    return (Failed, [Prefixed(start.Message)]);
                case MeridianTlsConfigurationException tls:
                    return (BadInput, tls.Problems);
                case OptionsValidationException options:
                    return (BadInput, options.Failures);
                case MeridianWrongDatacenterException wrong:
                    return (Unreachable, [Prefixed($"{wrong.Message}; use --gateway with a gateway of {wrong.Datacenter}, or --datacenter {wrong.ServedDatacenter}")]);
            }
            if (MeridianFailure.TryClassify(ex, settings?.Datacenter, settings?.GatewayText, out var failure))
                return Lines(failure);
        }
        return Lines(MeridianFailure.Classify(exception));
    }

    private static (int Code, IEnumerable<string> Lines) Lines(MeridianFailure failure)
        => failure.Exception is MeridianValidationException
            ? (BadInput, failure.Problems.Select(MeridianFailure.ProblemLine))
            : (CodeOf(failure.Kind), [Prefixed(failure.Message)]);

    private static string Prefixed(string message) => "meridian: " + message;

    // Rate limits and a CA that is not ready yet stay 1: retried by the caller, not fixed by other input.
    private static int CodeOf(MeridianErrorKind kind) => kind switch
    {
        MeridianErrorKind.Validation => BadInput,
        MeridianErrorKind.NotFound => NotFound,
        MeridianErrorKind.PermissionDenied or MeridianErrorKind.NotPrimary => PermissionDenied,
        MeridianErrorKind.Unavailable => Unreachable,
        _ => Failed,
    };

    /// <summary>The exception, its inner exceptions, and every branch of a multi-exception AggregateException.</summary>
    internal static IEnumerable<Exception> Chain(Exception exception) => MeridianFailure.Chain(exception);

    // The option an error belongs to ("--gateway"), else the argument ("<names>") or the command path.
    private static string FieldOf(SymbolResult? symbol)
    {
        for (var s = symbol; s is not null; s = s.Parent)
        {
            switch (s)
            {
                case OptionResult option: return option.Option.Name;
                case ArgumentResult { Parent: not OptionResult } argument: return $"<{argument.Argument.Name}>";
                case CommandResult command: return CommandPath(command);
            }
        }
        return "meridian";
    }

    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? s = command; s is CommandResult c; s = s.Parent) names.Add(c.Command.Name);
        names.Reverse();
        names[0] = "meridian";
        return string.Join(' ', names);
    }
}
