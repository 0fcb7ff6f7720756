using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary>
/// Which command-line option each API field of a command comes from, so that a validation problem found by the
/// server names what the user typed (<c>--source</c>) rather than the API field (<c>SourceName</c>). Fields not in
/// the map are printed as the API names them.
/// </summary>
internal sealed class ApiFields
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    /// <param name="map">Each option with the API fields it fills.</param>
    public ApiFields(params (string Option, string[] Fields)[] map)
    {
        foreach (var (option, fields) in map)
            foreach (var field in fields) _options.Add(field, option);
    }

    /// <summary>The exception with every problem renamed (the same exception when nothing maps).</summary>
    public MeridianValidationException Rename(MeridianValidationException invalid)
        => invalid.Problems.Any(p => _options.ContainsKey(p.Field)) ? new([.. invalid.Problems.Select(Rename)]) : invalid;

    /// <summary>
    /// The problem under its option. Core messages start with the field ("SourceName \"Web\" may contain only …",
    /// "SourceName: wildcard …"): that prefix is dropped, so the line reads <c>--source: "Web" may contain only …</c>.
    /// </summary>
    public ValidationProblemDto Rename(ValidationProblemDto problem)
    {
        if (!_options.TryGetValue(problem.Field, out var option)) return problem;
        var message = problem.Message.StartsWith(problem.Field, StringComparison.Ordinal)
            ? problem.Message[problem.Field.Length..].TrimStart(':', ' ')
            : problem.Message;
        return problem with { Field = option, Message = message };
    }
}
