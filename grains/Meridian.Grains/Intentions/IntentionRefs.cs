using Meridian.Core.Intentions;
using Meridian.Core.Validation;

namespace Meridian.Grains.Intentions;

/// <summary>Parses a source/destination pair given as <c>[ns/]name</c>, reporting both problems at once.</summary>
internal static class IntentionRefs
{
    public static (ServiceSelector Source, ServiceSelector Destination) Parse(string? source, string? destination)
    {
        List<ValidationProblem> problems = [];
        var src = TryParse(source, "source", problems);
        var dst = TryParse(destination, "destination", problems);
        DomainValidationException.ThrowIfAny(problems);
        return (src, dst);
    }

    private static ServiceSelector TryParse(string? value, string field, List<ValidationProblem> problems)
    {
        try
        {
            return ServiceSelector.Parse(value, field);
        }
        catch (DomainValidationException e)
        {
            problems.AddRange(e.Problems);
            return default;
        }
    }
}
