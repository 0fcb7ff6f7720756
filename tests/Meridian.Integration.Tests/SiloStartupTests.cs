using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Meridian.Integration.Tests.Processes;
using Meridian.Silo;
using Meridian.Testing;

namespace Meridian.Integration.Tests;

/// <summary>
/// The silo program's start-up promise (README, "A datacenter silo on PostgreSQL"): every problem the operator has to
/// fix is reported together before anything starts, one <c>meridian silo: key: problem</c> line each, exit 2.
/// Real <c>Meridian.Silo.dll</c> processes.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class SiloStartupTests(PostgresFixture fx)
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task SiloProcess_UnparsableOptions_Exit2WithEveryKeyTogether()
    {
        var ports = FreePorts.Take(2);
        await using var silo = StartSilo(ports[0], ports[1], httpPort: null, new()
        {
            ["Meridian__Endpoints__HttpPort"] = "abc",
            ["Meridian__Dashboard__Enabled"] = "maybe",
            ["Meridian__Replication__PollWait"] = "banana",
            ["Meridian__Storage__CreateSchema"] = "sometimes",
            ["Meridian__Ca__PrivateKeyBits"] = "many",
            ["Meridian__DefaultIntentionPolicy"] = "perhaps",
            ["Meridian__Storage__Provider"] = "PostgreSql",
            ["Meridian__Storage__ConnectionString"] = "Host=127.0.0.1;Passwort=typo-secret-91c2",
            ["Meridian__Federation__Datacenters__0"] = "dc1",
            ["Meridian__Federation__Datacenters__1"] = "DC 2",
        });

        var code = await silo.WaitForExitAsync(ExitTimeout);

        // Before: the configuration binder's InvalidOperationException on the first bad value, exit 134, a stack trace.
        Assert.True(code == 2, $"exit {code}\n{silo.Output}");
        var lines = StderrLines(silo);
        Assert.Contains("meridian silo: Meridian:Endpoints:HttpPort: 'abc' is not a whole number", lines);
        Assert.Contains("meridian silo: Meridian:Dashboard:Enabled: 'maybe' is not true or false", lines);
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:Replication:PollWait: 'banana' is not a duration", StringComparison.Ordinal));
        Assert.Contains("meridian silo: Meridian:Storage:CreateSchema: 'sometimes' is not true or false", lines);
        Assert.Contains("meridian silo: Meridian:Ca:PrivateKeyBits: 'many' is not a whole number", lines);
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:DefaultIntentionPolicy:", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:Storage:ConnectionString is not an Npgsql connection string: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:Federation:Datacenters:0: ", StringComparison.Ordinal) && l.Contains("is the primary datacenter"));
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:Federation:Datacenters:1: ", StringComparison.Ordinal) && l.Contains("\"DC 2\""));
        Assert.Equal(9, lines.Count);
        Assert.DoesNotContain("typo-secret-91c2", silo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloProcess_ListSettingGivenAsOneValue_IsReadAsAList_EachItemChecked()
    {
        // A container sets a list as one variable (Meridian__Primary__Gateways=host:port[,host:port]) rather than as
        // indexed children (__0, __1). Before: the binder left the list null and start-up crashed (NullReferenceException).
        var ports = FreePorts.Take(2);
        await using var silo = StartSilo(ports[0], ports[1], httpPort: null, new()
        {
            ["Meridian__Datacenter"] = "dc2",
            ["Meridian__Primary__Gateways"] = "127.0.0.1:30000, not-an-endpoint",
            ["Meridian__Federation__Datacenters"] = "DC 3",
        });

        var code = await silo.WaitForExitAsync(ExitTimeout);

        Assert.True(code == 2, $"exit {code}\n{silo.Output}");
        var lines = StderrLines(silo);
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:Primary:Gateways:1: ", StringComparison.Ordinal) && l.Contains("not-an-endpoint"));
        Assert.DoesNotContain(lines, l => l.StartsWith("meridian silo: Meridian:Primary:Gateways:0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:Federation:Datacenters:0: ", StringComparison.Ordinal) && l.Contains("\"DC 3\""));
        Assert.DoesNotContain("Unhandled exception", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloProcess_AclsOnWithoutHashKey_Exit2NamingTheSettingAndHowToMakeAKey()
    {
        var ports = FreePorts.Take(2);
        await using var silo = StartSilo(ports[0], ports[1], httpPort: null, new()
        {
            ["Meridian__Acl__Enabled"] = "true",
            ["Meridian__Acl__DefaultPolicy"] = "maybe",
            ["Meridian__Acl__Tokens__InitialManagement"] = "not-a-uuid-secret-5d1e",
        });

        var code = await silo.WaitForExitAsync(ExitTimeout);

        Assert.True(code == 2, $"exit {code}\n{silo.Output}");
        var lines = StderrLines(silo);
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:Acl:SecretHashKeyFile must be set when Meridian:Acl:Enabled is true", StringComparison.Ordinal)
            && l.Contains("meridian keygen --out", StringComparison.Ordinal));
        Assert.Contains("meridian silo: Meridian:Acl:DefaultPolicy: Unsupported default ACL policy: maybe; use allow or deny", lines);
        Assert.Contains(lines, l => l.StartsWith("meridian silo: Meridian:Acl:Tokens:InitialManagement must be a UUID", StringComparison.Ordinal));
        Assert.True(lines.Count(l => l.StartsWith("meridian silo: Meridian:Acl:", StringComparison.Ordinal)) == 3, string.Join('\n', lines));
        Assert.DoesNotContain("not-a-uuid-secret-5d1e", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloProcess_NoStorageProvider_Exit2NamingTheOption()
    {
        var ports = FreePorts.Take(2);
        await using var silo = StartSilo(ports[0], ports[1], httpPort: 0, []);

        var code = await silo.WaitForExitAsync(ExitTimeout);

        // Before: the silo ran on memory storage and lost the CA and every intention at its first restart.
        Assert.True(code == 2, $"exit {code}\n{silo.Output}");
        var line = Assert.Single(StderrLines(silo));
        Assert.StartsWith("meridian silo: Meridian:Storage:Provider must be set: PostgreSql", line, StringComparison.Ordinal);
    }

    public static TheoryData<string, string?, string> KeyEncryptionKeyProblems => new()
    {
        { "none", null, "Meridian:Ca:KeyEncryptionKeyFile must be set with PostgreSql storage" },
        { "missing file", "/nonexistent/kek.b64", "Meridian:Ca:KeyEncryptionKeyFile: cannot read /nonexistent/kek.b64" },
        { "16 bytes", TestKeyEncryptionKey.Write(new byte[16]).Path, "must hold exactly 32 random bytes in base64" },
        { "world-readable", TestKeyEncryptionKey.Write(new byte[32], (UnixFileMode)0b110_100_100).Path, "is readable or writable by every user: chmod 600" },
    };

    [Theory]
    [MemberData(nameof(KeyEncryptionKeyProblems))]
    public async Task SiloProcess_PostgreSqlKeyEncryptionKeyMissingOrBad_Exit2NamingTheOption(string what, string? file, string expected)
    {
        var ports = FreePorts.Take(2);
        await using var silo = StartSilo(ports[0], ports[1], httpPort: 0, new()
        {
            ["Meridian__Storage__Provider"] = "PostgreSql",
            ["Meridian__Storage__ConnectionString"] = "Host=127.0.0.1;Database=meridian;Username=meridian;Password=unused",
            ["Meridian__Ca__KeyEncryptionKeyFile"] = file,
        });

        var code = await silo.WaitForExitAsync(ExitTimeout);

        Assert.True(code == 2, $"{what}: exit {code}\n{silo.Output}");
        var line = Assert.Single(StderrLines(silo));
        Assert.StartsWith("meridian silo: Meridian:Ca:KeyEncryptionKeyFile", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(new byte[16]), silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloProcess_PortsHeldByAnotherSilo_Exit2OneLinePerKeyAndWritesNothing()
    {
        var db = await fx.CreateEmptyDatabaseAsync();
        var ports = FreePorts.Take(3);
        // Listeners as Orleans opens its own (ReuseAddress, which is SO_REUSEADDR + SO_REUSEPORT on Linux): a silo
        // started while `meridian dev` held 11111/30000 bound them too, without an error, and wrote its schema and a
        // membership row.
        using var held = new DisposableList(ports.Select(HoldLikeOrleans));
        await using var silo = StartSilo(ports[0], ports[1], ports[2], new()
        {
            ["Meridian__Storage__Provider"] = "PostgreSql",
            ["Meridian__Storage__ConnectionString"] = db,
        });

        var code = await silo.WaitForExitAsync(ExitTimeout);

        Assert.True(code == 2, $"exit {code}\n{silo.Output}");
        var lines = StderrLines(silo);
        Assert.Equal(3, lines.Count);
        foreach (var (key, port) in new[] { ("SiloPort", ports[0]), ("GatewayPort", ports[1]), ("HttpPort", ports[2]) })
        {
            Assert.Contains(lines, l => l.StartsWith($"meridian silo: Meridian:Endpoints:{key}: 127.0.0.1:{port} is already in use", StringComparison.Ordinal));
        }
        Assert.False(await PostgreSqlSchema.IsInstalledAsync(db)); // checked before the schema installer ran
    }

    [Fact]
    public async Task SiloProcess_PostgreSqlUnreachable_Exit2NamingHostAndPortNotPassword()
    {
        var ports = FreePorts.Take(4);
        const string password = "do-not-print-me-7f3a";
        await using var silo = StartSilo(ports[0], ports[1], ports[2], new()
        {
            ["Meridian__Storage__Provider"] = "PostgreSql",
            // Nothing listens on ports[3]: connection refused.
            ["Meridian__Storage__ConnectionString"] = $"Host=127.0.0.1;Port={ports[3]};Database=meridian;Username=meridian;Password={password};Timeout=5",
        });

        var code = await silo.WaitForExitAsync(ExitTimeout);

        Assert.True(code == 2, $"exit {code}\n{silo.Output}");
        // One line in all: before, the host's "Hosting failed to start" error added a stack trace on stdout.
        var line = Assert.Single(silo.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"[stderr] meridian silo: Meridian:Storage:ConnectionString: cannot connect to PostgreSQL at 127.0.0.1:{ports[3]}: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain(password, silo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", silo.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SiloProcess_DefaultLogging_OnlyMeridianAtInformation()
    {
        var ports = FreePorts.Take(3);
        await using var silo = await SiloProcess.StartAsync("", ports[0], ports[1], ports[2], "dc1", "dc1", primaryGateway: null,
            new Dictionary<string, string> { ["Meridian__Storage__Provider"] = "Memory" });

        // Before: ~550 lines at every start, Orleans' option dumps and Polly's per-placement lines among them.
        Assert.Contains("warn: Meridian.Silo.SiloStartupWarnings[5011]", silo.Output, StringComparison.Ordinal);
        var chatty = InformationCategories(silo.Output).Where(c => !c.StartsWith("Meridian.", StringComparison.Ordinal)).Distinct().ToList();
        Assert.True(chatty.Count == 0, $"Information from {string.Join(", ", chatty)}\n{silo.Output}");
        Assert.Contains(InformationCategories(silo.Output), c => c.StartsWith("Meridian.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SiloProcess_DefaultLevelInformation_OrleansVerboseAgain()
    {
        var ports = FreePorts.Take(3);
        await using var silo = await SiloProcess.StartAsync("", ports[0], ports[1], ports[2], "dc1", "dc1", primaryGateway: null,
            new Dictionary<string, string> { ["Meridian__Storage__Provider"] = "Memory", ["Logging__LogLevel__Default"] = "Information" });

        Assert.Contains(InformationCategories(silo.Output), c => c.StartsWith("Orleans.", StringComparison.Ordinal));
    }

    // Console formatter lines: "info: Orleans.Runtime.Silo[100401]".
    private static IEnumerable<string> InformationCategories(string output) =>
        output.Split('\n').Where(l => l.StartsWith("info: ", StringComparison.Ordinal)).Select(l => l["info: ".Length..].Split('[')[0]);

    private static ChildProcess StartSilo(int siloPort, int gatewayPort, int? httpPort, Dictionary<string, string?> extra)
    {
        var environment = new Dictionary<string, string?>
        {
            ["Meridian__Datacenter"] = "dc1",
            ["Meridian__PrimaryDatacenter"] = "dc1",
            ["Meridian__Endpoints__Address"] = "127.0.0.1",
            ["Meridian__Endpoints__SiloPort"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["Meridian__Endpoints__GatewayPort"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["Meridian__Ca__KeyEncryptionKeyFile"] = TestKeyEncryptionKey.SharedFile,
        };
        if (httpPort is { } http) environment["Meridian__Endpoints__HttpPort"] = http.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in extra) environment[key] = value;
        return ChildProcess.StartDotnet(Binaries.Silo, [], environment);
    }

    private static List<string> StderrLines(ChildProcess process) =>
        [.. process.Output.Split('\n').Where(l => l.StartsWith("[stderr] ", StringComparison.Ordinal)).Select(l => l["[stderr] ".Length..])];

    private static Socket HoldLikeOrleans(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        socket.Listen();
        return socket;
    }

    private sealed class DisposableList(IEnumerable<IDisposable> items) : IDisposable
    {
        private readonly List<IDisposable> _items = [.. items];

        public void Dispose() => _items.ForEach(i => i.Dispose());
    }
}
