using Meridian.Core.Intentions;
using Meridian.Core.Validation;

namespace Meridian.Grains.Intentions;

/// <summary>
/// Parses a source/destination pair given as <c>[ns/]name</c>, reporting both problems at once. Queries (check) apply
/// the name rule; <c>existing</c> addresses a stored intention (get, delete) without it, so one written
/// before the rule was enforced can still be read and deleted.
/// </summary>
internal static class IntentionRefs
{
    public static (ServiceSelector Source, ServiceSelector Destination) Parse(string? source, string? destination, bool existing = false)
    {
        List<ValidationProblem> problems = [];
        var src = TryParse(source, "source", existing, problems);
        var dst = TryParse(destination, "destination", existing, problems);
        DomainValidationException.ThrowIfAny(problems);
        return (src, dst);
    }

    /// <summary>Parses every name, reporting every problem at once.</summary>
    public static List<ServiceSelector> ParseAll(IEnumerable<string> names, string field)
    {
        List<ValidationProblem> problems = [];
        var selectors = names.Select(n => TryParse(n, field, existing: false, problems)).ToList();
        DomainValidationException.ThrowIfAny(problems);
        return selectors;
    }

    private static ServiceSelector TryParse(string? value, string field, bool existing, List<ValidationProblem> problems)
    {
        try
        {
            return existing ? ServiceSelector.ParseLenient(value, field) : ServiceSelector.Parse(value, field);
        }
        catch (DomainValidationException e)
        {
            problems.AddRange(e.Problems);
            return default;
        }
    }
}
