using System.Collections.Immutable;
using System.CommandLine;
using System.CommandLine.Parsing;
using Meridian.Core.Certificates;
using Meridian.Core.Identity;

namespace Meridian.Cli;

/// <summary>One problem with the command line, naming the option (or environment variable) it concerns.</summary>
internal sealed record CliProblem(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";

    /// <summary>
    /// A Core problem's message for a CLI line that names the option itself: Core's messages start with the API
    /// field ("Datacenter \"DC 1!\" may contain …"), which the option replaces.
    /// </summary>
    public static string WithoutField(Meridian.Core.Validation.ValidationProblem problem)
        => problem.Message.StartsWith(problem.Field + " ", StringComparison.Ordinal) ? problem.Message[(problem.Field.Length + 1)..] : problem.Message;
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
    /// <summary>Parses <c>[NS/]NAME</c>; null with the reason on failure.</summary>
    public static ServiceRef? ParseServiceRef(string text, out string? error)
    {
        var parts = text.Split('/');
        error = parts.Length is 1 or 2 && parts.All(p => p.Length > 0 && !p.Any(char.IsWhiteSpace))
            ? null
            : $"\"{text}\" must be NAME or NS/NAME";
        return error is null ? (parts.Length == 1 ? new ServiceRef("", parts[0]) : new ServiceRef(parts[0], parts[1])) : null;
    }

    /// <summary>Parses repeated <c>K=V</c> tokens; a key given twice is an error (which value was meant is unknown).</summary>
    public static ImmutableDictionary<string, string> ParseMeta(IEnumerable<string> tokens, out List<string> errors)
    {
        errors = [];
        var meta = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var token in tokens)
        {
            var eq = token.IndexOf('=');
            if (eq <= 0) errors.Add($"\"{token}\" must be KEY=VALUE");
            else if (!meta.TryAdd(token[..eq], token[(eq + 1)..])) errors.Add($"key \"{token[..eq]}\" is given more than once");
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

    /// <summary>A concrete service name, checked with Core's rule before anything is sent.</summary>
    public static Option<string> ServiceNameOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "NAME",
        Required = true,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (ServiceName.Check(name, text) is { } problem) result.AddError(CliProblem.WithoutField(problem));
            return text;
        },
    };

    /// <summary><c>[NS/]NAME</c> arguments, each checked like <see cref="ServiceRefOption"/>.</summary>
    public static Argument<string[]> ServiceRefArgument(string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
        CustomParser = result =>
        {
            foreach (var token in result.Tokens)
            {
                if (ParseServiceRef(token.Value, out var error) is null) result.AddError(error!);
            }
            return [.. result.Tokens.Select(t => t.Value)];
        },
    };

    /// <summary>A whole number; the error names the value, not a .NET type.</summary>
    public static Option<int?> IntOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result => Single<int>(result, (string text, out string? error) =>
        {
            var ok = int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value);
            error = ok ? null : $"\"{text}\" is not a whole number";
            return ok ? value : null;
        }),
    };

    /// <summary>A certificate serial number as Meridian prints it: hex bytes, colon-separated (<c>0e:4a:…</c>).</summary>
    public static Option<string?> SerialOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "SERIAL",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (text.Length == 0 || !text.Split(':').All(b => b.Length is 1 or 2 && b.All(char.IsAsciiHexDigit)))
                result.AddError($"\"{text}\" must be a serial number as printed by `meridian cert get`, hex bytes separated by ':' (e.g. 0e:4a:9f)");
            return text;
        },
    };

    public static Option<ImmutableDictionary<string, string>> MetaOption(string name = "--meta") => KeyValueOption(name, "Metadata KEY=VALUE (repeatable)");

    /// <summary>A repeatable <c>KEY=VALUE</c> option (empty when not given).</summary>
    public static Option<ImmutableDictionary<string, string>> KeyValueOption(string name, string description) => new(name)
    {
        Description = description,
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
