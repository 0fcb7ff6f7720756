using System.Net;

namespace Meridian.Client;

/// <summary>How the SDK reaches a datacenter. Section <c>Meridian:Client</c>.</summary>
public sealed class MeridianClientOptions
{
    public const string SectionName = "Meridian:Client";

    /// <summary>Gateway endpoints (<c>host:port</c>) of the datacenter's silos. Default: <c>127.0.0.1:30000</c>.</summary>
    public List<string> Gateways { get; set; } = ["127.0.0.1:30000"];

    /// <summary>The datacenter to talk to. Default: <c>dc1</c>.</summary>
    public string Datacenter { get; set; } = "dc1";

    /// <summary>Orleans ServiceId of the Meridian deployment. Default: <c>meridian</c>.</summary>
    public string ServiceId { get; set; } = "meridian";

    /// <summary>Orleans ClusterId of the datacenter. Default: <c>meridian-&lt;Datacenter&gt;</c>.</summary>
    public string? ClusterId { get; set; }

    /// <summary>ACL token sent with every call (like <c>X-Consul-Token</c>). Never logged.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// How long to keep trying to connect at start before failing with <see cref="MeridianUnreachableException"/>.
    /// Default: 10 seconds. Zero tries once.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The effective ClusterId.</summary>
    public string EffectiveClusterId => string.IsNullOrEmpty(ClusterId) ? $"meridian-{Datacenter}" : ClusterId;

    /// <summary>Parses <see cref="Gateways"/>; throws <see cref="ArgumentException"/> naming the bad entry.</summary>
    public IPEndPoint[] ParseGateways()
    {
        if (Gateways.Count == 0) throw new ArgumentException("Meridian:Client:Gateways must list at least one HOST:PORT");
        return [.. Gateways.Select(ParseEndpoint)];
    }

    /// <summary>Parses <c>HOST:PORT</c> (host may be a name or an IP address).</summary>
    public static IPEndPoint ParseEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"gateway \"{text}\" must be HOST:PORT, e.g. 127.0.0.1:30000");
        var host = text[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var ip)) return new IPEndPoint(ip, port);
        var addresses = Dns.GetHostAddresses(host);
        var v4 = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        return new IPEndPoint(v4 ?? addresses.First(), port);
    }
}

/// <summary>The cluster could not be reached; the message names the gateways tried.</summary>
public sealed class MeridianUnreachableException(string message, Exception? inner = null) : Exception(message, inner);
