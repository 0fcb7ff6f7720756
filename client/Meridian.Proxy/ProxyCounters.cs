using System.Diagnostics.Metrics;

namespace Meridian.Proxy;

/// <summary>
/// The proxy's counters: connections accepted, refused (TLS or authorization said no), failed (no endpoint, dial or
/// I/O error) and bytes carried, by direction (<c>inbound</c>, <c>upstream</c>). Published as
/// <c>System.Diagnostics.Metrics</c> instruments of the <c>Meridian</c> meter (<c>meridian.proxy.*</c>, tagged with
/// the service and direction) so an exporter of that meter picks them up, and kept as totals for this instance.
/// </summary>
public sealed class ProxyCounters
{
    /// <summary>The meter name shared with the rest of Meridian.</summary>
    public const string MeterName = "Meridian";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> AcceptedCounter = Meter.CreateCounter<long>("meridian.proxy.connections.accepted", "{connection}", "Connections the proxy carried (handshake and authorization passed).");
    private static readonly Counter<long> RefusedCounter = Meter.CreateCounter<long>("meridian.proxy.connections.refused", "{connection}", "Connections refused: TLS verification, peer identity or authorization.");
    private static readonly Counter<long> FailedCounter = Meter.CreateCounter<long>("meridian.proxy.connections.failed", "{connection}", "Connections that failed: no endpoint, dial, handshake timeout or I/O error.");
    private static readonly Counter<long> BytesCounter = Meter.CreateCounter<long>("meridian.proxy.bytes", "By", "Bytes carried, both ways.");
    private static readonly UpDownCounter<long> ActiveCounter = Meter.CreateUpDownCounter<long>("meridian.proxy.connections.active", "{connection}", "Connections open now.");

    private readonly KeyValuePair<string, object?> _service;
    private long _acceptedInbound, _acceptedUpstream, _refused, _failed, _bytes, _active;

    /// <summary>Counters for the proxy of <paramref name="service"/>.</summary>
    public ProxyCounters(string service) => _service = new("service", service);

    /// <summary>Inbound connections carried.</summary>
    public long AcceptedInbound => Interlocked.Read(ref _acceptedInbound);

    /// <summary>Upstream connections carried.</summary>
    public long AcceptedUpstream => Interlocked.Read(ref _acceptedUpstream);

    /// <summary>Connections refused, both directions.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Connections failed, both directions.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Bytes carried, both directions and ways.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Connections open now.</summary>
    public long Active => Interlocked.Read(ref _active);

    internal void Accepted(bool inbound)
    {
        Interlocked.Increment(ref inbound ? ref _acceptedInbound : ref _acceptedUpstream);
        AcceptedCounter.Add(1, _service, Direction(inbound));
    }

    internal void Refuse(bool inbound)
    {
        Interlocked.Increment(ref _refused);
        RefusedCounter.Add(1, _service, Direction(inbound));
    }

    internal void Fail(bool inbound)
    {
        Interlocked.Increment(ref _failed);
        FailedCounter.Add(1, _service, Direction(inbound));
    }

    internal void Carried(bool inbound, long bytes)
    {
        Interlocked.Add(ref _bytes, bytes);
        BytesCounter.Add(bytes, _service, Direction(inbound));
    }

    internal void Open(bool inbound, int delta)
    {
        Interlocked.Add(ref _active, delta);
        ActiveCounter.Add(delta, _service, Direction(inbound));
    }

    private static KeyValuePair<string, object?> Direction(bool inbound) => new("direction", inbound ? "inbound" : "upstream");
}
