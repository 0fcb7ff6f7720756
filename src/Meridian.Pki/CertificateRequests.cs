using System.Net;
using Meridian.Core.Identity;
using Meridian.Pki.Internal;
using Org.BouncyCastle.Asn1.X509;

namespace Meridian.Pki;

/// <summary>PKCS#10 requests for the two flows that use them: a secondary's intermediate (SPEC §3.4) and an agent's leaf (SPEC §3.5).</summary>
public static class CertificateRequests
{
    /// <summary>
    /// The CSR a secondary sends to the primary: URI SAN = the signing ID, critical BasicConstraints CA pathlen 0.
    /// Unlike Consul (empty subject, docs/consul-pain-points.md row 15) the subject is a stable, non-empty CN:
    /// <c>sec-&lt;8 base36 chars of the key id&gt;.consul.ca.&lt;first 8 chars of clusterID&gt;.consul</c>.
    /// </summary>
    public static string CreateIntermediateCsr(CaKeyPair key, TrustDomain trustDomain)
    {
        ArgumentNullException.ThrowIfNull(key);
        var g = new X509ExtensionsGenerator();
        g.AddExtension(X509Extensions.SubjectAlternativeName, false, CertBuilder.AltNames([trustDomain.SigningId.Uri], null, null));
        g.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(0));
        return CsrBuilder.Build(key, CertBuilder.CommonName(CaNames.CommonName("sec", key, trustDomain)), g.Generate());
    }

    /// <summary>A leaf CSR as Consul's agent builds it: empty subject, one URI SAN plus optional DNS and IP SANs.</summary>
    public static string CreateLeafCsr(CaKeyPair key, SpiffeId id, IEnumerable<string>? dnsNames = null, IEnumerable<IPAddress>? ipAddresses = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(id);
        var g = new X509ExtensionsGenerator();
        g.AddExtension(X509Extensions.SubjectAlternativeName, true,
            CertBuilder.AltNames([id.Uri], dnsNames, ipAddresses?.Select(CertBuilder.IpBytes)));
        return CsrBuilder.Build(key, CertBuilder.EmptyName, g.Generate());
    }
}

internal static class CaNames
{
    /// <summary>
    /// Consul's <c>CACN</c>: <c>&lt;pri|sec&gt;-&lt;uid&gt;.consul.ca.&lt;cluster8&gt;.consul</c>. Consul picks a random uid;
    /// we derive it from the key id so the name is stable for a key and needs no randomness source.
    /// </summary>
    public static string CommonName(string prefix, CaKeyPair key, TrustDomain td)
    {
        var cluster = td.ClusterId.Length > 8 ? td.ClusterId[..8] : td.ClusterId;
        return $"{prefix}-{Base36(key.KeyId.Span)}.consul.ca.{cluster}.consul";
    }

    private static string Base36(ReadOnlySpan<byte> id)
    {
        const string digits = "0123456789abcdefghijklmnopqrstuvwxyz";
        var v = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(id);
        Span<char> s = stackalloc char[8];
        for (var i = 7; i >= 0; i--) { s[i] = digits[(int)(v % 36)]; v /= 36; }
        return new string(s);
    }
}
