using System.Collections.Immutable;
using System.CommandLine;
using System.CommandLine.Parsing;
using Meridian.Core.Certificates;

namespace Meridian.Cli;

/// <summary>One problem with the command line, naming the option (or environment variable) it concerns.</summary>
internal sealed record CliProblem(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>Bad command-line input found while a command runs (exit code 2). Nothing was sent.</summary>
internal sealed class CliUsageException(IReadOnlyList<CliProblem> problems)
    : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<CliProblem> Problems { get; } = problems;

    public static void ThrowIfAny(IReadOnlyList<CliProblem> problems)
    {
        if (problems.Count > 0) throw new CliUsageException(problems);
    }
}

/// <summary>A <c>[NS/]NAME</c> service reference; <see cref="Namespace"/> is empty when not given (the server defaults it).</summary>
internal readonly record struct ServiceRef(string Namespace, string Name)
{
    /// <summary>The reference as the API's <c>[ns/]name</c> text.</summary>
    public override string ToString() => Namespace.Length == 0 ? Name : $"{Namespace}/{Name}";
}

/// <summary>Typed option values. Errors are attached to the option, so the user sees <c>--option: message</c>.</summary>
internal static class CliParsers
{
    /// <summary>Returns why <paramref name="text"/> is not <c>HOST:PORT</c>, or null. Syntax only; no DNS lookup.</summary>
    public static string? CheckEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon].Trim('[', ']') : "";
        if (colon <= 0 || host.Length == 0 || host.Any(char.IsWhiteSpace)
            || !int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, null, out var port)
            || port is < 1 or > 65535)
        {
            return $"\"{text}\" must be HOST:PORT with a port between 1 and 65535, e.g. 127.0.0.1:30000";
        }
        return null;
    }

    /// <summary>Parses <c>[NS/]NAME</c>; null with the reason on failure.</summary>
    public static ServiceRef? ParseServiceRef(string text, out string? error)
    {
        var parts = text.Split('/');
        error = parts.Length is 1 or 2 && parts.All(p => p.Length > 0 && !p.Any(char.IsWhiteSpace))
            ? null
            : $"\"{text}\" must be NAME or NS/NAME";
        return error is null ? (parts.Length == 1 ? new ServiceRef("", parts[0]) : new ServiceRef(parts[0], parts[1])) : null;
    }

    /// <summary>Parses repeated <c>K=V</c> tokens; a later key replaces an earlier one.</summary>
    public static ImmutableDictionary<string, string> ParseMeta(IEnumerable<string> tokens, out List<string> errors)
    {
        errors = [];
        var meta = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var token in tokens)
        {
            var eq = token.IndexOf('=');
            if (eq <= 0) errors.Add($"\"{token}\" must be KEY=VALUE");
            else meta[token[..eq]] = token[(eq + 1)..];
        }
        return meta.ToImmutable();
    }

    public static Option<ServiceRef?> ServiceRefOption(string name, string description, bool required = false) => new(name)
    {
        Description = description,
        HelpName = "[NS/]NAME",
        Required = required,
        CustomParser = result => Single(result, ParseServiceRef),
    };

    public static Option<ImmutableDictionary<string, string>> MetaOption() => new("--meta")
    {
        Description = "Metadata KEY=VALUE (repeatable)",
        HelpName = "KEY=VALUE",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => ImmutableDictionary<string, string>.Empty,
        CustomParser = result =>
        {
            var meta = ParseMeta(result.Tokens.Select(t => t.Value), out var errors);
            errors.ForEach(result.AddError);
            return meta;
        },
    };

    /// <summary>A Go duration (<c>72h</c>, <c>1h30m</c>), with Go's error text.</summary>
    public static Option<TimeSpan?> DurationOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = result => Single<TimeSpan>(result, (string text, out string? error) =>
        {
            var ok = GoDuration.TryParse(text, out var value, out var goError);
            error = ok ? null : goError;
            return ok ? value : null;
        }),
    };

    private delegate T? TryParseText<T>(string text, out string? error) where T : struct;

    private static T? Single<T>(ArgumentResult result, TryParseText<T> parse) where T : struct
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        var value = parse(text, out var error);
        if (error is not null) result.AddError(error);
        return value;
    }
}
