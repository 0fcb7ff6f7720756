using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;

namespace Meridian.Proxy;

/// <summary>
/// Carries bytes both ways between two streams until both ways ended: when one side finishes sending, the other
/// side's sending half is closed (TCP FIN, or TLS close_notify), so request/response protocols that half-close keep
/// working; an error on either way aborts both.
/// </summary>
internal static class BytePump
{
    // 64 KiB: one read from TCP fills four 16 KiB TLS records, a quarter of the calls per byte of 16 KiB buffers.
    private const int BufferSize = 64 * 1024;

    public static async Task RunAsync(Stream a, Socket? aSocket, Stream b, Socket? bSocket, Action<long> carried, CancellationToken ct)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var ab = OneWayAsync(a, b, bSocket, carried, abort);
        var ba = OneWayAsync(b, a, aSocket, carried, abort);
        await Task.WhenAll(ab, ba);
    }

    private static async Task OneWayAsync(Stream from, Stream to, Socket? toSocket, Action<long> carried, CancellationTokenSource abort)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer, abort.Token)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, n), abort.Token);
                carried(n);
            }
            // End of this way: tell the other side, keep the other way open.
            if (to is SslStream ssl) await ssl.ShutdownAsync();
            else toSocket?.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One way broke (reset, abort, drain deadline): the whole connection goes.
            await abort.CancelAsync();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
