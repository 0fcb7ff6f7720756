using System.Collections.Immutable;

namespace Meridian.Grains;

/// <summary>One problem with a request, naming the field as the user wrote it.</summary>
[GenerateSerializer, Alias("meridian.errors.ValidationProblem"), Immutable]
public sealed record ValidationProblemDto(
    [property: Id(0)] string Field,
    [property: Id(1)] string Code,
    [property: Id(2)] string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// What kind of failure a <see cref="MeridianException"/> reports, for callers that branch on the kind rather than on
/// the type (the CLI's exit codes). Values are part of the wire format: never renumber.
/// </summary>
[GenerateSerializer, Alias("meridian.errors.Kind")]
public enum MeridianErrorKind
{
    /// <summary>Nothing the caller can fix: a bug or an unexpected failure in the datacenter (the message says which).</summary>
    Internal = 0,
    /// <summary>The request was invalid; nothing was written.</summary>
    Validation = 1,
    /// <summary>The requested object does not exist.</summary>
    NotFound = 2,
    /// <summary>The caller's token does not grant the operation.</summary>
    PermissionDenied = 3,
    /// <summary>A write reached a datacenter that is not the primary.</summary>
    NotPrimary = 4,
    /// <summary>A datacenter or silo the call needed could not be reached; retry later.</summary>
    Unavailable = 5,
    /// <summary>A rate limit was hit; retry later.</summary>
    RateLimited = 6,
    /// <summary>The datacenter cannot serve the request yet (its CA is not initialized); retry later.</summary>
    NotReady = 7,
}

/// <summary>
/// Base type of every error a caller may branch on, by type or by <see cref="Kind"/>. Messages never contain secrets.
/// Whatever else escapes a Meridian grain reaches the caller as one of these (see <see cref="MeridianErrors"/>).
/// </summary>
[GenerateSerializer, Alias("meridian.errors.Meridian")]
public class MeridianException : Exception
{
    public MeridianException(string message) : this(message, MeridianErrorKind.Internal) { }
    public MeridianException(string message, MeridianErrorKind kind) : base(message) => Kind = kind;

    /// <summary>What kind of failure this is.</summary>
    [Id(0)] public MeridianErrorKind Kind { get; private set; }
}

/// <summary>The request was invalid; nothing was written. <see cref="Problems"/> lists every problem.</summary>
[GenerateSerializer, Alias("meridian.errors.Validation")]
public sealed class MeridianValidationException : MeridianException
{
    public MeridianValidationException(IReadOnlyList<ValidationProblemDto> problems)
        : base("Invalid request: " + string.Join("; ", problems.Select(p => p.ToString())), MeridianErrorKind.Validation)
        => Problems = [.. problems];

    /// <summary>Every problem found, in detection order.</summary>
    [Id(0)] public ImmutableArray<ValidationProblemDto> Problems { get; private set; }
}

/// <summary>The requested object does not exist.</summary>
[GenerateSerializer, Alias("meridian.errors.NotFound")]
public sealed class MeridianNotFoundException(string message) : MeridianException(message, MeridianErrorKind.NotFound);

/// <summary>The caller's token does not grant the operation (HTTP 403 in Consul).</summary>
[GenerateSerializer, Alias("meridian.errors.PermissionDenied")]
public sealed class MeridianPermissionDeniedException(string message) : MeridianException(message, MeridianErrorKind.PermissionDenied);

/// <summary>A write reached a datacenter that cannot accept it and could not be forwarded.</summary>
[GenerateSerializer, Alias("meridian.errors.NotPrimary")]
public sealed class NotPrimaryDatacenterException(string primaryDatacenter, string message) : MeridianException(message, MeridianErrorKind.NotPrimary)
{
    /// <summary>The datacenter that accepts writes.</summary>
    [Id(0)] public string PrimaryDatacenter { get; private set; } = primaryDatacenter;
}

/// <summary>The CA cannot sign yet (Consul: <c>CA is uninitialized and unable to sign certificates yet</c>).</summary>
[GenerateSerializer, Alias("meridian.errors.CaNotInitialized")]
public sealed class CaNotInitializedException(string message) : MeridianException(message, MeridianErrorKind.NotReady);

/// <summary>
/// A CSR limit of the datacenter was hit (Consul: <c>Rate limit reached, try again later</c>). Retry after
/// <see cref="RetryAfter"/> when given.
/// </summary>
[GenerateSerializer, Alias("meridian.errors.RateLimited")]
public sealed class RateLimitedException : MeridianException
{
    public RateLimitedException() : this(null) { }

    public RateLimitedException(TimeSpan? retryAfter)
        : base("Rate limit reached, try again later" + (retryAfter is { } r
            ? FormattableString.Invariant($" (in {Math.Max(r.TotalSeconds, 0.001):0.###} s)") : ""), MeridianErrorKind.RateLimited)
        => RetryAfter = retryAfter;

    /// <summary>When the limit is expected to admit a request again, measured from when it was refused (null: unknown).</summary>
    [Id(0)] public TimeSpan? RetryAfter { get; private set; }
}

/// <summary>Another datacenter could not be reached (the primary, for a forwarded write).</summary>
[GenerateSerializer, Alias("meridian.errors.Unreachable")]
public sealed class DatacenterUnreachableException(string datacenter, string message) : MeridianException(message, MeridianErrorKind.Unavailable)
{
    /// <summary>The datacenter that could not be reached.</summary>
    [Id(0)] public string Datacenter { get; private set; } = datacenter;
}

/// <summary>
/// A call named a datacenter this one does not know (Consul answers <c>No path to datacenter</c>): not one of the
/// federation's registered datacenters.
/// </summary>
[GenerateSerializer, Alias("meridian.errors.UnknownDatacenter")]
public sealed class UnknownDatacenterException(string datacenter)
    : MeridianException($"No path to datacenter: {datacenter} is not a known datacenter (see `meridian datacenters`)", MeridianErrorKind.NotFound)
{
    /// <summary>The datacenter that was named.</summary>
    [Id(0)] public string Datacenter { get; private set; } = datacenter;
}
