using Meridian.Core.Validation;

namespace Meridian.Core.Identity;

/// <summary>
/// A datacenter name: lower-case ASCII letters, digits, <c>-</c> and <c>_</c>, 1 to 64 characters
/// (stricter than Consul, so that it is always safe inside a SPIFFE path segment and a grain key).
/// </summary>
public readonly record struct DatacenterName
{
    public const int MaxLength = 64;

    private DatacenterName(string value) => Value = value;

    /// <summary>The validated name.</summary>
    public string Value { get; }

    /// <summary>Returns the problem with <paramref name="value"/>, or null when it is a valid datacenter name.</summary>
    public static ValidationProblem? Check(string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
            return new(field, ValidationCodes.Required, $"{field} must be set");
        if (value.Length > MaxLength)
            return new(field, ValidationCodes.TooLong, $"{field} exceeds maximum length {MaxLength}");
        foreach (var c in value)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
                return new(field, ValidationCodes.InvalidFormat,
                    $"{field} \"{value}\" may contain only lower-case letters, digits, '-' and '_' (1-{MaxLength} characters)");
        }
        return null;
    }

    /// <summary>Parses a datacenter name, throwing <see cref="DomainValidationException"/> naming <paramref name="field"/>.</summary>
    public static DatacenterName Parse(string? value, string field = "Datacenter")
    {
        if (Check(field, value) is { } problem) throw new DomainValidationException([problem]);
        return new DatacenterName(value!);
    }

    public static bool TryParse(string? value, out DatacenterName name)
    {
        name = Check("Datacenter", value) is null ? new DatacenterName(value!) : default;
        return name.Value is not null;
    }

    /// <inheritdoc />
    public override string ToString() => Value ?? "";
}
