using Meridian.Core.Identity;
using Meridian.Core.Validation;
using Orleans.Concurrency;

namespace Meridian.Grains.Certificates;

/// <summary>Signs workloads' CSRs in the silo that receives the call; see <see cref="ILeafSignerGrain"/>.</summary>
[StatelessWorker]
public sealed class LeafSignerGrain(LocalSigner signer) : Grain, ILeafSignerGrain
{
    /// <inheritdoc />
    public async Task<IssuedCertificateDto> SignCsrAsync(string service, string csrPem, CancellationToken cancellationToken = default)
    {
        List<ValidationProblem> problems = [];
        if (ServiceName.Check("service", service) is { } bad) problems.Add(bad);
        if (string.IsNullOrWhiteSpace(csrPem))
            problems.Add(new("csr", ValidationCodes.Required, "csr must be a PEM certificate request"));
        // Before the parser, the rate limit and the signer see it: an oversized CSR costs one length check.
        else if (InputLimits.CheckBytes("csr", csrPem, InputLimits.MaxCsrPemBytes) is { } tooBig)
            problems.Add(tooBig);
        DomainValidationException.ThrowIfAny(problems);
        var name = ServiceName.Parse(service, "service");
        var (leaf, used) = await signer.SignCsrAsync(csrPem, cancellationToken);
        // The CSR names its own identity; it must be the service the caller asked for. (The certificate just
        // signed is discarded, never returned.)
        if (leaf.Id is not ServiceSpiffeId sid || sid.Service != name.Value)
            throw new DomainValidationException("csr", ValidationCodes.InvalidValue,
                $"CSR identity {leaf.Id.Uri} is not the service \"{name.Value}\"");
        return new IssuedCertificateDto
        {
            SerialNumber = leaf.SerialNumber,
            CertPEM = leaf.CertPem,
            Service = name.Value,
            ServiceURI = leaf.Id.Uri,
            ValidAfter = leaf.ValidAfter,
            ValidBefore = leaf.ValidBefore,
            RootID = used.ActiveRootId,
            SigningKeyID = leaf.AuthorityKeyId,
        };
    }
}
