using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net.Sockets;
using Meridian.Client;
using Meridian.Grains;
using Microsoft.Extensions.Options;
using Orleans.Networking.Shared;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

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
        // The first exception in the chain we know wins: host start-up and Orleans wrap the interesting one.
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
                case MeridianValidationException invalid:
                    return (BadInput, invalid.Problems.Select(ProblemLine));
                case MeridianTlsConfigurationException tls:
                    return (BadInput, tls.Problems);
                case OptionsValidationException options:
                    return (BadInput, options.Failures);
                case NotPrimaryDatacenterException notPrimary:
                    return (PermissionDenied, [Prefixed($"{ex.Message} (writes go to the primary datacenter {notPrimary.PrimaryDatacenter})")]);
                case MeridianWrongDatacenterException wrong:
                    return (Unreachable, [Prefixed($"{wrong.Message}; use --gateway with a gateway of {wrong.Datacenter}, or --datacenter {wrong.ServedDatacenter}")]);
                // Every other Meridian error by its kind: the silo and the SDK turn whatever else failed into one.
                case MeridianException meridian:
                    return (CodeOf(meridian.Kind), [Prefixed(ex.Message)]);
                case MeridianUnreachableException:
                    return (Unreachable, [Prefixed(ex.Message)]);
                case ConnectionFailedException or SocketConnectionException or SiloUnavailableException
                    or GatewayTooBusyException or SocketException or TimeoutException:
                    return (Unreachable, [Prefixed(settings is null
                        ? ex.Message
                        : $"cannot reach datacenter {settings.Datacenter} at gateway {settings.GatewayText}: {ex.Message}")]);
            }
        }
        return (Failed, [Prefixed(exception.Message)]);
    }

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

    // Core keeps Consul's message texts, many of which already start with the field ("SourceName: wildcard …"):
    // print the field once.
    private static string ProblemLine(ValidationProblemDto p) =>
        p.Message.StartsWith(p.Field + ": ", StringComparison.Ordinal) ? p.Message : $"{p.Field}: {p.Message}";

    /// <summary>The exception, its inner exceptions, and every branch of a multi-exception AggregateException.</summary>
    internal static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? ex = exception; ex is not null; ex = ex.InnerException)
        {
            yield return ex;
            if (ex is AggregateException { InnerExceptions.Count: > 1 } aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain)) yield return inner;
                yield break;
            }
        }
    }

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
