using Meridian.Core.Validation;
using Meridian.Pki;
using Microsoft.Extensions.Logging;

namespace Meridian.Grains.Hosting;

/// <summary>
/// Turns what escapes a Meridian grain into the serializable errors callers branch on, in one place, so grain methods
/// carry no try/catch: Core's and Pki's exceptions into their Meridian counterparts, anything else into a
/// <see cref="MeridianException"/> with a kind (<see cref="MeridianErrors.Translate"/>). Nothing here adds secrets to a
/// message: Core and Pki messages name fields and ids only, and the rest is cleaned by <see cref="MeridianErrors"/>.
/// </summary>
/// <remarks>
/// Only Meridian's own grain interfaces are covered: Orleans' system grains (the memory storage grain, the management
/// grain) keep their exceptions, which Orleans itself interprets (an ETag conflict, for one).
/// </remarks>
internal sealed partial class DomainExceptionFilter(ILogger<DomainExceptionFilter> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (DomainValidationException e)
        {
            throw new MeridianValidationException([.. e.Problems.Select(p => new ValidationProblemDto(p.Field, p.Code, p.Message))]);
        }
        catch (PkiException e) when (e.Code is PkiErrorCode.InvalidCsr or PkiErrorCode.MalformedInput)
        {
            throw new MeridianValidationException([new ValidationProblemDto("csr", ValidationCodes.InvalidValue, e.Message)]);
        }
        catch (PkiException e)
        {
            throw new MeridianException(e.Message);
        }
        catch (Exception e) when (IsMeridianGrain(context) && MeridianErrors.Translate(e, Operation(context)) is { } error)
        {
            LogCallFailed(logger, error.Kind == MeridianErrorKind.Unavailable ? LogLevel.Warning : LogLevel.Error,
                Operation(context), error.Kind, e);
            throw error;
        }
    }

    private static bool IsMeridianGrain(IIncomingGrainCallContext context) =>
        context.InterfaceMethod?.DeclaringType?.Namespace?.StartsWith(nameof(Meridian), StringComparison.Ordinal) == true;

    private static string Operation(IIncomingGrainCallContext context) =>
        $"{context.InterfaceMethod?.DeclaringType?.Name ?? context.InterfaceName}.{context.MethodName}";

    [LoggerMessage(EventId = MeridianEventIds.GrainCallFailed, Message = "{Operation} failed; the caller gets a Meridian error of kind {Kind}")]
    private static partial void LogCallFailed(ILogger logger, LogLevel level, string operation, MeridianErrorKind kind, Exception exception);
}
