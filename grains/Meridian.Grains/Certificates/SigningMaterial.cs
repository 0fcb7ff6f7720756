namespace Meridian.Grains.Certificates;

/// <summary>
/// What a silo needs to sign leaves: the signing certificate, chain and key. Built from the CA grain's stored state
/// inside this process only: it is never a grain-call argument or result. <see cref="ToString"/> hides the key.
/// </summary>
internal sealed record SigningMaterial(
    string TrustDomain, string ActiveRootId, string RootCertPem, string SigningCertPem, IReadOnlyList<string> ChainPems,
    string SigningKeyPem, TimeSpan LeafCertTtl, double CsrMaxPerSecond, ulong RootsIndex, int CsrMaxConcurrent = 0)
{
    /// <summary>The material of the active root, or null when there is none or it cannot sign (no key).</summary>
    public static SigningMaterial? From(CertificateAuthorityState state)
    {
        var root = state.Roots.FirstOrDefault(r => r.Active);
        if (root?.SigningKeyPem is not { Length: > 0 } key || string.IsNullOrEmpty(state.ClusterId)) return null;
        return new SigningMaterial(new Meridian.Core.Identity.TrustDomain(state.ClusterId).Host, root.Id, root.RootCertPem,
            root.SigningCertPem, [.. root.IntermediateCertPems], key, state.Config.LeafCertTtl, state.Config.CsrMaxPerSecond, state.Index,
            state.Config.CsrMaxConcurrent);
    }

    /// <inheritdoc />
    public override string ToString() => $"SigningMaterial {{ ActiveRootId = {ActiveRootId}, RootsIndex = {RootsIndex} }}";
}
