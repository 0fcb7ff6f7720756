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

/// <summary>Base type of every error a caller may branch on. Messages never contain secrets.</summary>
[GenerateSerializer, Alias("meridian.errors.Meridian")]
public class MeridianException : Exception
{
    public MeridianException(string message) : base(message) { }
    public MeridianException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The request was invalid; nothing was written. <see cref="Problems"/> lists every problem.</summary>
[GenerateSerializer, Alias("meridian.errors.Validation")]
public sealed class MeridianValidationException : MeridianException
{
    public MeridianValidationException(IReadOnlyList<ValidationProblemDto> problems)
        : base("Invalid request: " + string.Join("; ", problems.Select(p => p.ToString())))
        => Problems = [.. problems];

    /// <summary>Every problem found, in detection order.</summary>
    [Id(0)] public ImmutableArray<ValidationProblemDto> Problems { get; private set; }
}

/// <summary>The requested object does not exist.</summary>
[GenerateSerializer, Alias("meridian.errors.NotFound")]
public sealed class MeridianNotFoundException(string message) : MeridianException(message);

/// <summary>The caller's token does not grant the operation (HTTP 403 in Consul).</summary>
[GenerateSerializer, Alias("meridian.errors.PermissionDenied")]
public sealed class MeridianPermissionDeniedException(string message) : MeridianException(message);

/// <summary>A write reached a datacenter that cannot accept it and could not be forwarded.</summary>
[GenerateSerializer, Alias("meridian.errors.NotPrimary")]
public sealed class NotPrimaryDatacenterException(string primaryDatacenter, string message) : MeridianException(message)
{
    /// <summary>The datacenter that accepts writes.</summary>
    [Id(0)] public string PrimaryDatacenter { get; private set; } = primaryDatacenter;
}

/// <summary>The CA cannot sign yet (Consul: <c>CA is uninitialized and unable to sign certificates yet</c>).</summary>
[GenerateSerializer, Alias("meridian.errors.CaNotInitialized")]
public sealed class CaNotInitializedException(string message) : MeridianException(message);

/// <summary>The CSR rate limit was hit (Consul: <c>Rate limit reached, try again later</c>). Retry later.</summary>
[GenerateSerializer, Alias("meridian.errors.RateLimited")]
public sealed class RateLimitedException() : MeridianException("Rate limit reached, try again later");

/// <summary>Another datacenter could not be reached (the primary, for a forwarded write).</summary>
[GenerateSerializer, Alias("meridian.errors.Unreachable")]
public sealed class DatacenterUnreachableException(string datacenter, string message) : MeridianException(message)
{
    /// <summary>The datacenter that could not be reached.</summary>
    [Id(0)] public string Datacenter { get; private set; } = datacenter;
}
