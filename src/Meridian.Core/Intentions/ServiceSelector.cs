using Meridian.Core.Identity;
using Meridian.Core.Validation;

namespace Meridian.Core.Intentions;

/// <summary>
/// A service named in a match query: partition, namespace and name (each defaulting to <c>default</c>).
/// Parsed from <c>name</c>, <c>ns/name</c> or <c>partition/ns/name</c> (SPEC §1.5).
/// </summary>
public readonly record struct ServiceSelector
{
    /// <summary>Creates a selector; empty namespace/partition become <c>default</c>.</summary>
    public ServiceSelector(string @namespace, string name, string? partition = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Namespace = IntentionConstants.OrDefault(@namespace);
        Name = name;
        Partition = IntentionConstants.OrDefault(partition);
    }

    /// <summary>Namespace (or <c>*</c>).</summary>
    public string Namespace { get; }

    /// <summary>Service name (or <c>*</c>).</summary>
    public string Name { get; }

    /// <summary>Partition.</summary>
    public string Partition { get; }

    /// <summary>
    /// Parses <c>name</c>, <c>ns/name</c> or <c>partition/ns/name</c>. Throws <see cref="DomainValidationException"/>
    /// (field <paramref name="field"/>) for empty segments, too many segments, a <c>peer:</c> prefix, or a segment that
    /// breaks the name rule (<see cref="ServiceName"/>; <c>*</c> allowed for namespace and name, not for partition).
    /// </summary>
    public static ServiceSelector Parse(string? value, string field = "name")
    {
        var selector = ParseLenient(value, field);
        List<ValidationProblem> problems = [];
        if (selector.Partition != IntentionConstants.Default && ServiceName.Check(field, selector.Partition) is { } p) problems.Add(p);
        if (ServiceName.CheckSelector(field, selector.Namespace) is { } n) problems.Add(n);
        if (ServiceName.CheckSelector(field, selector.Name) is { } s) problems.Add(s);
        DomainValidationException.ThrowIfAny(problems);
        return selector;
    }

    /// <summary>
    /// Like <see cref="Parse"/> but without the name rule, for addressing an intention that already exists (get,
    /// delete): one stored before the rule was enforced must stay readable and deletable.
    /// </summary>
    public static ServiceSelector ParseLenient(string? value, string field = "name")
    {
        if (string.IsNullOrEmpty(value))
            throw new DomainValidationException(field, ValidationCodes.Required, $"{field} must be set");
        if (value.StartsWith("peer:", StringComparison.Ordinal))
            throw new DomainValidationException(field, ValidationCodes.Forbidden,
                $"{field} {IntentionRules.Quote(value)}: peer names are not supported when matching intentions");
        var parts = value.Split('/');
        if (parts.Length > 3 || parts.Any(p => p.Length == 0))
            throw new DomainValidationException(field, ValidationCodes.InvalidFormat,
                $"{field} {IntentionRules.Quote(value)} must be one of 'name', 'namespace/name' or 'partition/namespace/name'");
        return parts.Length switch
        {
            1 => new ServiceSelector(IntentionConstants.Default, parts[0]),
            2 => new ServiceSelector(parts[0], parts[1]),
            _ => new ServiceSelector(parts[1], parts[2], parts[0]),
        };
    }

    /// <inheritdoc />
    public override string ToString()
        => Partition == IntentionConstants.Default ? $"{Namespace}/{Name}" : $"{Partition}/{Namespace}/{Name}";
}

/// <summary>Which end of an intention a match query selects on.</summary>
public enum IntentionMatchType
{
    /// <summary>Intentions whose source matches the name.</summary>
    Source = 1,

    /// <summary>Intentions whose destination matches the name.</summary>
    Destination = 2,
}
