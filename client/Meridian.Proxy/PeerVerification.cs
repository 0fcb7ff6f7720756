using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Meridian.Core.Identity;
using Meridian.Pki;

namespace Meridian.Proxy;

/// <summary>
/// Checks a peer's certificate the way Consul's built-in proxy does (<c>connect/tls.go</c>): the chain must verify
/// against the bundle (the host name is not checked: mesh identity is the SPIFFE URI), and the leaf must carry a URI
/// SAN that is a SPIFFE service ID; when an identity is expected, it must name the same service in the same
/// datacenter, compared case-insensitively and ignoring the trust-domain host (as Consul does).
/// </summary>
public static class PeerVerification
{
    /// <summary>EKU <c>clientAuth</c>: what an inbound caller's certificate must allow.</summary>
    public const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>EKU <c>serverAuth</c>: what a dialed sidecar's certificate must allow.</summary>
    public const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>Null when the peer is acceptable, otherwise the reason (for the log line of a refused connection).</summary>
    public static string? Check(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, string? expectedUri, out ServiceSpiffeId? peer, out string serial)
    {
        peer = null;
        serial = "";
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return "no certificate presented";
        var info = CertificateInfo.FromDer(certificate.GetRawCertData());
        serial = info.SerialNumber;
        if ((errors & ~SslPolicyErrors.RemoteCertificateNameMismatch) != SslPolicyErrors.None)
        {
            var status = chain?.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError).Select(s => s.Status.ToString()).Distinct().ToList();
            return $"certificate serial {serial} does not verify against the trusted roots ({(status is { Count: > 0 } ? string.Join(", ", status) : errors.ToString())})";
        }
        foreach (var uri in info.Uris)
        {
            if (SpiffeId.TryParse(uri, out var id, out _) && id is ServiceSpiffeId s)
            {
                peer = s;
                break;
            }
        }
        if (peer is null) return $"certificate serial {serial} has no SPIFFE service ID";
        if (expectedUri is not null && !SameService(peer.Uri, expectedUri))
            return $"peer presented {peer.Uri}, expected {expectedUri}";
        return null;
    }

    /// <summary>
    /// True when both SPIFFE IDs name the same service, namespace and datacenter, ignoring the trust-domain host and
    /// case (Consul's built-in proxy: the expected ID is <c>spiffe://*/ns/…/dc/…/svc/…</c>).
    /// </summary>
    public static bool SameService(string presented, string expected)
    {
        static string? PathOf(string uri)
        {
            if (!uri.StartsWith("spiffe://", StringComparison.OrdinalIgnoreCase)) return null;
            var slash = uri.IndexOf('/', "spiffe://".Length);
            return slash < 0 ? null : uri[slash..];
        }
        var (a, b) = (PathOf(presented), PathOf(expected));
        return a is not null && b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
    }
}
