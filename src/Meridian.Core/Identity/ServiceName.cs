using System.Diagnostics.CodeAnalysis;
using Meridian.Core.Validation;

namespace Meridian.Core.Identity;

/// <summary>
/// A concrete service name (never the wildcard <c>*</c>): lower-case ASCII letters, digits, <c>-</c> and <c>_</c>,
/// 1 to 128 characters. Stricter than Consul (which only warns on names that are not DNS-safe) so that a name is
/// always one DNS label-like token, one SPIFFE path segment and one grain-key component, and <c>Web</c> and
/// <c>web</c> can never be two services.
/// </summary>
public readonly record struct ServiceName
{
    /// <summary>Maximum length in characters.</summary>
    public const int MaxLength = 128;

    private ServiceName(string value) => Value = value;

    /// <summary>The validated name.</summary>
    public string Value { get; }

    /// <summary>Returns the problem with <paramref name="value"/>, or null when it is a valid service name.</summary>
    public static ValidationProblem? Check(string field, string? value) => IdentityText.Check(field, value, MaxLength);

    /// <summary>Parses a service name, throwing <see cref="DomainValidationException"/> naming <paramref name="field"/>.</summary>
    public static ServiceName Parse(string? value, string field = "Service")
    {
        if (Check(field, value) is { } problem) throw new DomainValidationException([problem]);
        return new ServiceName(value!);
    }

    /// <summary>Parses a service name; false when it is not valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ServiceName name)
    {
        name = Check("Service", value) is null ? new ServiceName(value!) : default;
        return name.Value is not null;
    }

    /// <inheritdoc />
    public override string ToString() => Value ?? "";
}
