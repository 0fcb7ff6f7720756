using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Meridian.Client;

/// <summary>
/// Transport TLS files loaded once: the CA bundle that alone decides trust (never the system store: a certificate any
/// public CA issued for some name must not open the mesh) and this side's certificate with its key.
/// </summary>
public sealed class MeridianTlsMaterial
{
    private MeridianTlsMaterial(X509Certificate2Collection ca, X509Certificate2? certificate)
    {
        Ca = ca;
        Certificate = certificate;
    }

    /// <summary>The trusted CA certificates (<c>CaFile</c>).</summary>
    public X509Certificate2Collection Ca { get; }

    /// <summary>This side's certificate with its private key, or null (a client without one).</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>
    /// Loads <paramref name="caFile"/> and, when both are given, <paramref name="certFile"/>/<paramref name="keyFile"/>.
    /// Returns the problems instead (file missing, not PEM, key not of the certificate), each naming
    /// <paramref name="fieldPrefix"/> + the field, and leaves <paramref name="material"/> null.
    /// </summary>
    public static IReadOnlyList<string> TryLoad(string fieldPrefix, string? caFile, string? certFile, string? keyFile,
        out MeridianTlsMaterial? material, string caField = "CaFile", string certField = "CertFile", string keyField = "KeyFile")
    {
        List<string> problems = [];
        material = null;
        var ca = new X509Certificate2Collection();
        if (string.IsNullOrWhiteSpace(caFile))
        {
            problems.Add($"{fieldPrefix}{caField} must be set when TLS is used (the CA that signed the transport certificates, e.g. meridian-agent-ca.pem)");
        }
        else
        {
            try
            {
                ca.ImportFromPemFile(caFile);
                if (ca.Count == 0) problems.Add($"{fieldPrefix}{caField}: {caFile} holds no PEM certificate");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                problems.Add($"{fieldPrefix}{caField}: cannot read {caFile}: {e.Message}");
            }
        }
        X509Certificate2? certificate = null;
        if (string.IsNullOrWhiteSpace(certFile) != string.IsNullOrWhiteSpace(keyFile))
        {
            problems.Add($"{fieldPrefix}{certField} and {fieldPrefix}{keyField} must be set together");
        }
        else if (!string.IsNullOrWhiteSpace(certFile))
        {
            try
            {
                using var pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
                // A PKCS#12 round trip gives the key a form SslStream accepts on every platform (an ephemeral PEM key
                // is refused as a server certificate on Windows).
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                // The message names the files, never key material.
                problems.Add($"{fieldPrefix}{certField}/{keyField}: cannot load {certFile} with {keyFile}: {e.Message}");
            }
        }
        if (problems.Count == 0) material = new MeridianTlsMaterial(ca, certificate);
        return problems;
    }

    /// <summary>
    /// True when <paramref name="certificate"/> chains to <see cref="Ca"/> only (intermediates sent by the peer help) and,
    /// when <paramref name="requiredName"/> is set, names it (Consul's <c>verify_server_hostname</c>:
    /// <c>server.&lt;dc&gt;.&lt;domain&gt;</c>).
    /// </summary>
    public bool Verify(X509Certificate2 certificate, X509Chain? presented, string? requiredName)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Ca);
        // A private transport CA publishes no CRL; Consul does not check revocation on these links either.
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                if (!element.Certificate.Equals(certificate)) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        if (!chain.Build(certificate)) return false;
        return requiredName is null || certificate.MatchesHostname(requiredName, allowWildcards: false, allowCommonName: false);
    }

    /// <summary>
    /// Options for a link this side opens (a client to a gateway, a silo to a peer, a secondary to the primary): TLS with
    /// this side's certificate; the server's certificate verified against <see cref="Ca"/> when
    /// <paramref name="verifyServer"/>, and named <paramref name="requiredServerName"/> when that is set.
    /// </summary>
    public TlsOptions Outbound(bool verifyServer, string? requiredServerName) => Outbound(() => this, verifyServer, requiredServerName);

    /// <summary>
    /// As <see cref="Outbound(bool, string?)"/>, reading the material from <paramref name="current"/> at every handshake
    /// (<see cref="ReloadingTlsMaterial"/>: a rotated certificate or CA is used by the next connection).
    /// </summary>
    internal static TlsOptions Outbound(Func<MeridianTlsMaterial> current, bool verifyServer, string? requiredServerName)
    {
        var options = new TlsOptions
        {
            LocalCertificate = current().Certificate,
            LocalClientCertificateSelector = (_, _, _, _, _) => current().Certificate,
            RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
        };
        if (verifyServer) options.RemoteCertificateValidation = (cert, chain, _) => current().Verify(cert, chain, requiredServerName);
        else options.AllowAnyRemoteCertificate();
        // SNI: the name the server is expected to have (or none); trust never depends on it (the callback above decides).
        if (requiredServerName is not null)
            options.OnAuthenticateAsClient = (_, ssl) => ssl.TargetHost = requiredServerName;
        return options;
    }

    /// <summary>
    /// Options for connections this side accepts: TLS with this side's certificate; a client certificate is required
    /// when <paramref name="requireClientCertificate"/> (Consul's <c>verify_incoming</c>), and any certificate that is
    /// presented must chain to <see cref="Ca"/>.
    /// </summary>
    public TlsOptions Inbound(bool requireClientCertificate) => Inbound(() => this, requireClientCertificate, null);

    /// <summary>
    /// As <see cref="Inbound(bool)"/>, reading the material from <paramref name="current"/> at every handshake; a
    /// presented certificate that chains to the CA must also pass <paramref name="accept"/> when it is given (the
    /// names a listener admits).
    /// </summary>
    internal static TlsOptions Inbound(Func<MeridianTlsMaterial> current, bool requireClientCertificate, Func<X509Certificate2, bool>? accept)
    {
        if (current().Certificate is null) throw new InvalidOperationException("A server needs its own certificate and key.");
        return new TlsOptions
        {
            // The selector wins over LocalCertificate (Orleans' TlsServerConnectionMiddleware): every handshake serves
            // the certificate current at that moment.
            LocalServerCertificateSelector = (_, _) => current().Certificate!,
            RemoteCertificateMode = requireClientCertificate ? RemoteCertificateMode.RequireCertificate : RemoteCertificateMode.AllowCertificate,
            RemoteCertificateValidation = (cert, chain, _) => current().Verify(cert, chain, null) && (accept is null || accept(cert)),
        };
    }

    /// <summary>The name a server of <paramref name="datacenter"/> presents: Consul's <c>server.&lt;dc&gt;.&lt;domain&gt;</c>.</summary>
    public static string ServerName(string datacenter, string domain) => $"server.{datacenter}.{domain}".ToLowerInvariant();

    /// <summary>Default domain of the transport names, as <c>meridian tls cert create</c> writes them.</summary>
    public const string DefaultDomain = "meridian";

}

/// <summary>The TLS files of a client or silo are missing, unreadable or do not belong together; every problem names its option.</summary>
public sealed class MeridianTlsConfigurationException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
{
    /// <summary>One line per problem, each starting with the option.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;
}
