using Meridian.Client;
using Meridian.Grains;
using Meridian.Integration.Tests.Processes;
using Meridian.Testing;

namespace Meridian.Integration.Tests;

/// <summary>
/// Two datacenters as real silo processes on real PostgreSQL, shared by the tests of one class: dc1 (primary) on
/// its own database, dc2 (secondary of dc1) on another. Tests may SIGKILL either; <see cref="EnsureUpAsync"/> brings
/// both back on the same databases and ports, so no test depends on what the one before it did.
/// </summary>
public sealed class FederatedSilosFixture : IAsyncLifetime
{
    /// <summary>How long one replication long-poll waits in dc2 (short, so a dead primary is noticed within seconds).</summary>
    public static readonly TimeSpan PollWait = TimeSpan.FromSeconds(2);

    // Orleans' placement pipeline logs every call at Information: keep failure output readable.
    private static readonly Dictionary<string, string> Quiet = new()
    {
        ["Logging__LogLevel__Polly"] = "Warning",
        ["Logging__LogLevel__Orleans"] = "Warning",
    };

    private readonly PostgresFixture _postgres = new();
    private readonly int[] _dc1Ports = FreePorts.Take(3);
    private readonly int[] _dc2Ports = FreePorts.Take(3);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SdkClient? _dc1Client;
    private SdkClient? _dc2Client;

    public string Dc1Database { get; private set; } = "";
    public string Dc2Database { get; private set; } = "";
    public SiloProcess? Dc1 { get; private set; }
    public SiloProcess? Dc2 { get; private set; }

    public IMeridianClient Dc1Client => _dc1Client?.Client ?? throw new InvalidOperationException("dc1 is not running");
    public IMeridianClient Dc2Client => _dc2Client?.Client ?? throw new InvalidOperationException("dc2 is not running");

    public string Dc1Gateway => $"127.0.0.1:{_dc1Ports[1]}";
    public string Dc2Gateway => $"127.0.0.1:{_dc2Ports[1]}";

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        Dc1Database = await _postgres.CreateDatabaseAsync();
        Dc2Database = await _postgres.CreateDatabaseAsync();
    }

    /// <summary>
    /// Both datacenters running and dc2's CA initialised (intermediate signed by dc1). When dc1 had to be started
    /// again, dc2 is restarted too, so its link to the primary is a fresh connection.
    /// </summary>
    public async Task EnsureUpAsync()
    {
        await _gate.WaitAsync();
        try
        {
            var restartSecondary = false;
            if (Dc1 is null || Dc1.HasExited)
            {
                await StopAsync(ref1: true);
                Dc1 = await SiloProcess.StartAsync(Dc1Database, _dc1Ports[0], _dc1Ports[1], _dc1Ports[2], "dc1", "dc1", null, Quiet);
                _dc1Client = await SdkClient.ConnectAsync(Dc1Gateway, "dc1");
                restartSecondary = true;
            }
            if (restartSecondary || Dc2 is null || Dc2.HasExited)
            {
                await StopAsync(ref1: false);
                await StartDc2CoreAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>SIGKILL for dc1's silo (no graceful stop).</summary>
    public async Task KillDc1Async()
    {
        if (Dc1 is not null) await Dc1.KillAsync();
    }

    /// <summary>
    /// dc1 comes back on an empty database (its store lost): SIGKILL, a fresh database, then <see cref="EnsureUpAsync"/>
    /// (dc2 restarts on its own database with it).
    /// </summary>
    public async Task RestartDc1OnEmptyDatabaseAsync()
    {
        await KillDc1Async();
        Dc1Database = await _postgres.CreateDatabaseAsync();
        await EnsureUpAsync();
    }

    /// <summary>SIGKILL for dc2's silo (no graceful stop).</summary>
    public async Task KillDc2Async()
    {
        if (Dc2 is not null) await Dc2.KillAsync();
    }

    /// <summary>Starts dc2 again on its database and ports, once dc1 is up, and waits for its CA.</summary>
    public async Task RestartDc2Async()
    {
        await _gate.WaitAsync();
        try
        {
            await StopAsync(ref1: false);
            await StartDc2CoreAsync();
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
            await StopAsync(ref1: false);
            await StopAsync(ref1: true);
        }
        finally
        {
            await _postgres.DisposeAsync();
        }
    }

    private async Task StartDc2CoreAsync()
    {
        Dc2 = await SiloProcess.StartAsync(Dc2Database, _dc2Ports[0], _dc2Ports[1], _dc2Ports[2], "dc2", "dc1", Dc1Gateway,
            new Dictionary<string, string>(Quiet)
            {
                ["Meridian__Replication__PollWait"] = PollWait.ToString("c"),
                ["Meridian__Ca__ReissueWindow"] = "00:00:03",
            });
        _dc2Client = await SdkClient.ConnectAsync(Dc2Gateway, "dc2");
        var client = _dc2Client.Client;
        // /health is 503 until the intermediate signed by dc1 is installed: wait for that through the SDK.
        await Poll.UntilAsync(() => client.GetStatusAsync(), s => s.Ca.State == "INITIALIZED" && s.Ca.SigningKeyID.Length > 0,
            TimeSpan.FromSeconds(60), "dc2's CA initialised with an intermediate signed by dc1", () => Dc2.Output);
    }

    private async Task StopAsync(bool ref1)
    {
        var (client, silo) = ref1 ? (_dc1Client, Dc1) : (_dc2Client, Dc2);
        if (client is not null)
        {
            try
            {
                await client.DisposeAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                // A client of a killed silo may not stop cleanly; it is gone either way.
            }
        }
        if (silo is not null) await silo.DisposeAsync();
        if (ref1) (_dc1Client, Dc1) = (null, null);
        else (_dc2Client, Dc2) = (null, null);
    }
}

/// <summary>Polls a real condition until it holds or a deadline passes; the failure names what was expected and what was last seen.</summary>
public static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string expected, Func<string>? context = null)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var last = "no answer";
        while (true)
        {
            try
            {
                var value = await probe();
                if (done(value)) return value;
                last = System.Text.Json.JsonSerializer.Serialize(value);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = $"{e.GetType().Name}: {e.Message}";
            }
            if (DateTimeOffset.UtcNow >= deadline)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds:0} s: {expected}. Last seen: {last}"
                    + (context is null ? "" : $"\nProcess output:\n{Tail(context())}"));
            }
            // Polling interval of a real condition, bounded by the deadline above.
            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
    }

    private static string Tail(string output) => output.Length <= 6000 ? output : output[^6000..];
}

/// <summary>Builders shared by the federation tests.</summary>
internal static class Federation
{
    public static IntentionDto Intention(string source, string destination, string action, string description = "") => new()
    {
        SourceName = source,
        DestinationName = destination,
        Action = action,
        Description = description,
    };

    public static AuthorizeRequestDto Authorize(string target, string trustDomain, string clientService, string clientDatacenter) => new()
    {
        Target = target,
        ClientCertURI = $"spiffe://{trustDomain}/ns/default/dc/{clientDatacenter}/svc/{clientService}",
    };

    public static CaRootDto ActiveRoot(CaRootListDto roots) => Assert.Single(roots.Roots, r => r.ID == roots.ActiveRootID);

    public static bool Has(IntentionListDto list, string source, string destination, string action) =>
        list.Intentions.Any(i => i.SourceName == source && i.DestinationName == destination && i.Action == action);

    public static bool HasPair(IntentionListDto list, string source, string destination) =>
        list.Intentions.Any(i => i.SourceName == source && i.DestinationName == destination);

    // IntentionDto holds immutable collections, which compare by reference: compare what matters field by field.
    public static List<string> Rows(IntentionListDto list) =>
        [.. list.Intentions.Select(i => string.Join('|', i.ID, i.SourceNS, i.SourceName, i.DestinationNS, i.DestinationName,
            i.Action, i.Description, i.Precedence)).Order(StringComparer.Ordinal)];
}
