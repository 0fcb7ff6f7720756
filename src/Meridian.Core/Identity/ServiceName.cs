using System.Diagnostics.CodeAnalysis;
using Meridian.Core.Validation;

namespace Meridian.Core.Identity;

/// <summary>
/// A concrete service name (never the wildcard <c>*</c>): lower-case ASCII letters, digits, <c>-</c> and <c>_</c>,
/// 1 to 128 characters. Stricter than Consul (which only warns on names that are not DNS-safe) so that a name is
/// always one DNS label-like token, one SPIFFE path segment and one grain-key component, and <c>Web</c> and
/// <c>web</c> can never be two services. This is the one name rule of the API: certificates, intention sources and
/// destinations (and their namespaces and partitions), authorize targets and intention match/check names all use it,
/// so nothing can be written under a name that another part refuses. Consul requires the same for Connect: service
/// names "must be valid DNS labels" (its docs on service names), and a name is one SPIFFE path segment.
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

    /// <summary>
    /// Like <see cref="Check"/>, but the full wildcard <c>*</c> (any service, or any namespace) is valid too; a partial
    /// wildcard (<c>web*</c>) is not, and is left to the caller's wildcard rules (Consul's messages) when
    /// <paramref name="skipPartialWildcard"/> is set.
    /// </summary>
    public static ValidationProblem? CheckSelector(string field, string? value, bool skipPartialWildcard = false)
    {
        if (value == Wildcard) return null;
        if (skipPartialWildcard && value is not null && value.Contains(Wildcard, StringComparison.Ordinal)) return null;
        return Check(field, value);
    }

    /// <summary>The full wildcard, valid where a selector (not a concrete service) is expected.</summary>
    public const string Wildcard = "*";

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
