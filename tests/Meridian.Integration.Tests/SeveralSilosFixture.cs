using System.Globalization;
using Meridian.Client;
using Meridian.Integration.Tests.Processes;
using Meridian.Testing;

namespace Meridian.Integration.Tests;

/// <summary>
/// A primary datacenter of three silo processes on one PostgreSQL database (ADO.NET clustering), and a secondary of one
/// silo on its own database whose <c>Meridian:Primary:Gateways</c> lists every primary silo. Tests kill (SIGKILL) or
/// restart (SIGTERM) primary silos; <see cref="EnsureUpAsync"/> starts whatever is down again on the same database and
/// ports, so no test depends on what the one before it did.
/// </summary>
public sealed class SeveralSilosFixture : IAsyncLifetime
{
    public const int SiloCount = 3;

    // Orleans declares a silo that stopped answering dead after 3 missed probes; 2 s probes instead of the default 5 s
    // keep the tests short (production keeps Orleans' defaults, README "A datacenter of several silos").
    private static readonly Dictionary<string, string> Dc1Settings = new()
    {
        ["Logging__LogLevel__Polly"] = "Warning",
        ["Logging__LogLevel__Orleans"] = "Warning",
        ["Meridian__Membership__ProbeTimeout"] = "00:00:02",
        ["Meridian__Dashboard__Enabled"] = "false",
    };

    private readonly PostgresFixture _postgres = new();
    private readonly int[][] _dc1Ports = [.. Enumerable.Range(0, SiloCount).Select(_ => FreePorts.Take(3))];
    private readonly int[] _dc2Ports = FreePorts.Take(3);
    private readonly SiloProcess?[] _dc1 = new SiloProcess?[SiloCount];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SiloProcess? _dc2;
    private SdkClient? _dc1Client;
    private SdkClient? _dc2Client;
    private bool _killed;

    public string Dc1Database { get; private set; } = "";
    public string Dc2Database { get; private set; } = "";

    /// <summary>Every primary silo's gateway, <c>127.0.0.1:PORT</c>, in silo order.</summary>
    public IReadOnlyList<string> Dc1Gateways => [.. _dc1Ports.Select(p => $"127.0.0.1:{p[1]}")];

    public int Dc1GatewayPort(int silo) => _dc1Ports[silo][1];

    public SiloProcess Dc1Silo(int silo) => _dc1[silo] ?? throw new InvalidOperationException($"dc1 silo {silo} is not running");

    public SiloProcess Dc2 => _dc2 ?? throw new InvalidOperationException("dc2 is not running");

    /// <summary>An SDK client of dc1 configured with all three gateways.</summary>
    public IMeridianClient Dc1Client => _dc1Client?.Client ?? throw new InvalidOperationException("dc1 is not running");

    public IMeridianClient Dc2Client => _dc2Client?.Client ?? throw new InvalidOperationException("dc2 is not running");

    /// <summary>Every silo's output, for failure messages.</summary>
    public string Output()
    {
        return string.Join("\n", _dc1.Select((s, i) => $"--- dc1 silo {i}:\n{Tail(s?.Output)}").Append($"--- dc2:\n{Tail(_dc2?.Output)}")) + "\n" + Membership();
    }

    /// <summary>dc1's membership table, one line per silo (port, generation, status, suspicions), for failure messages.</summary>
    public string Membership()
    {
        try
        {
            using var connection = new Npgsql.NpgsqlConnection(Dc1Database);
            connection.Open();
            using var command = new Npgsql.NpgsqlCommand("SELECT Port, Generation, Status, SuspectTimes, IAmAliveTime FROM OrleansMembershipTable ORDER BY Port, Generation", connection);
            using var reader = command.ExecuteReader();
            var lines = new List<string> { $"dc1 membership at {DateTime.UtcNow:HH:mm:ss.fff} (status 3 = active, 6 = dead; silo ports {string.Join(", ", _dc1Ports.Select(p => p[0]))}):" };
            while (reader.Read())
                lines.Add($"  port {reader.GetInt32(0)} generation {reader.GetInt32(1)} status {reader.GetInt32(2)} suspects [{(reader.IsDBNull(3) ? "" : reader.GetString(3))}] alive {reader.GetDateTime(4):HH:mm:ss}");
            return string.Join("\n", lines);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
        {
            return $"dc1 membership unreadable: {e.Message}";
        }
    }

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        Dc1Database = await _postgres.CreateDatabaseAsync();
        Dc2Database = await _postgres.CreateDatabaseAsync();
    }

    /// <summary>Every primary silo and the secondary running (started in parallel), and the secondary's CA initialised.</summary>
    public async Task EnsureUpAsync()
    {
        await _gate.WaitAsync();
        try
        {
            // After a test killed a silo, every silo starts afresh (the survivors stop gracefully first), and the
            // secondary too, so no test inherits the recovery of another: each asserts the recovery it causes.
            var restartAll = _killed;
            _killed = false;
            if (restartAll)
            {
                await DisposeClientAsync(_dc1Client);
                _dc1Client = null;
                foreach (var i in Enumerable.Range(0, SiloCount).Where(i => _dc1[i] is { HasExited: false }))
                {
                    await _dc1[i]!.StopAsync(TimeSpan.FromSeconds(60));
                }
            }
            var down = Enumerable.Range(0, SiloCount).Where(i => _dc1[i] is null || _dc1[i]!.HasExited).ToList();
            foreach (var i in down)
            {
                if (_dc1[i] is { } dead) await dead.DisposeAsync();
                _dc1[i] = null;
            }
            await Task.WhenAll(down.Select(StartDc1CoreAsync));
            _dc1Client ??= await SdkClient.ConnectAsync(Dc1Gateways, "dc1");
            if (restartAll || _dc2 is null || _dc2.HasExited) await StartDc2CoreAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>SIGKILL for one primary silo.</summary>
    public Task KillDc1Async(int silo)
    {
        _killed = true;
        return Dc1Silo(silo).KillAsync();
    }

    /// <summary>SIGTERM for one primary silo; waits for it to exit 0 (it leaves the cluster gracefully).</summary>
    public async Task StopDc1Async(int silo)
    {
        var process = Dc1Silo(silo);
        var code = await process.StopAsync(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"dc1 silo {silo} exited {code} on SIGTERM. Output:\n{Tail(process.Output)}");
        await process.DisposeAsync();
        _dc1[silo] = null;
    }

    /// <summary>Starts one primary silo again on its database and ports; waits for its <c>/health</c>.</summary>
    public async Task StartDc1Async(int silo)
    {
        await _gate.WaitAsync();
        try
        {
            if (_dc1[silo] is { HasExited: false }) throw new InvalidOperationException($"dc1 silo {silo} is running");
            await StartDc1CoreAsync(silo);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            foreach (var client in new[] { _dc2Client, _dc1Client })
            {
                if (client is null) continue;
                try
                {
                    await client.DisposeAsync();
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                {
                    // A client of a killed silo may not stop cleanly; it is gone either way.
                }
            }
            if (_dc2 is not null) await _dc2.DisposeAsync();
            foreach (var silo in _dc1)
            {
                if (silo is not null) await silo.DisposeAsync();
            }
        }
        finally
        {
            await _postgres.DisposeAsync();
        }
    }

    private async Task StartDc1CoreAsync(int silo)
    {
        var p = _dc1Ports[silo];
        // Every silo advertises all of dc1's gateways (README "A datacenter of several silos"), so the datacenter's
        // entry in its registry stays the same whichever silo registers it.
        var settings = new Dictionary<string, string>(Dc1Settings);
        for (var i = 0; i < SiloCount; i++) settings[$"Meridian__Wan__Gateways__{i.ToString(CultureInfo.InvariantCulture)}"] = Dc1Gateways[i];
        _dc1[silo] = await SiloProcess.StartAsync(Dc1Database, p[0], p[1], p[2], "dc1", "dc1", null, settings);
    }

    private static async Task DisposeClientAsync(SdkClient? client)
    {
        if (client is null) return;
        try
        {
            await client.DisposeAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // A client of a killed silo may not stop cleanly; it is gone either way.
        }
    }

    private async Task StartDc2CoreAsync()
    {
        await DisposeClientAsync(_dc2Client);
        _dc2Client = null;
        if (_dc2 is not null) await _dc2.DisposeAsync();
        // The secondary lists every gateway of the primary; Meridian:Replication:PollWait keeps its default (5 minutes),
        // so a long-poll stuck behind a dead gateway would show as a stall.
        var settings = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Polly"] = "Warning",
            ["Logging__LogLevel__Orleans"] = "Warning",
            ["Meridian__Dashboard__Enabled"] = "false",
        };
        for (var i = 1; i < SiloCount; i++) settings[$"Meridian__Primary__Gateways__{i.ToString(CultureInfo.InvariantCulture)}"] = Dc1Gateways[i];
        _dc2 = await SiloProcess.StartAsync(Dc2Database, _dc2Ports[0], _dc2Ports[1], _dc2Ports[2], "dc2", "dc1", Dc1Gateways[0], settings);
        _dc2Client = await SdkClient.ConnectAsync($"127.0.0.1:{_dc2Ports[1]}", "dc2");
        var client = _dc2Client.Client;
        await Poll.UntilAsync(() => client.GetStatusAsync(), s => s.Ca.State == "INITIALIZED" && s.Ca.SigningKeyID.Length > 0,
            TimeSpan.FromSeconds(90), "dc2's CA initialised with an intermediate signed by dc1", () => _dc2.Output);
    }

    private static string Tail(string? output) => output is null ? "(not running)" : output.Length <= 6000 ? output : output[^6000..];
}

/// <summary>The established TCP connections of a process, read from <c>/proc</c> (Linux).</summary>
public static class TcpConnections
{
    /// <summary>The remote ports of <paramref name="pid"/>'s established TCP connections (IPv4 and IPv6).</summary>
    public static IReadOnlySet<int> RemotePorts(int pid)
    {
        // Each socket the process holds is a link "socket:[INODE]" under /proc/PID/fd; /proc/PID/net/tcp lists every
        // socket of its network namespace with its inode, so the inodes pick the process's own.
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    inodes.Add(target["socket:[".Length..^1]);
            }
            catch (IOException)
            {
                // Closed while we looked.
            }
        }
        var ports = new HashSet<int>();
        foreach (var table in new[] { $"/proc/{pid}/net/tcp", $"/proc/{pid}/net/tcp6" })
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || f[3] != "01" || !inodes.Contains(f[9])) continue; // 01 = ESTABLISHED
                ports.Add(int.Parse(f[2][(f[2].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return ports;
    }
}
