using Meridian.Client;

namespace Meridian.Silo;

/// <summary>
/// Mutual TLS on every Orleans link of the silo: silo to silo, the client gateway and a secondary's link to the
/// primary. Section <c>Meridian:Tls</c>; the options keep Consul's meanings
/// (https://developer.hashicorp.com/consul/docs/reference/agent/configuration-file/tls). TLS is on as soon as any file
/// is set, and off by default (plaintext on loopback, as before).
/// </summary>
public sealed class TransportTlsOptions
{
    public const string SectionName = "Meridian:Tls";

    /// <summary>PEM of the CA that signed every transport certificate; the only trust anchor (never the system store).</summary>
    public string? CaFile { get; set; }

    /// <summary>This silo's certificate PEM (<c>meridian tls cert create --server</c>): served to clients and peers, and presented to them as a client.</summary>
    public string? CertFile { get; set; }

    /// <summary>Private key PEM of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Consul's <c>verify_incoming</c>: every incoming connection (clients and peers) must present a certificate of <see cref="CaFile"/>. Default: false.</summary>
    public bool VerifyIncoming { get; set; }

    /// <summary>Consul's <c>verify_outgoing</c>: the servers this silo connects to must present a certificate of <see cref="CaFile"/>. Default: false.</summary>
    public bool VerifyOutgoing { get; set; }

    /// <summary>
    /// Consul's <c>verify_server_hostname</c> (implies <see cref="VerifyOutgoing"/>): a peer's certificate must name
    /// <c>server.&lt;this dc&gt;.&lt;Domain&gt;</c>, the primary's <c>server.&lt;primary dc&gt;.&lt;Domain&gt;</c>, so a
    /// client certificate, or a server of another datacenter, cannot pose as one. Default: false.
    /// </summary>
    public bool VerifyServerHostname { get; set; }

    /// <summary>Domain of the certificate names. Default: <c>meridian</c>, as <c>meridian tls cert create</c> writes them.</summary>
    public string Domain { get; set; } = MeridianTlsMaterial.DefaultDomain;

    /// <summary>
    /// Lets a silo without TLS bind a non-loopback <c>Meridian:Endpoints:Address</c> (otherwise it refuses to start):
    /// plaintext on a network the operator trusts. Logged as a warning at every start. Default: false.
    /// </summary>
    public bool AllowInsecure { get; set; }

    /// <summary>True when any file is set.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CaFile) || !string.IsNullOrWhiteSpace(CertFile) || !string.IsNullOrWhiteSpace(KeyFile);
}

/// <summary>The validated TLS settings of a silo with its files loaded.</summary>
internal sealed record TransportTls(MeridianTlsMaterial Material, bool VerifyIncoming, bool VerifyOutgoing, bool VerifyServerHostname, string Domain)
{
    /// <summary>Options for connections a silo accepts (peers and the gateway).</summary>
    public Orleans.Connections.Security.TlsOptions Inbound() => Material.Inbound(VerifyIncoming);

    /// <summary>Options for connections to servers of <paramref name="datacenter"/> (a peer: this one; the primary link: the primary).</summary>
    public Orleans.Connections.Security.TlsOptions OutboundTo(string datacenter)
        => Material.Outbound(VerifyOutgoing || VerifyServerHostname, VerifyServerHostname ? MeridianTlsMaterial.ServerName(datacenter, Domain) : null);

    /// <summary>Reads and checks <c>Meridian:Tls</c>, loading the files; null when TLS is off. Every problem is added to <paramref name="problems"/>.</summary>
    public static TransportTls? TryRead(TransportTlsOptions o, string datacenter, List<string> problems)
    {
        const string P = TransportTlsOptions.SectionName + ":";
        if (!o.Enabled)
        {
            foreach (var (set, name) in new[] { (o.VerifyIncoming, "VerifyIncoming"), (o.VerifyOutgoing, "VerifyOutgoing"), (o.VerifyServerHostname, "VerifyServerHostname") })
            {
                if (set) problems.Add($"{P}{name} needs TLS files: set {P}CaFile, {P}CertFile and {P}KeyFile (see `meridian tls cert create --server`)");
            }
            return null;
        }
        var before = problems.Count;
        // A silo always serves TLS (to its gateway clients and peers), so it always needs its own certificate.
        if (string.IsNullOrWhiteSpace(o.CertFile)) problems.Add($"{P}CertFile must be set when TLS is on (this silo's certificate, e.g. dc1-server-meridian-0.pem)");
        if (string.IsNullOrWhiteSpace(o.KeyFile)) problems.Add($"{P}KeyFile must be set when TLS is on (the key of {P}CertFile, e.g. dc1-server-meridian-0-key.pem)");
        if (string.IsNullOrWhiteSpace(o.Domain) || !o.Domain.Split('.').All(l => l.Length > 0 && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
            problems.Add($"{P}Domain \"{o.Domain}\" must be dot-separated DNS labels");
        if (problems.Count > before)
        {
            // Load what there is anyway, so a bad CaFile is reported in the same pass.
            problems.AddRange(MeridianTlsMaterial.TryLoad(P, o.CaFile, null, null, out _));
            return null;
        }
        problems.AddRange(MeridianTlsMaterial.TryLoad(P, o.CaFile, o.CertFile, o.KeyFile, out var material));
        if (material is null) return null;
        var own = MeridianTlsMaterial.ServerName(datacenter, o.Domain);
        // Peers with VerifyServerHostname refuse this silo unless its certificate names it: say so at start, not per connection.
        if (o.VerifyServerHostname && !material.Certificate!.MatchesHostname(own, allowWildcards: false, allowCommonName: false))
            problems.Add($"{P}CertFile does not name {own}, which peers require with {P}VerifyServerHostname (make it with `meridian tls cert create --server --dc {datacenter}`)");
        if (!material.Verify(material.Certificate!, null, null))
            problems.Add($"{P}CertFile is not signed by {P}CaFile (or has expired)");
        return problems.Count > before ? null : new TransportTls(material, o.VerifyIncoming, o.VerifyOutgoing, o.VerifyServerHostname, o.Domain.ToLowerInvariant());
    }
}
