using System.Security.Cryptography.X509Certificates;

namespace Meridian.Pki;

/// <summary>Options for <see cref="ChainVerifier"/>.</summary>
public sealed record ChainVerifierOptions
{
    /// <summary>The defaults: drop expired helpers, at most 4 certificates.</summary>
    public static ChainVerifierOptions Default { get; } = new();

    /// <summary>
    /// Drop expired untrusted certificates (intermediates, cross-signed roots) before building, so an expired cross-sign
    /// can never be picked over a valid path (SPEC §5 item 11). Default: true.
    /// </summary>
    public bool DropExpiredIntermediates { get; init; } = true;

    /// <summary>
    /// Longest accepted chain, leaf and root included. Default 4: leaf, local intermediate, one cross-signed root, old root
    /// (docs/consul-pain-points.md row 7: at most one cross-sign plus the current intermediate).
    /// </summary>
    public int MaxChainLength { get; init; } = 4;
}

/// <summary>Outcome of <see cref="ChainVerifier.Verify"/>.</summary>
/// <param name="IsValid">True when a chain to one of the trusted roots was built and every check passed.</param>
/// <param name="Error">Why not (empty when valid).</param>
/// <param name="Chain">The chain built, end certificate first, trust anchor last (may be partial when invalid).</param>
public sealed record ChainVerification(bool IsValid, string Error, IReadOnlyList<CertificateInfo> Chain)
{
    /// <summary>Root ID of the trust anchor the chain ends in, when valid.</summary>
    public string? RootId => IsValid && Chain.Count > 0 ? Chain[^1].Id : null;
}

/// <summary>
/// Verifies a certificate against a trust bundle of several roots plus untrusted helpers (intermediates, cross-signed
/// roots), at a given time. Uses the platform chain engine (OpenSSL on Linux) with a custom root store, never the
/// machine's trust store; no revocation or AIA downloads.
/// </summary>
public static class ChainVerifier
{
    /// <param name="certPem">The end certificate, optionally followed by the chain it is presented with (e.g. <see cref="SignedLeaf.CertPem"/>).</param>
    /// <param name="trustedRootPems">The trust bundle; each string may hold several certificates.</param>
    /// <param name="now">The verification time.</param>
    /// <param name="untrustedPems">Extra helper certificates.</param>
    /// <param name="options">Pruning and length limits; <see cref="ChainVerifierOptions.Default"/> when null.</param>
    public static ChainVerification Verify(string certPem, IEnumerable<string> trustedRootPems, DateTimeOffset now,
        IEnumerable<string>? untrustedPems = null, ChainVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trustedRootPems);
        options ??= ChainVerifierOptions.Default;
        var presented = CertificateInfo.ParseAll(certPem);
        var helpers = presented.Skip(1).Concat((untrustedPems ?? []).SelectMany(CertificateInfo.ParseAll));
        if (options.DropExpiredIntermediates) helpers = helpers.Where(c => !c.IsExpiredAt(now));
        var roots = trustedRootPems.SelectMany(CertificateInfo.ParseAll).ToList();
        if (roots.Count == 0) return new ChainVerification(false, "no trusted roots", []);

        var owned = new List<X509Certificate2>();
        X509Certificate2 Load(CertificateInfo c)
        {
            var x = X509CertificateLoader.LoadCertificate(c.Der);
            owned.Add(x);
            return x;
        }
        try
        {
            using var chain = new X509Chain();
            var policy = chain.ChainPolicy;
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.RevocationMode = X509RevocationMode.NoCheck;
            policy.DisableCertificateDownloads = true;
            policy.VerificationTime = now.UtcDateTime;
            policy.VerificationTimeIgnored = false;
            foreach (var r in roots) policy.CustomTrustStore.Add(Load(r));
            foreach (var h in helpers) policy.ExtraStore.Add(Load(h));

            var ok = chain.Build(Load(presented[0]));
            var built = chain.ChainElements.Select(e => CertificateInfo.FromDer(e.Certificate.RawData)).ToList();
            foreach (var e in chain.ChainElements) e.Certificate.Dispose();
            if (!ok)
            {
                var error = string.Join("; ", chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError)
                    .Select(s => $"{s.Status}: {s.StatusInformation.Trim()}").Distinct());
                return new ChainVerification(false, error.Length > 0 ? error : "chain could not be built", built);
            }
            if (built.Count > options.MaxChainLength)
                return new ChainVerification(false, $"chain has {built.Count} certificates, more than the maximum of {options.MaxChainLength}", built);
            return new ChainVerification(true, "", built);
        }
        finally
        {
            foreach (var x in owned) x.Dispose();
        }
    }

    /// <summary>
    /// The certificates of <paramref name="chainPems"/> that have not expired at <paramref name="now"/>, in order: what a root's
    /// intermediate list should hold before it is published or a new intermediate is appended (SPEC §3.10, §5 item 7).
    /// </summary>
    public static IReadOnlyList<string> PruneExpired(IEnumerable<string> chainPems, DateTimeOffset now)
        => chainPems.SelectMany(CertificateInfo.ParseAll).Where(c => !c.IsExpiredAt(now)).Select(c => c.ToPem()).ToList();

    /// <summary>True when every certificate in <paramref name="pem"/> has expired at <paramref name="now"/> (the rule of <see cref="PruneExpired"/>).</summary>
    public static bool IsExpired(string pem, DateTimeOffset now) => CertificateInfo.ParseAll(pem).All(c => c.IsExpiredAt(now));
}
