using Meridian.Core.Validation;

namespace Meridian.Core.Certificates;

/// <summary>
/// The CA settings Consul keeps in its common provider config (SPEC §3.1), with Consul's defaults. Only the
/// primary's TTLs matter for intermediates and leaves it signs; a secondary uses its own key type for its
/// intermediate.
/// </summary>
public sealed record CaConfiguration
{
    /// <summary>Consul's default leaf lifetime: 72 h.</summary>
    public static readonly TimeSpan DefaultLeafCertTtl = TimeSpan.FromHours(72);

    /// <summary>Consul's default intermediate lifetime: 8760 h (one year).</summary>
    public static readonly TimeSpan DefaultIntermediateCertTtl = TimeSpan.FromHours(8760);

    /// <summary>Consul's default root lifetime: 87600 h (ten years).</summary>
    public static readonly TimeSpan DefaultRootCertTtl = TimeSpan.FromHours(87600);

    /// <summary>Shortest leaf lifetime Consul accepts: 1 h.</summary>
    public static readonly TimeSpan MinLeafCertTtl = TimeSpan.FromHours(1);

    /// <summary>Longest leaf lifetime Consul accepts: 8760 h (inclusive).</summary>
    public static readonly TimeSpan MaxLeafCertTtl = TimeSpan.FromHours(365 * 24);

    /// <summary>Shortest intermediate lifetime Consul accepts: 3 h.</summary>
    public static readonly TimeSpan MinIntermediateCertTtl = TimeSpan.FromHours(3);

    /// <summary>An intermediate must live at least this many leaf lifetimes (Consul: 3).</summary>
    public const int IntermediateToLeafTtlRatio = 3;

    /// <summary>Consul's default CSR rate: 50 per second.</summary>
    public const double DefaultCsrMaxPerSecond = 50;

    /// <summary>The defaults: 72h / 8760h / 87600h, ec 256, 50 CSR/s, no concurrency limit.</summary>
    public static CaConfiguration Default { get; } = new();

    /// <summary><c>LeafCertTTL</c>. Default 72 h; 1 h ≤ x ≤ 8760 h.</summary>
    public TimeSpan LeafCertTtl { get; init; } = DefaultLeafCertTtl;

    /// <summary><c>IntermediateCertTTL</c>. Default 8760 h; ≥ 3 h and ≥ 3 × <see cref="LeafCertTtl"/>.</summary>
    public TimeSpan IntermediateCertTtl { get; init; } = DefaultIntermediateCertTtl;

    /// <summary><c>RootCertTTL</c>. Default 87600 h; ≥ <see cref="IntermediateCertTtl"/>.</summary>
    public TimeSpan RootCertTtl { get; init; } = DefaultRootCertTtl;

    /// <summary><c>PrivateKeyType</c>. Default <c>ec</c>.</summary>
    public CaKeyType PrivateKeyType { get; init; } = CaKeyType.Ec;

    /// <summary><c>PrivateKeyBits</c>. Default 256; ec 224/256/384/521, rsa 2048/4096. Not switched with the type.</summary>
    public int PrivateKeyBits { get; init; } = 256;

    /// <summary><c>CSRMaxPerSecond</c>: leaf signing rate (token bucket, burst 1). Default 50; 0 disables.</summary>
    public double CsrMaxPerSecond { get; init; } = DefaultCsrMaxPerSecond;

    /// <summary><c>CSRMaxConcurrent</c>: concurrent leaf signings, used only when <see cref="CsrMaxPerSecond"/> is 0. Default 0 (unlimited).</summary>
    public int CsrMaxConcurrent { get; init; }

    /// <summary><c>SkipValidate</c>: skips Consul's TTL and key checks (never the CSR limits). Default false.</summary>
    public bool SkipValidate { get; init; }

    /// <summary>Key type and size together.</summary>
    public CaKeySpec KeySpec => new(PrivateKeyType, PrivateKeyBits);

    /// <summary>Every problem with this configuration (empty when valid), with Consul's texts and JSON field names.</summary>
    public IReadOnlyList<ValidationProblem> Validate()
    {
        List<ValidationProblem> problems = [];
        Collect(problems, LeafCertTtl, IntermediateCertTtl, RootCertTtl, PrivateKeyType, PrivateKeyBits, CsrMaxPerSecond, CsrMaxConcurrent, SkipValidate);
        return problems;
    }

    /// <summary>Throws <see cref="DomainValidationException"/> with every problem; returns this when valid.</summary>
    public CaConfiguration EnsureValid()
    {
        DomainValidationException.ThrowIfAny(Validate());
        return this;
    }

    /// <summary>
    /// Builds a configuration from user text (durations as Go text, key type as <c>ec</c>/<c>rsa</c>), defaulting
    /// absent values, and reports every parse and validation problem at once.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> TryCreate(CaConfigurationInput input, out CaConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(input);
        configuration = null;
        List<ValidationProblem> problems = [];
        var leaf = ParseTtl(problems, CaConfigurationFields.LeafCertTtl, input.LeafCertTTL, DefaultLeafCertTtl);
        var inter = ParseTtl(problems, CaConfigurationFields.IntermediateCertTtl, input.IntermediateCertTTL, DefaultIntermediateCertTtl);
        var root = ParseTtl(problems, CaConfigurationFields.RootCertTtl, input.RootCertTTL, DefaultRootCertTtl);
        CaKeyType? type = CaKeyType.Ec;
        if (input.PrivateKeyType is not null)
            type = CaKeyTypes.TryParse(input.PrivateKeyType, out var t) ? t : null;
        var bits = input.PrivateKeyBits ?? 256;
        var rate = input.CSRMaxPerSecond ?? DefaultCsrMaxPerSecond;
        var concurrent = input.CSRMaxConcurrent ?? 0;
        var skip = input.SkipValidate ?? false;

        Collect(problems, leaf, inter, root, type, bits, rate, concurrent, skip);
        if (problems.Count > 0) return problems;
        configuration = new CaConfiguration
        {
            LeafCertTtl = leaf!.Value, IntermediateCertTtl = inter!.Value, RootCertTtl = root!.Value,
            PrivateKeyType = type!.Value, PrivateKeyBits = bits, CsrMaxPerSecond = rate, CsrMaxConcurrent = concurrent,
            SkipValidate = skip,
        };
        return [];
    }

    /// <summary>As <see cref="TryCreate"/>, throwing <see cref="DomainValidationException"/> with every problem.</summary>
    public static CaConfiguration Create(CaConfigurationInput input)
    {
        var problems = TryCreate(input, out var configuration);
        DomainValidationException.ThrowIfAny(problems);
        return configuration!;
    }

    // 3 × leaf, saturating instead of throwing for absurd inputs (the leaf maximum already reports those).
    private static TimeSpan TimesRatio(TimeSpan leaf)
        => leaf.Ticks > TimeSpan.MaxValue.Ticks / IntermediateToLeafTtlRatio ? TimeSpan.MaxValue
            : leaf.Ticks < TimeSpan.MinValue.Ticks / IntermediateToLeafTtlRatio ? TimeSpan.MinValue
            : TimeSpan.FromTicks(leaf.Ticks * IntermediateToLeafTtlRatio);

    private static TimeSpan? ParseTtl(List<ValidationProblem> problems, string field, string? text, TimeSpan fallback)
    {
        if (text is null) return fallback;
        if (GoDuration.Check(field, text, out var value) is { } problem)
        {
            problems.Add(problem);
            return null;
        }
        return value;
    }

    // Consul returns the first failure; we report them all, in field order. A value that failed to parse (null)
    // skips only the checks that need it.
    private static void Collect(List<ValidationProblem> problems, TimeSpan? leaf, TimeSpan? inter, TimeSpan? root,
        CaKeyType? type, int bits, double csrPerSecond, int csrConcurrent, bool skipValidate)
    {
        if (!skipValidate)
        {
            if (leaf is { } l && l < MinLeafCertTtl)
                problems.Add(new(CaConfigurationFields.LeafCertTtl, ValidationCodes.OutOfRange,
                    $"leaf cert TTL must be greater or equal than {GoDuration.Format(MinLeafCertTtl)}"));
            if (leaf is { } l2 && l2 > MaxLeafCertTtl)
                problems.Add(new(CaConfigurationFields.LeafCertTtl, ValidationCodes.OutOfRange,
                    $"leaf cert TTL must be less than {GoDuration.Format(MaxLeafCertTtl)}"));
            if (inter is { } i && i < MinIntermediateCertTtl)
                problems.Add(new(CaConfigurationFields.IntermediateCertTtl, ValidationCodes.OutOfRange,
                    "Intermediate Cert TTL must be greater or equal than 3h"));
            if (inter is { } i2 && leaf is { } l3 && i2 < TimesRatio(l3))
                problems.Add(new(CaConfigurationFields.IntermediateCertTtl, ValidationCodes.OutOfRange,
                    $"Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>={GoDuration.Format(TimesRatio(l3))})."));
            // Consul: root < intermediate fails; equal passes despite the wording "not greater".
            if (root is { } r && inter is { } i3 && r < i3)
                problems.Add(new(CaConfigurationFields.RootCertTtl, ValidationCodes.OutOfRange,
                    $"root cert TTL is set and is not greater than intermediate cert ttl. root cert ttl: {GoDuration.Format(r)}, intermediate cert ttl: {GoDuration.Format(i3)}"));
            switch (type)
            {
                case CaKeyType.Ec when !CaKeyTypes.IsSupportedSize(CaKeyType.Ec, bits):
                    problems.Add(new(CaConfigurationFields.PrivateKeyBits, ValidationCodes.InvalidValue,
                        "EC key length must be one of (224, 256, 384, 521) bits"));
                    break;
                case CaKeyType.Rsa when !CaKeyTypes.IsSupportedSize(CaKeyType.Rsa, bits):
                    problems.Add(new(CaConfigurationFields.PrivateKeyBits, ValidationCodes.InvalidValue,
                        "RSA key length must be 2048 or 4096 bits"));
                    break;
                case null:
                    problems.Add(new(CaConfigurationFields.PrivateKeyType, ValidationCodes.InvalidValue,
                        "private key type must be either 'ec' or 'rsa'"));
                    break;
            }
        }
        else if (type is null)
        {
            // Even with SkipValidate a key cannot be generated for an unknown type.
            problems.Add(new(CaConfigurationFields.PrivateKeyType, ValidationCodes.InvalidValue,
                "private key type must be either 'ec' or 'rsa'"));
        }

        // Meridian's own checks (Consul decodes these without validating).
        if (double.IsNaN(csrPerSecond) || double.IsInfinity(csrPerSecond) || csrPerSecond < 0)
            problems.Add(new(CaConfigurationFields.CsrMaxPerSecond, ValidationCodes.OutOfRange,
                "CSRMaxPerSecond must be 0 (disabled) or a positive number"));
        if (csrConcurrent < 0)
            problems.Add(new(CaConfigurationFields.CsrMaxConcurrent, ValidationCodes.OutOfRange,
                "CSRMaxConcurrent must be 0 (unlimited) or a positive number"));
    }
}

/// <summary>
/// CA configuration as the user wrote it (Consul's JSON names; Go duration text). Null means "use the default".
/// </summary>
/// <param name="LeafCertTTL">e.g. <c>72h</c>.</param>
/// <param name="IntermediateCertTTL">e.g. <c>8760h</c>.</param>
/// <param name="RootCertTTL">e.g. <c>87600h</c>.</param>
/// <param name="PrivateKeyType"><c>ec</c> or <c>rsa</c>.</param>
/// <param name="PrivateKeyBits">e.g. 256 or 2048.</param>
/// <param name="CSRMaxPerSecond">0 disables the rate limit.</param>
/// <param name="CSRMaxConcurrent">0 is unlimited.</param>
/// <param name="SkipValidate">Skip the TTL and key checks.</param>
public sealed record CaConfigurationInput(
    string? LeafCertTTL = null,
    string? IntermediateCertTTL = null,
    string? RootCertTTL = null,
    string? PrivateKeyType = null,
    int? PrivateKeyBits = null,
    double? CSRMaxPerSecond = null,
    int? CSRMaxConcurrent = null,
    bool? SkipValidate = null);

/// <summary>Field names used in <see cref="ValidationProblem.Field"/>: Consul's JSON keys.</summary>
public static class CaConfigurationFields
{
    /// <summary><c>LeafCertTTL</c></summary>
    public const string LeafCertTtl = "LeafCertTTL";
    /// <summary><c>IntermediateCertTTL</c></summary>
    public const string IntermediateCertTtl = "IntermediateCertTTL";
    /// <summary><c>RootCertTTL</c></summary>
    public const string RootCertTtl = "RootCertTTL";
    /// <summary><c>PrivateKeyType</c></summary>
    public const string PrivateKeyType = "PrivateKeyType";
    /// <summary><c>PrivateKeyBits</c></summary>
    public const string PrivateKeyBits = "PrivateKeyBits";
    /// <summary><c>CSRMaxPerSecond</c></summary>
    public const string CsrMaxPerSecond = "CSRMaxPerSecond";
    /// <summary><c>CSRMaxConcurrent</c></summary>
    public const string CsrMaxConcurrent = "CSRMaxConcurrent";
}
