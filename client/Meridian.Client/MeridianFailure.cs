using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Net.Sockets;
using Meridian.Grains;
using Orleans.Networking.Shared;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace Meridian.Client;

/// <summary>
/// What went wrong with an SDK call, for callers that answer a person or a protocol (the CLI's exit codes, an HTTP
/// status) rather than branch on exception types: one <see cref="Kind"/>, a one-line <see cref="Message"/> without
/// secrets, and every <see cref="Problems">problem</see> of a bad request naming its field.
/// </summary>
/// <remarks>
/// <see cref="Classify"/> is the single mapping from exceptions to kinds: Meridian errors by their
/// <see cref="MeridianException.Kind"/>, the SDK's connection errors and Orleans' transport failures (gateway gone,
/// silo unavailable, no answer in time) as <see cref="MeridianErrorKind.Unavailable"/>, anything else as
/// <see cref="MeridianErrorKind.Internal"/>. Host start-up and Orleans wrap the interesting exception, so the
/// first one in the <see cref="Chain"/> that is known wins.
/// </remarks>
/// <param name="Kind">What kind of failure it is.</param>
/// <param name="Message">One line for a person; never contains a secret.</param>
/// <param name="Problems">Bad input only: every problem, in detection order; empty otherwise.</param>
/// <param name="Exception">The exception of the chain that decided the kind (the one passed in when none did).</param>
public sealed record MeridianFailure(MeridianErrorKind Kind, string Message, ImmutableArray<ValidationProblemDto> Problems, Exception Exception)
{
    /// <summary>A rate limit: when it is expected to admit a request again (null: unknown, or not a rate limit).</summary>
    public TimeSpan? RetryAfter => Exception is RateLimitedException r ? r.RetryAfter : null;

    /// <summary>A write refused by a secondary: the datacenter that accepts writes (null otherwise).</summary>
    public string? PrimaryDatacenter => Exception is NotPrimaryDatacenterException p ? p.PrimaryDatacenter : null;

    /// <summary>
    /// Classifies <paramref name="exception"/> (and what it wraps). <paramref name="datacenter"/> and
    /// <paramref name="gatewayText"/> (HOST:PORT as configured) name what the client was connected to, for the message
    /// of a transport failure: <c>cannot reach datacenter dc1 at gateway 127.0.0.1:30000: …</c>.
    /// </summary>
    public static MeridianFailure Classify(Exception exception, string? datacenter = null, string? gatewayText = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        foreach (var ex in Chain(exception))
        {
            if (TryClassify(ex, datacenter, gatewayText, out var failure)) return failure;
        }
        return new(MeridianErrorKind.Internal, exception.Message, [], exception);
    }

    /// <summary>
    /// Classifies <paramref name="exception"/> alone (not what it wraps): false when it is none of the known kinds. For
    /// callers that walk the <see cref="Chain"/> themselves to put their own cases first.
    /// </summary>
    public static bool TryClassify(Exception exception, string? datacenter, string? gatewayText, [NotNullWhen(true)] out MeridianFailure? failure)
    {
        ArgumentNullException.ThrowIfNull(exception);
        failure = exception switch
        {
            MeridianValidationException invalid => new(MeridianErrorKind.Validation, invalid.Message, invalid.Problems, invalid),
            NotPrimaryDatacenterException notPrimary => new(MeridianErrorKind.NotPrimary,
                $"{notPrimary.Message} (writes go to the primary datacenter {notPrimary.PrimaryDatacenter})", [], notPrimary),
            // The SDK and the silo turn whatever else failed into a MeridianException with a kind.
            MeridianException meridian => new(meridian.Kind, meridian.Message, [], meridian),
            // Includes MeridianWrongDatacenterException: the gateway answered for another datacenter.
            MeridianUnreachableException unreachable => new(MeridianErrorKind.Unavailable, unreachable.Message, [], unreachable),
            ConnectionFailedException or SocketConnectionException or SiloUnavailableException or GatewayTooBusyException
                or SocketException or TimeoutException => new(MeridianErrorKind.Unavailable, Unreachable(exception, datacenter, gatewayText), [], exception),
            _ => null,
        };
        return failure is not null;
    }

    /// <summary>
    /// One problem as one line, <c>field: message</c>. Core keeps Consul's texts, many of which already start with the
    /// field (<c>SourceName: wildcard …</c>): the field is written once.
    /// </summary>
    public static string ProblemLine(ValidationProblemDto problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return problem.Message.StartsWith(problem.Field + ": ", StringComparison.Ordinal) ? problem.Message : $"{problem.Field}: {problem.Message}";
    }

    /// <summary>The exception, its inner exceptions, and every branch of a multi-exception <see cref="AggregateException"/>.</summary>
    public static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? ex = exception; ex is not null; ex = ex.InnerException)
        {
            yield return ex;
            if (ex is AggregateException { InnerExceptions.Count: > 1 } aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Chain)) yield return inner;
                yield break;
            }
        }
    }

    private static string Unreachable(Exception exception, string? datacenter, string? gatewayText) => (datacenter, gatewayText) switch
    {
        (null, _) => exception.Message,
        (_, null) => $"cannot reach datacenter {datacenter}: {exception.Message}",
        _ => $"cannot reach datacenter {datacenter} at gateway {gatewayText}: {exception.Message}",
    };
}
