using System.Security.Cryptography.X509Certificates;
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

    /// <summary>
    /// How often the silo looks for changed <see cref="CaFile"/>, <see cref="CertFile"/> and <see cref="KeyFile"/>:
    /// new connections then use the new files, without a restart (connections already open keep theirs). Files that do
    /// not load together keep the previous ones in use, with a warning. <c>00:00:00</c> turns reloading off. Default: 5 s.
    /// </summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>True when any file is set.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CaFile) || !string.IsNullOrWhiteSpace(CertFile) || !string.IsNullOrWhiteSpace(KeyFile);
}

/// <summary>The validated TLS settings of a silo with its files loaded (and re-read when they change).</summary>
internal sealed record TransportTls(ReloadingTlsMaterial Files, bool VerifyIncoming, bool VerifyOutgoing, bool VerifyServerHostname,
    string Domain, string Datacenter, TimeSpan ReloadInterval)
{
    /// <summary>The files' current material (after the latest accepted reload).</summary>
    public MeridianTlsMaterial Material => Files.Current;

    /// <summary>Options for connections a silo accepts from its peers: with <see cref="VerifyServerHostname"/> a peer must name this datacenter's servers (a client certificate cannot pose as a silo).</summary>
    public Orleans.Connections.Security.TlsOptions SiloInbound()
    {
        var own = MeridianTlsMaterial.ServerName(Datacenter, Domain);
        return Files.Inbound(VerifyIncoming, VerifyServerHostname ? c => c.MatchesHostname(own, allowWildcards: false, allowCommonName: false) : null);
    }

    /// <summary>
    /// Options for the client gateway. <paramref name="admit"/> (the primary's federation check, with
    /// <see cref="VerifyServerHostname"/>) returns why a presented certificate is refused, or null; refusals go to
    /// <paramref name="refused"/>.
    /// </summary>
    public Orleans.Connections.Security.TlsOptions GatewayInbound(Func<IReadOnlyCollection<string>, string?>? admit, Action<X509Certificate2, string> refused)
    {
        if (admit is null || !VerifyServerHostname) return Files.Inbound(VerifyIncoming);
        return Files.Inbound(VerifyIncoming, c =>
        {
            var why = admit(DnsNames(c));
            if (why is not null) refused(c, why);
            return why is null;
        });
    }

    /// <summary>Options for connections to servers of <paramref name="datacenter"/> (a peer: this one; the primary link: the primary).</summary>
    public Orleans.Connections.Security.TlsOptions OutboundTo(string datacenter)
        => Files.Outbound(VerifyOutgoing || VerifyServerHostname, VerifyServerHostname ? MeridianTlsMaterial.ServerName(datacenter, Domain) : null);

    /// <summary>The DNS names of a certificate's subject alternative names.</summary>
    public static IReadOnlyCollection<string> DnsNames(X509Certificate2 certificate)
        => certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToList();

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
        if (o.ReloadInterval < TimeSpan.Zero) problems.Add($"{P}ReloadInterval must be 00:00:00 (off) or positive, not {o.ReloadInterval}");
        if (problems.Count > before)
        {
            // Load what there is anyway, so a bad CaFile is reported in the same pass.
            problems.AddRange(MeridianTlsMaterial.TryLoad(P, o.CaFile, null, null, out _));
            return null;
        }
        problems.AddRange(MeridianTlsMaterial.TryLoad(P, o.CaFile, o.CertFile, o.KeyFile, out var material));
        if (material is null) return null;
        var domain = o.Domain.ToLowerInvariant();
        // The same rules hold for the files at start and for every reload: a rotated certificate that peers would refuse
        // (wrong name, another CA) never replaces a working one.
        IReadOnlyList<string> Check(MeridianTlsMaterial m)
        {
            List<string> found = [];
            var own = MeridianTlsMaterial.ServerName(datacenter, domain);
            // Peers with VerifyServerHostname refuse this silo unless its certificate names it: say so at start, not per connection.
            if (o.VerifyServerHostname && !m.Certificate!.MatchesHostname(own, allowWildcards: false, allowCommonName: false))
                found.Add($"{P}CertFile does not name {own}, which peers require with {P}VerifyServerHostname (make it with `meridian tls cert create --server --dc {datacenter}`)");
            if (!m.Verify(m.Certificate!, null, null))
                found.Add($"{P}CertFile is not signed by {P}CaFile (or has expired)");
            return found;
        }
        problems.AddRange(Check(material));
        return problems.Count > before
            ? null
            : new TransportTls(new ReloadingTlsMaterial(material, P, o.CaFile, o.CertFile, o.KeyFile, Check), o.VerifyIncoming, o.VerifyOutgoing,
                o.VerifyServerHostname, domain, datacenter, o.ReloadInterval);
    }
}
