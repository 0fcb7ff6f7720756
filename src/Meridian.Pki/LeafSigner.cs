using System.Formats.Asn1;
using System.Globalization;
using System.Net;
using Meridian.Core.Identity;
using Meridian.Pki.Internal;
using Org.BouncyCastle.Asn1.X509;

namespace Meridian.Pki;

/// <summary>What to put in a leaf whose key the caller already holds (the fast path: no CSR to parse or verify).</summary>
/// <param name="Id">The SPIFFE identity (service, mesh gateway, server or agent).</param>
/// <param name="PublicKeyDer">The leaf's DER SubjectPublicKeyInfo.</param>
/// <param name="DnsNames">Extra DNS SANs.</param>
/// <param name="IpAddresses">IP SANs.</param>
public sealed record LeafRequest(SpiffeId Id, byte[] PublicKeyDer, IReadOnlyList<string>? DnsNames = null,
    IReadOnlyList<IPAddress>? IpAddresses = null);

/// <summary>
/// A signed leaf, shaped like Consul's <c>IssuedCert</c> minus the agent-side fields.
/// </summary>
/// <param name="SerialNumber">Colon hex of the serial bytes, e.g. <c>0e</c>.</param>
/// <param name="CertPem">The leaf followed by the signer's chain (cross-signed roots, intermediates), in order.</param>
/// <param name="LeafPem">The leaf alone.</param>
/// <param name="ValidAfter">NotBefore (now - 1 min).</param>
/// <param name="ValidBefore">NotAfter (ValidAfter + leaf TTL).</param>
/// <param name="Id">The identity in the URI SAN (an agent's host rewritten to the trust domain).</param>
/// <param name="AuthorityKeyId">Colon hex of the signer's key id, equal to the signer's <c>SigningKeyID</c>.</param>
public sealed record SignedLeaf(string SerialNumber, string CertPem, string LeafPem, DateTimeOffset ValidAfter,
    DateTimeOffset ValidBefore, SpiffeId Id, string AuthorityKeyId);

/// <summary>
/// Signs leaf certificates for one datacenter (SPEC §3.5) with the local signing certificate: the root in the primary,
/// the local intermediate in a secondary. Immutable and thread-safe without locks: many threads may call
/// <see cref="Sign"/>/<see cref="SignCsr"/> at once (each thread signs with its own copy of the key). Build a new
/// signer when the root, intermediate or TTL changes.
/// </summary>
public sealed class LeafSigner
{
    private readonly LeafTbsWriter _writer;
    private readonly SigningSpiffeId _signingId;
    private readonly DatacenterName _datacenter;
    private readonly TimeSpan _leafTtl;
    private readonly Func<ulong> _nextSerial;
    private readonly DateTimeOffset _rootNotAfter;
    private readonly DateTimeOffset? _intermediateNotAfter;
    private readonly (string Pem, DateTimeOffset NotAfter)[] _chain;

    /// <param name="key">The signing key; it must match <paramref name="signingCertPem"/>. Not owned by the signer.</param>
    /// <param name="signingCertPem">The certificate that signs leaves (root or local intermediate); its URI SAN is the signing ID.</param>
    /// <param name="rootCertPem">The active root (checked for expiry before signing; may equal <paramref name="signingCertPem"/>).</param>
    /// <param name="intermediateCertPems">The active root's intermediate list, appended to every leaf in order (expired ones skipped).</param>
    /// <param name="datacenter">This datacenter; leaves are only signed for identities in it.</param>
    /// <param name="leafTtl">Leaf lifetime (Consul default 72 h).</param>
    /// <param name="nextSerial">The datacenter's serial counter, e.g. <see cref="SerialCounter.Next"/>; must be thread-safe.</param>
    public LeafSigner(CaKeyPair key, string signingCertPem, string rootCertPem, IEnumerable<string> intermediateCertPems,
        DatacenterName datacenter, TimeSpan leafTtl, Func<ulong> nextSerial)
    {
        ArgumentNullException.ThrowIfNull(nextSerial);
        if (leafTtl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(leafTtl), "Leaf TTL must be positive.");
        if (datacenter.Value is null) throw new ArgumentException("Datacenter must be set.", nameof(datacenter));
        var signing = CaCertificates.SignerCert(key, signingCertPem, out _signingId);
        var root = CertificateInfo.Parse(rootCertPem);
        _datacenter = datacenter;
        _leafTtl = leafTtl;
        _nextSerial = nextSerial;
        _rootNotAfter = root.NotAfter;
        _intermediateNotAfter = root.Der.AsSpan().SequenceEqual(signing.Der) ? null : signing.NotAfter;
        _chain = (intermediateCertPems ?? []).SelectMany(CertificateInfo.ParseAll).Select(c => (c.ToPem(), c.NotAfter)).ToArray();
        SigningKeyId = signing.SubjectKeyId;

        // Constant extensions are encoded once; only SKI and SAN vary per leaf.
        _writer = new LeafTbsWriter(key, signing.Structure.TbsCertificate.Subject.GetDerEncoded(),
            new BasicConstraints(false).GetDerEncoded(),
            CertBuilder.LeafKeyUsage.GetDerEncoded(),
            new ExtendedKeyUsage(KeyPurposeID.id_kp_clientAuth, KeyPurposeID.id_kp_serverAuth).GetDerEncoded(),
            new AuthorityKeyIdentifier(CaCertificates.SignerKeyId(signing, key)).GetDerEncoded());
    }

    /// <summary>Colon hex of the signing certificate's SKI: Consul's <c>SigningKeyID</c> for this datacenter (SPEC §3.6, §5 item 8).</summary>
    public string SigningKeyId { get; }

    /// <summary>The signing SPIFFE ID from the signing certificate.</summary>
    public SigningSpiffeId SigningId => _signingId;

    /// <summary>
    /// Fast path for a key generated in-process: identity checks, expiry checks, sign. No CSR parsing or verification.
    /// Throws <see cref="PkiException"/> with Consul's messages.
    /// </summary>
    public SignedLeaf Sign(LeafRequest request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        var id = CheckIdentity(request.Id);
        // Only the outer DER framing is checked here (the key was generated in-process); AsnWriter refuses anything
        // that is not exactly one encoded value.
        try
        {
            var outer = new AsnReader(request.PublicKeyDer, AsnEncodingRules.DER);
            var spki = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            spki.ReadSequence();
            spki.ReadBitString(out _);
            spki.ThrowIfNotEmpty();
        }
        catch (AsnContentException e)
        {
            throw new ArgumentException("PublicKeyDer is not a DER SubjectPublicKeyInfo.", nameof(request), e);
        }
        return Issue(id, request.PublicKeyDer, request.DnsNames, request.IpAddresses?.Select(CertBuilder.IpBytes), now);
    }

    /// <summary>
    /// Signs a PEM CSR after Consul's checks, in Consul's order: signature, exactly one URI, no e-mail SANs, identity
    /// kind, trust domain (agent IDs are rewritten to ours instead), datacenter, signer expiry. URIs, DNS names and IPs
    /// come from the CSR. Throws <see cref="PkiException"/>.
    /// </summary>
    public SignedLeaf SignCsr(string csrPem, DateTimeOffset now)
    {
        var csr = ParsedCsr.ParseAndVerify(csrPem);
        if (csr.Uris.Count != 1)
            throw new PkiException(PkiErrorCode.InvalidCsr, $"CSR SAN contains an invalid number of URIs: {csr.Uris.Count}");
        if (csr.Emails.Count > 0)
            throw new PkiException(PkiErrorCode.InvalidCsr, "CSR SAN does not allow specifying email addresses");
        if (!SpiffeId.TryParse(csr.Uris[0], out var requested, out var error))
            throw new PkiException(PkiErrorCode.InvalidCsr, error);
        var id = CheckIdentity(requested);
        return Issue(id, csr.PublicKeyDer, csr.DnsNames, csr.IpAddresses.Select(CertBuilder.IpBytes), now);
    }

    private SpiffeId CheckIdentity(SpiffeId id)
    {
        string? dc;
        switch (id)
        {
            case ServiceSpiffeId s: dc = s.Datacenter; CheckTrustDomain(id); break;
            case MeshGatewaySpiffeId m: dc = m.Datacenter; CheckTrustDomain(id); break;
            case ServerSpiffeId v: dc = v.Datacenter; CheckTrustDomain(id); break;
            case AgentSpiffeId a:
                // Auto-encrypt/auto-config agents ask before they know the roots, so Consul fixes their host instead of refusing.
                dc = a.Datacenter;
                if (a.Host != _signingId.Host) id = a with { TrustDomainHost = _signingId.Host };
                break;
            default:
                throw new PkiException(PkiErrorCode.InvalidCsr, "SPIFFE ID in CSR must be a service, mesh-gateway, or agent ID");
        }
        // Consul checks the datacenter of service, mesh-gateway and server IDs; we check agents too, since a leaf is only
        // ever signed in its own datacenter.
        if (dc != _datacenter.Value)
            throw new PkiException(PkiErrorCode.InvalidCsr, $"SPIFFE ID in CSR from a different datacenter: {dc}, we are {_datacenter.Value}");
        return id;
    }

    private void CheckTrustDomain(SpiffeId id)
    {
        if (!_signingId.CanSign(id))
            throw new PkiException(PkiErrorCode.InvalidCsr, $"SPIFFE ID in CSR from a different trust domain: {id.Host}, we are {_signingId.Host}");
    }

    private SignedLeaf Issue(SpiffeId id, byte[] spkiDer, IEnumerable<string>? dns, IEnumerable<byte[]>? ips,
        DateTimeOffset now)
    {
        if (_rootNotAfter < now) throw new PkiException(PkiErrorCode.SignerExpired, $"root expired: {Expired(_rootNotAfter)}");
        if (_intermediateNotAfter is { } interNotAfter && interNotAfter < now)
            throw new PkiException(PkiErrorCode.SignerExpired, $"intermediate expired: {Expired(interNotAfter)}");

        var notBefore = CertBuilder.Seconds(now) - CaCertificates.Backdate;
        var notAfter = notBefore + _leafTtl;
        var serial = _nextSerial();
        // Empty subject (as Consul since #10424), so the SAN is critical (RFC 5280 4.2.1.6).
        var der = _writer.Build(serial, notBefore, notAfter, spkiDer, CaCertificates.Sha256(spkiDer), id.Uri, dns, ips);
        var leafPem = PemBlocks.Certificate(der);
        var certPem = leafPem;
        if (_chain.Length > 0)
        {
            // Bounded chains (SPEC §5 items 7 and 11): never hand out an expired cross-sign or intermediate.
            var parts = new List<string>(_chain.Length + 1) { leafPem };
            foreach (var (pem, chainNotAfter) in _chain)
                if (chainNotAfter >= now) parts.Add(pem);
            certPem = string.Concat(parts);
        }
        return new SignedLeaf(Hex.Colon(Hex.SerialBytes(serial)), certPem, leafPem, notBefore, notAfter, id, SigningKeyId);
    }

    // Consul's checkExpired text, Go time format included; the trailing space is Consul's too.
    private static string Expired(DateTimeOffset notAfter)
        => $"certificate expired, expiration date: {notAfter.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} +0000 UTC ";
}
