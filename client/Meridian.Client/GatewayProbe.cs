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
/// Orleans client preamble and reads the answer: an Orleans silo port answers with its own preamble, which carries
/// its cluster id (ConnectionPreamble in dotnet/orleans). A gateway (Orleans 10.4) answers only a client of its own
/// cluster and closes the connection otherwise, so for a gateway of another datacenter the probe sees a close,
/// not the datacenter.
/// </summary>
public static class GatewayProbe
{
    private static readonly Lazy<Serializer<Preamble>> Serializer = new(() =>
        new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(Preamble).Assembly)).BuildServiceProvider()
            .GetRequiredService<Serializer<Preamble>>());

    // Orleans' MaxPreambleLength: a longer length prefix is not an Orleans preamble.
    private const int MaxPreambleLength = 1024;

    /// <summary>Connects to <paramref name="endpoint"/>, sends a client preamble and reads the answer within <paramref name="timeout"/>.</summary>
    public static async Task<GatewayProbeResult> ProbeAsync(IPEndPoint endpoint, string clusterId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endpoint, deadline.Token);
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
            await socket.SendAsync(frame, SocketFlags.None, deadline.Token);

            var header = new byte[sizeof(int)];
            if (!await ReadExactlyAsync(socket, header, deadline.Token)) return new(GatewayAnswer.NotOrleans);
            var length = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (length is <= 0 or > MaxPreambleLength) return new(GatewayAnswer.NotOrleans);
            var answer = new byte[length];
            if (!await ReadExactlyAsync(socket, answer, deadline.Token)) return new(GatewayAnswer.NotOrleans);
            return new(GatewayAnswer.OrleansCluster, Serializer.Value.Deserialize(answer)?.ClusterId);
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

    private static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (n == 0) return false;
            read += n;
        }
        return true;
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
