namespace Meridian.Core.Validation;

/// <summary>
/// One problem found in user input. <paramref name="Field"/> names the input field as the user wrote it
/// (for intentions: Consul's field names, e.g. <c>SourceName</c>); <paramref name="Code"/> is a stable
/// snake_case code callers may branch on; <paramref name="Message"/> is the human text (Consul's where one exists).
/// </summary>
public sealed record ValidationProblem(string Field, string Code, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>Stable snake_case codes used in <see cref="ValidationProblem.Code"/>.</summary>
public static class ValidationCodes
{
    public const string Required = "required";
    public const string PartialWildcard = "partial_wildcard";
    public const string ExactAfterWildcard = "exact_after_wildcard";
    public const string TooLong = "too_long";
    public const string TooMany = "too_many";
    public const string InvalidValue = "invalid_value";
    public const string InvalidFormat = "invalid_format";
    public const string DuplicatePair = "duplicate_pair";
    public const string Forbidden = "forbidden";
    public const string OutOfRange = "out_of_range";
    /// <summary>A wildcard where none is allowed (partition, for example).</summary>
    public const string WildcardNotAllowed = "wildcard_not_allowed";
    /// <summary>Two fields that may not be set together (or more than one of a set of alternatives).</summary>
    public const string MutuallyExclusive = "mutually_exclusive";
    /// <summary>The same value listed more than once.</summary>
    public const string Duplicate = "duplicate";
    /// <summary>A control or bidirectional-override character in text (see <see cref="ValidationText.IsForbidden"/>).</summary>
    public const string ControlCharacter = "control_character";
    /// <summary>A CSR whose signature does not verify, or whose signature algorithm is not supported.</summary>
    public const string InvalidSignature = "invalid_signature";
    /// <summary>An intermediate CSR without a URI SAN (the signing ID is required).</summary>
    public const string MissingUri = "missing_uri";
    /// <summary>An intermediate CSR whose URI is not the trust domain's signing ID.</summary>
    public const string NotSigningId = "not_signing_id";
    /// <summary>A DNS, IP or email SAN in a CSR that may carry only a URI.</summary>
    public const string SanNotAllowed = "san_not_allowed";
    /// <summary>A key type or size the CA configuration does not allow.</summary>
    public const string UnsupportedKey = "unsupported_key";
    /// <summary>A federation request naming the primary datacenter itself.</summary>
    public const string OwnDatacenter = "own_datacenter";
    /// <summary>A federation request from a datacenter the primary does not list as a member.</summary>
    public const string NotFederationMember = "not_federation_member";
    /// <summary>ACL policy rules that do not parse or name an access level the resource does not accept.</summary>
    public const string InvalidRules = "invalid_rules";
    /// <summary>A name or ID reserved for built-in ACL objects.</summary>
    public const string Reserved = "reserved";
}

/// <summary>
/// Thrown by Core factories when input is invalid. Carries every problem found, never just the first.
/// </summary>
public sealed class DomainValidationException : Exception
{
    public DomainValidationException(IReadOnlyList<ValidationProblem> problems)
        : base("Invalid request: " + string.Join("; ", problems.Select(p => p.ToString())))
    {
        if (problems.Count == 0) throw new ArgumentException("At least one problem is required.", nameof(problems));
        Problems = problems;
    }

    public DomainValidationException(string field, string code, string message)
        : this([new ValidationProblem(field, code, message)]) { }

    /// <summary>All problems found, in the order they were detected.</summary>
    public IReadOnlyList<ValidationProblem> Problems { get; }

    /// <summary>Throws when <paramref name="problems"/> is non-empty.</summary>
    public static void ThrowIfAny(IReadOnlyList<ValidationProblem> problems)
    {
        if (problems.Count > 0) throw new DomainValidationException(problems);
    }
}
