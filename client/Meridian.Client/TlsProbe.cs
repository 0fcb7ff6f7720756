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

    /// <summary>
    /// True when a TLS server answers at <paramref name="endpoint"/>: a ClientHello gets a TLS record back (the
    /// ServerHello, or an alert) within <paramref name="timeout"/>. For a client without TLS options, whose Orleans
    /// preamble a TLS gateway answers only by closing the connection, which by itself says nothing.
    /// </summary>
    public static async Task<bool> AnswersTlsAsync(IPEndPoint endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        FirstBytesStream? received = null;
        try
        {
            await socket.ConnectAsync(endpoint, cts.Token);
            received = new FirstBytesStream(new NetworkStream(socket, ownsSocket: false));
            await using var ssl = new SslStream(received, leaveInnerStreamOpen: false);
            // Nothing is trusted: the handshake ends at the server's certificate, whose first record is all we need.
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "",
                RemoteCertificateValidationCallback = (_, _, _, _) => false,
            }, cts.Token);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException
            || e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Expected: the handshake is refused on purpose, or the peer is not TLS; the bytes received decide.
        }
        return received is not null && IsTlsRecord(received.First);
    }

    /// <summary>
    /// True when <paramref name="received"/> (the first bytes a peer sent) starts a TLS record a server sends first:
    /// content type handshake (0x16, the ServerHello) or alert (0x15), then a record version 3.x (SSL 3.0 to TLS 1.3's
    /// legacy 3.3; RFC 8446 §5.1).
    /// </summary>
    public static bool IsTlsRecord(ReadOnlySpan<byte> received)
        => received.Length >= 3 && (received[0] is 0x16 or 0x15) && received[1] == 0x03 && received[2] <= 0x04;

    private static string NotTls(string gateway)
        => $"{gateway} did not answer the TLS handshake: is TLS on at that gateway (Meridian:Tls)? Without it, leave out --ca-file and MERIDIAN_CACERT";

    private static string Refused(string gateway, MeridianTlsMaterial material) => material.Certificate is null
        ? $"{gateway} closed the TLS connection: it requires a client certificate; pass --client-cert and --client-key (or set MERIDIAN_CLIENT_CERT and MERIDIAN_CLIENT_KEY)"
        : $"{gateway} closed the TLS connection: it did not accept the client certificate (is it signed by the gateway's CA? A primary with VerifyServerHostname also requires it to name a datacenter of its Meridian:Federation:Datacenters)";
}

/// <summary>A pass-through stream that keeps the first bytes read from the peer (for <see cref="TlsProbe.AnswersTlsAsync"/>).</summary>
internal sealed class FirstBytesStream(Stream inner) : Stream
{
    private const int Kept = 5; // a TLS record header
    private readonly byte[] _first = new byte[Kept];
    private int _count;

    /// <summary>The first bytes read (up to a record header).</summary>
    public ReadOnlySpan<byte> First => _first.AsSpan(0, _count);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Keep(buffer.AsSpan(offset), inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        return Keep(buffer.Span, n);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => inner.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    private int Keep(ReadOnlySpan<byte> read, int n)
    {
        var take = Math.Min(n, Kept - _count);
        if (take > 0) read[..take].CopyTo(_first.AsSpan(_count));
        _count += Math.Max(take, 0);
        return n;
    }
}
