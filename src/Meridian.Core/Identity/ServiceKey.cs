using System.Diagnostics.CodeAnalysis;
using Meridian.Core.Validation;

namespace Meridian.Core.Identity;

/// <summary>
/// A service in a datacenter, written <c>dc1/web</c>: the key of the service-certificate grain. This is the only
/// place grain keys are parsed; grains never split the text themselves.
/// </summary>
/// <param name="Datacenter">The datacenter that signs the service's certificates.</param>
/// <param name="Service">The service name.</param>
public readonly record struct ServiceKey(DatacenterName Datacenter, ServiceName Service)
{
    /// <summary>Separator between datacenter and service. Neither part can contain it.</summary>
    public const char Separator = '/';

    /// <summary>Returns every problem with <paramref name="value"/> (empty when valid); parts are named <c>&lt;field&gt;.Datacenter</c> and <c>&lt;field&gt;.Service</c>.</summary>
    public static IReadOnlyList<ValidationProblem> Validate(string? value, string field = "ServiceKey")
    {
        if (string.IsNullOrEmpty(value))
            return [new(field, ValidationCodes.Required, $"{field} must be set")];
        var slash = value.IndexOf(Separator);
        if (slash < 0)
            return [new(field, ValidationCodes.InvalidFormat, $"{field} \"{value}\" must have the form <datacenter>/<service>")];
        List<ValidationProblem> problems = [];
        if (DatacenterName.Check($"{field}.Datacenter", value[..slash]) is { } dc) problems.Add(dc);
        if (ServiceName.Check($"{field}.Service", value[(slash + 1)..]) is { } svc) problems.Add(svc);
        return problems;
    }

    /// <summary>Parses <c>dc1/web</c>, throwing <see cref="DomainValidationException"/> with every problem.</summary>
    public static ServiceKey Parse(string? value, string field = "ServiceKey")
    {
        DomainValidationException.ThrowIfAny(Validate(value, field));
        var slash = value!.IndexOf(Separator);
        return new(DatacenterName.Parse(value[..slash]), ServiceName.Parse(value[(slash + 1)..]));
    }

    /// <summary>Parses <c>dc1/web</c>; false when it is not valid.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out ServiceKey key)
    {
        key = default;
        if (Validate(value).Count > 0) return false;
        key = Parse(value);
        return true;
    }

    /// <summary>The service's SPIFFE ID in <paramref name="trustDomain"/> (default partition).</summary>
    public ServiceSpiffeId ToSpiffeId(TrustDomain trustDomain, string @namespace = SpiffeId.DefaultNamespace)
        => new(trustDomain.Host, @namespace, Datacenter.Value, Service.Value);

    /// <inheritdoc />
    public override string ToString() => $"{Datacenter}{Separator}{Service}";
}
