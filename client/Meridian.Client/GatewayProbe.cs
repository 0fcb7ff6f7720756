using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime.Messaging;
using Orleans.Serialization;

namespace Meridian.Client;

/// <summary>What answered at a gateway address, as far as one short handshake can tell.</summary>
public enum GatewayAnswer
{
    /// <summary>Nothing listens there (connection refused or no route).</summary>
    NothingListens,

    /// <summary>Something accepted the connection but did not answer the Orleans handshake in time.</summary>
    Silent,

    /// <summary>Something answered, but not with an Orleans handshake (or closed the connection).</summary>
    NotOrleans,

    /// <summary>An Orleans silo answered with its cluster id.</summary>
    OrleansCluster,
}

/// <summary>The probe's finding: what answered, and the cluster id when an Orleans silo did.</summary>
public sealed record GatewayProbeResult(GatewayAnswer Answer, string? ClusterId = null);

/// <summary>
/// Learns what listens at a gateway address when the Orleans client cannot connect, so the error can say why.
/// Orleans' own connection errors do not: nothing listening, a port that never answers, a silo-to-silo port and a
/// gateway of another cluster all end in "Unable to connect to any of the 1 available gateways". The probe sends an
/// Orleans client preamble and reads the answer: a silo port and a gateway both answer with their own preamble,
/// which carries their cluster id (ConnectionPreamble and GatewayInboundConnection in dotnet/orleans), and then
/// drop a client they do not accept (another cluster, or any client on a silo port).
/// </summary>
public static class GatewayProbe
{
    private static readonly Lazy<Serializer<Preamble>> Serializer = new(() =>
        new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(Preamble).Assembly)).BuildServiceProvider()
            .GetRequiredService<Serializer<Preamble>>());

    // Orleans' MaxPreambleLength: a longer length prefix is not an Orleans preamble.
    private const int MaxPreambleLength = 1024;

    // The silo drops a client it does not accept right after writing its preamble, and the abort often discards the
    // preamble before it is sent: the attempt then sees only a close. Measured on loopback: about half the attempts
    // against a silo port get the answer, about one in ten against a gateway of another cluster. Attempts take a
    // round trip each and stop at the first answer (and at the probe's timeout), so many are cheap; a close every
    // time means the address is not an Orleans silo, or (rarely) a gateway of another cluster whose every answer
    // was lost, which the error text allows for.
    private const int Attempts = 30;

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, sends a client preamble and reads the answer, all within
    /// <paramref name="timeout"/>.
    /// </summary>
    public static async Task<GatewayProbeResult> ProbeAsync(IPEndPoint endpoint, string clusterId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var result = new GatewayProbeResult(GatewayAnswer.NotOrleans);
        for (var attempt = 0; attempt < Attempts && result.Answer == GatewayAnswer.NotOrleans; attempt++)
        {
            var next = await ProbeOnceAsync(endpoint, clusterId, deadline.Token, cancellationToken);
            // The timeout can end a later attempt half-way (in its connect or its read): that says nothing about a
            // port that closed on every earlier one, which stays the finding.
            if (attempt > 0 && deadline.IsCancellationRequested && next.Answer is GatewayAnswer.NothingListens or GatewayAnswer.Silent) break;
            result = next;
        }
        return result;
    }

    private static async Task<GatewayProbeResult> ProbeOnceAsync(IPEndPoint endpoint, string clusterId, CancellationToken deadline, CancellationToken cancellationToken)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint, deadline);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new(GatewayAnswer.NothingListens);
        }
        try
        {
            var body = Serializer.Value.SerializeToArray(new Preamble
            {
                NetworkProtocolVersion = NetworkProtocolVersion.Version1,
                // Orleans' client identity shape (ClientGrainId is internal): type "sys.client", a unique key.
                NodeIdentity = GrainId.Create("sys.client", Guid.NewGuid().ToString("N")),
                ClusterId = clusterId,
            });
            var frame = new byte[sizeof(int) + body.Length];
            BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
            body.CopyTo(frame, sizeof(int));
            // The receive is posted before the send, so the answer is taken as soon as it arrives.
            var buffer = new byte[sizeof(int) + MaxPreambleLength];
            var first = socket.ReceiveAsync(buffer, SocketFlags.None, deadline).AsTask();
            await socket.SendAsync(frame, SocketFlags.None, deadline);
            var read = await first;
            if (read == 0) return new(GatewayAnswer.NotOrleans);
            if ((read = await FillAsync(socket, buffer, read, sizeof(int), deadline)) < 0) return new(GatewayAnswer.NotOrleans);
            var length = BinaryPrimitives.ReadInt32LittleEndian(buffer);
            if (length is <= 0 or > MaxPreambleLength) return new(GatewayAnswer.NotOrleans);
            if (await FillAsync(socket, buffer, read, sizeof(int) + length, deadline) < 0) return new(GatewayAnswer.NotOrleans);
            return new(GatewayAnswer.OrleansCluster, Serializer.Value.Deserialize(buffer[sizeof(int)..(sizeof(int) + length)])?.ClusterId);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(GatewayAnswer.Silent);
        }
        catch (Exception ex) when (ex is SocketException or CodecNotFoundException or InvalidOperationException or ArgumentException
            or Orleans.Serialization.SerializerException)
        {
            return new(GatewayAnswer.NotOrleans);
        }
    }

    // Reads until buffer holds at least `needed` bytes (`read` are there already); returns how many it holds, or -1
    // when the peer closed first.
    private static async Task<int> FillAsync(Socket socket, byte[] buffer, int read, int needed, CancellationToken cancellationToken)
    {
        while (read < needed)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (n == 0) return -1;
            read += n;
        }
        return read;
    }

    /// <summary>
    /// The wire shape of Orleans' internal <c>ConnectionPreamble</c> (same field ids and types). Serialized as the
    /// expected type, no type name goes on the wire, so the silo reads it as its own preamble and we read its answer.
    /// </summary>
    [GenerateSerializer, Alias("meridian.client.GatewayProbe.Preamble")]
    internal sealed class Preamble
    {
        [Id(0)] public NetworkProtocolVersion NetworkProtocolVersion { get; init; }
        [Id(1)] public GrainId NodeIdentity { get; init; }
        [Id(2)] public SiloAddress? SiloAddress { get; init; }
        [Id(3)] public string? ClusterId { get; init; }
    }
}
