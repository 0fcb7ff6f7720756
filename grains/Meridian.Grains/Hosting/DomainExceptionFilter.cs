using Meridian.Core.Validation;
using Meridian.Pki;

namespace Meridian.Grains.Hosting;

/// <summary>
/// Turns Core's plain-.NET exceptions into the serializable ones callers branch on, in one place, so grain methods
/// carry no try/catch. Nothing here adds secrets to a message: Core and Pki messages name fields and ids only.
/// </summary>
internal sealed class DomainExceptionFilter : IIncomingGrainCallFilter
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
    }
}
