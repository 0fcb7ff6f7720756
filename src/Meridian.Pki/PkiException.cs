namespace Meridian.Pki;

/// <summary>What kind of PKI check failed, so callers can branch without parsing messages.</summary>
public enum PkiErrorCode
{
    /// <summary>A CSR broke a signing rule (Consul's <c>InvalidCSRError</c>): bad signature, SANs, identity, datacenter or trust domain.</summary>
    InvalidCsr,
    /// <summary>The root or the intermediate that would sign has expired (<c>root expired: ...</c>, <c>intermediate expired: ...</c>).</summary>
    SignerExpired,
    /// <summary>A signed intermediate handed to a secondary failed an install check (SPEC §3.4).</summary>
    InvalidIntermediate,
    /// <summary>PEM or DER input could not be parsed as the expected key, certificate or CSR.</summary>
    MalformedInput,
}

/// <summary>
/// A certificate-authority rule was broken. <see cref="Exception.Message"/> is Consul's text where Consul has one,
/// so operators can search for it; branch on <see cref="Code"/>.
/// </summary>
public sealed class PkiException(PkiErrorCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The failed check's category.</summary>
    public PkiErrorCode Code { get; } = code;
}
