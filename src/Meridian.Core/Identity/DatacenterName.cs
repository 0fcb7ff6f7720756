using System.Diagnostics.CodeAnalysis;
using Meridian.Core.Validation;

namespace Meridian.Core.Identity;

/// <summary>
/// A datacenter name: lower-case ASCII letters, digits, <c>-</c> and <c>_</c>, 1 to 64 characters
/// (stricter than Consul, so that it is always safe inside a SPIFFE path segment and a grain key).
/// </summary>
public readonly record struct DatacenterName
{
    /// <summary>Maximum length in characters.</summary>
    public const int MaxLength = 64;

    private DatacenterName(string value) => Value = value;

    /// <summary>The validated name.</summary>
    public string Value { get; }

    /// <summary>Returns the problem with <paramref name="value"/>, or null when it is a valid datacenter name.</summary>
    public static ValidationProblem? Check(string field, string? value)
        => IdentityText.Check(field, value, MaxLength);

    /// <summary>Parses a datacenter name, throwing <see cref="DomainValidationException"/> naming <paramref name="field"/>.</summary>
    public static DatacenterName Parse(string? value, string field = "Datacenter")
    {
        if (Check(field, value) is { } problem) throw new DomainValidationException([problem]);
        return new DatacenterName(value!);
    }

    /// <summary>Parses a datacenter name; false when it is not valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out DatacenterName name)
    {
        name = Check("Datacenter", value) is null ? new DatacenterName(value!) : default;
        return name.Value is not null;
    }

    /// <inheritdoc />
    public override string ToString() => Value ?? "";
}

/// <summary>Shared character rules of datacenter and service names.</summary>
internal static class IdentityText
{
    internal static ValidationProblem? Check(string field, string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
            return new(field, ValidationCodes.Required, $"{field} must be set");
        if (value.Length > maxLength)
            return new(field, ValidationCodes.TooLong, $"{field} exceeds maximum length {maxLength}");
        foreach (var c in value)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
                return new(field, ValidationCodes.InvalidFormat,
                    $"{field} {ValidationText.Quote(value)} may contain only lower-case letters, digits, '-' and '_' (1-{maxLength} characters)");
        }
        return null;
    }
}
