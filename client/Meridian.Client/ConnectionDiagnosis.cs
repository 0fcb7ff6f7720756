using System.Net;

namespace Meridian.Client;

/// <summary>
/// Turns "cannot connect" into an error that says what answered at each gateway (<see cref="GatewayProbe"/>), and
/// the SDK's connection retry filter: retry until <see cref="MeridianClientOptions.ConnectTimeout"/>; a gateway or
/// silo of another datacenter fails at once, since waiting cannot change which cluster it belongs to.
/// </summary>
internal sealed class ConnectionDiagnosis(MeridianClientOptions options, IReadOnlyList<IPEndPoint> endpoints, MeridianTlsMaterial? tls = null)
{
    /// <summary>What to check, for a user who pointed the client at the wrong place.</summary>
    public const string Hint = "is it a Meridian gateway? `meridian dev` serves dc1 on 127.0.0.1:30000";

    // A live gateway answers the preamble in milliseconds; the probe must not stretch the error much.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(1);

    // A TLS server answers a ClientHello at once too, but the first handshake of a process loads the TLS library
    // (hundreds of milliseconds, seconds on a busy machine). Asked only of a port that closed on the preamble, which a
    // port that is not TLS does again at once, so the bound costs nothing there.
    private static readonly TimeSpan TlsDetectTimeout = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time = TimeProvider.System;
    private DateTimeOffset _deadline = DateTimeOffset.MinValue;

    /// <summary>The connection retry filter.</summary>
    public async Task<bool> ShouldRetryAsync(Exception exception, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var first = _deadline == DateTimeOffset.MinValue;
        if (first) _deadline = now + options.ConnectTimeout;
        if (first || now >= _deadline)
        {
            var error = await DiagnoseAsync(exception, cancellationToken);
            if (error is MeridianWrongDatacenterException || now >= _deadline) throw error;
        }
        await Task.Delay(TimeSpan.FromMilliseconds(250), _time, cancellationToken);
        return true;
    }

    /// <summary>Probes every gateway and returns the error to throw.</summary>
    public async Task<MeridianUnreachableException> DiagnoseAsync(Exception? cause, CancellationToken cancellationToken)
    {
        var findings = await Task.WhenAll(endpoints.Select(e => GatewayProbe.ProbeAsync(e, options.EffectiveClusterId, ProbeTimeout, cancellationToken)));
        var gateways = options.Gateways.Zip(findings).ToList();
        if (tls is not null)
        {
            // A TLS gateway answers the plaintext probe by closing: only a TLS handshake can say why it refused.
            var name = options.VerifyServerHostname ? MeridianTlsMaterial.ServerName(options.Datacenter, options.TlsDomain) : null;
            var tlsFindings = await Task.WhenAll(endpoints.Select((e, i) => findings[i].Answer == GatewayAnswer.NothingListens
                ? Task.FromResult<string?>(null)
                : TlsProbe.ProbeAsync(e, options.Gateways[i], tls, name, ProbeTimeout, cancellationToken)));
            if (tlsFindings.Any(f => f is not null))
            {
                return new MeridianUnreachableException($"cannot reach datacenter {options.Datacenter}: " + string.Join("; ",
                    gateways.Select((g, i) => tlsFindings[i] ?? Describe(g.First, g.Second))), cause);
            }
        }
        foreach (var (gateway, finding) in gateways)
        {
            if (ServedDatacenter(finding) is { } served && served != options.Datacenter)
                return new MeridianWrongDatacenterException(gateway, options.Datacenter, served);
        }
        // Without TLS options: a TLS gateway closes on the plaintext preamble (its first bytes are no TLS record
        // header), as anything that is not Orleans does; only a ClientHello tells them apart. A silent port is no TLS
        // server, so it costs no second probe.
        var requiresTls = tls is not null ? new bool[endpoints.Count] : await Task.WhenAll(endpoints.Select((e, i) =>
            findings[i].Answer == GatewayAnswer.NotOrleans
                ? TlsProbe.AnswersTlsAsync(e, TlsDetectTimeout, cancellationToken)
                : Task.FromResult(false)));
        return new MeridianUnreachableException($"cannot reach datacenter {options.Datacenter}: " + string.Join("; ",
            gateways.Select((g, i) => requiresTls[i] ? RequiresTls(g.First) : Describe(g.First, g.Second))), cause);
    }

    /// <summary>A TLS gateway, for a client without TLS options.</summary>
    private static string RequiresTls(string gateway) =>
        $"{gateway} requires TLS: pass --ca-file, --client-cert and --client-key (or set MERIDIAN_CACERT, MERIDIAN_CLIENT_CERT " +
        $"and MERIDIAN_CLIENT_KEY; in the SDK, {MeridianClientOptions.SectionName}:CaFile, ClientCertFile and ClientKeyFile)";

    // Meridian names a datacenter's cluster "meridian-<datacenter>" (MeridianClientOptions.EffectiveClusterId).
    private string? ServedDatacenter(GatewayProbeResult finding)
        => finding is { Answer: GatewayAnswer.OrleansCluster, ClusterId: { } id } && id.StartsWith("meridian-", StringComparison.Ordinal)
            && id != options.EffectiveClusterId
            ? id["meridian-".Length..]
            : null;

    /// <summary>One gateway's part of the error.</summary>
    private string Describe(string gateway, GatewayProbeResult finding) => finding.Answer switch
    {
        GatewayAnswer.NothingListens => $"nothing listens at {gateway}; is the datacenter running? `meridian dev` serves dc1 on 127.0.0.1:30000",
        GatewayAnswer.Silent => $"{gateway} accepted the connection but did not answer; {Hint}",
        GatewayAnswer.NotOrleans =>
            $"{gateway} closed the connection: it is not a gateway of {options.Datacenter} (check --datacenter); {Hint}",
        _ when finding.ClusterId == options.EffectiveClusterId =>
            $"{gateway} is a silo of {options.Datacenter} that refused the client: is it the silo port rather than the gateway port?",
        _ => $"{gateway} is an Orleans silo of cluster \"{finding.ClusterId}\", not a gateway of {options.Datacenter}; {Hint}",
    };
}
