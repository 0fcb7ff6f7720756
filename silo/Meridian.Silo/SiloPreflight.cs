using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;

namespace Meridian.Silo;

/// <summary>
/// What the silo program checks before anything starts (no schema, no membership row, no listener): every option,
/// then, when they are valid, that no port is taken and that PostgreSQL answers. All problems are returned together,
/// and none of them reaches the host, whose "Hosting failed to start" log would add a stack trace.
/// </summary>
internal static class SiloPreflight
{
    /// <summary>
    /// The console log levels when nothing configures them: Meridian's own events at Information, everything else
    /// (Orleans' ~500 lines of option dumps and start-up steps, Polly's per-placement lines, ASP.NET Core) at Warning.
    /// They are the lowest-priority configuration source, so <c>Logging:LogLevel:Default=Information</c> (or
    /// <c>Logging__LogLevel__Default</c>, or any <c>Logging:LogLevel:&lt;category&gt;</c>) turns verbose logs back on.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string?> LogLevelDefaults = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Meridian"] = "Information",
    };

    /// <summary>Adds <see cref="LogLevelDefaults"/> below every other configuration source.</summary>
    public static void AddLogLevelDefaults(IConfigurationBuilder configuration) =>
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = LogLevelDefaults });

    /// <summary>
    /// Every problem of <paramref name="config"/>, one line each, naming the option key: the options, then (when they
    /// are valid) the ports and the PostgreSQL database, all reported together.
    /// </summary>
    public static async Task<IReadOnlyList<string>> CheckAsync(IConfiguration config, CancellationToken cancellationToken = default)
    {
        var problems = SiloConfiguration.TryRead(config, out var settings);
        if (settings is null) return problems;
        var endpoints = settings.Endpoints;
        var address = IPAddress.Parse(endpoints.Address);
        List<string> found = [];
        foreach (var (key, port) in new[]
                 {
                     ("SiloPort", endpoints.SiloPort), ("GatewayPort", endpoints.GatewayPort), ("HttpPort", endpoints.HttpPort),
                 })
        {
            if (port == 0 || !ListenPorts.IsInUse(address, port)) continue;
            found.Add($"{EndpointOptions.SectionName}:{key}: {address}:{port} is already in use (another silo or `meridian dev`?); stop it or choose another port");
        }
        if (settings.Storage.IsPostgreSql
            && (await PostgreSqlSchemaInstaller.InspectAsync(settings.Storage, cancellationToken)).Problem is { } database)
        {
            found.Add(database);
        }
        return found;
    }
}

/// <summary>Whether a TCP port can be listened on.</summary>
public static class ListenPorts
{
    /// <summary>
    /// True when something already listens on <paramref name="address"/>:<paramref name="port"/> (or on the wildcard
    /// address with that port).
    /// </summary>
    /// <remarks>
    /// Why the silo has to ask first: Orleans' silo and gateway listeners set <c>SocketOptionName.ReuseAddress</c>,
    /// which .NET on Linux maps to SO_REUSEADDR <em>and</em> SO_REUSEPORT. Two silos then both bind the same port
    /// without an error and the kernel spreads connections across them: a second "dc1" started while <c>meridian dev</c>
    /// ran wrote its membership row and answered half the clients. This probe binds without ReuseAddress (so without
    /// SO_REUSEPORT), which fails with EADDRINUSE next to any listener, SO_REUSEPORT or not; a port merely left in
    /// TIME_WAIT still counts as free, as it does for the listeners. Any other error (EACCES below 1024, an address
    /// not on this host) is left for the start to report with its own message.
    /// </remarks>
    public static bool IsInUse(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
