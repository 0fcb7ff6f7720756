using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Meridian.Client;

/// <summary>
/// Why a TLS gateway refused the client, for the connection error: Orleans only reports a closed connection. Runs the
/// same handshake the client does (same CA, same required name, same certificate) on its own socket. Public for the
/// silo's link to its primary, which reports the same reasons in its status.
/// </summary>
public static class TlsProbe
{
    /// <summary>What went wrong at <paramref name="endpoint"/>, or null when the handshake and the first read show nothing.</summary>
    public static async Task<string?> ProbeAsync(IPEndPoint endpoint, string gateway, MeridianTlsMaterial material, string? requiredName,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        string? serverProblem = null;
        var sawServer = false;
        try
        {
            await socket.ConnectAsync(endpoint, cts.Token);
            await using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = requiredName ?? "",
                ClientCertificates = material.Certificate is null ? null : [material.Certificate],
                RemoteCertificateValidationCallback = (_, cert, chain, _) =>
                {
                    sawServer = true;
                    if (cert is null) { serverProblem = "presented no certificate"; return false; }
                    var c2 = cert as System.Security.Cryptography.X509Certificates.X509Certificate2 ?? new(cert);
                    if (!material.Verify(c2, chain, null)) serverProblem = "presented a certificate that is not signed by the CA file";
                    else if (!material.Verify(c2, chain, requiredName)) serverProblem = $"presented a certificate that does not name {requiredName} (a server of another datacenter?)";
                    return serverProblem is null;
                },
            }, cts.Token);
            // TLS 1.3 ends the client's handshake before the server has checked the client certificate: a refusal shows
            // up as the connection closing (the Orleans gateway otherwise waits for the client's preamble).
            var buffer = new byte[1];
            var read = await ssl.ReadAsync(buffer, cts.Token);
            return read == 0 ? Refused(gateway, material) : null;
        }
        catch (AuthenticationException) when (serverProblem is not null)
        {
            return $"{gateway} {serverProblem}";
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            // Closed before the server showed a certificate: it does not speak TLS (an Orleans gateway without TLS drops
            // a ClientHello as a bad preamble).
            return sawServer ? Refused(gateway, material) : NotTls(gateway);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // No TLS answer at all (a TLS gateway answers the ClientHello at once).
            return sawServer ? null : NotTls(gateway);
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static string NotTls(string gateway)
        => $"{gateway} did not answer the TLS handshake: is TLS on at that gateway (Meridian:Tls)? Without it, leave out --ca-file and MERIDIAN_CACERT";

    private static string Refused(string gateway, MeridianTlsMaterial material) => material.Certificate is null
        ? $"{gateway} closed the TLS connection: it requires a client certificate; pass --client-cert and --client-key (or set MERIDIAN_CLIENT_CERT and MERIDIAN_CLIENT_KEY)"
        : $"{gateway} closed the TLS connection: it did not accept the client certificate (is it signed by the gateway's CA? A primary with VerifyServerHostname also requires it to name a datacenter of its Meridian:Federation:Datacenters)";
}
