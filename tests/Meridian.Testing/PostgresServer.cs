using Meridian.Silo;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;

namespace Meridian.Testing;

/// <summary>
/// A PostgreSQL server for tests: the one named by <c>MERIDIAN_TEST_PG</c> when set, otherwise a
/// throwaway server started with initdb + pg_ctl in a temp directory (loopback only, trust auth,
/// fsync off) and stopped after its last user. One server per test run via <see cref="AcquireSharedAsync"/>;
/// isolation comes from a fresh database per test class or cluster (<see cref="CreateDatabaseAsync"/>).
/// </summary>
/// <remarks>
/// Never skips: if neither source works, starting throws with instructions (a green run must never
/// mean "nothing ran").
/// </remarks>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>Connection string of an existing server on which the user may CREATE DATABASE.</summary>
    public const string ConnectionStringVariable = "MERIDIAN_TEST_PG";

    /// <summary>Directory holding initdb/pg_ctl; otherwise PATH, then /usr/lib/postgresql/*/bin.</summary>
    public const string BinDirectoryVariable = "MERIDIAN_PG_BIN";

    /// <summary>OS user that runs a throwaway server when the tests run as root. Default: postgres.</summary>
    public const string OsUserVariable = "MERIDIAN_PG_OSUSER";

    private static readonly SemaphoreSlim SharedLock = new(1, 1);
    private static PostgresServer? s_shared;
    private static int s_sharedUsers;
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(90);

    private readonly ThrowawayInstance? _instance;
    private int _databaseCounter;
    private int _stopped;

    private PostgresServer(string adminConnectionString, ThrowawayInstance? instance)
    {
        AdminConnectionString = adminConnectionString;
        _instance = instance;
    }

    /// <summary>Connection string with rights to create databases (database: the maintenance one).</summary>
    public string AdminConnectionString { get; }

    /// <summary>True when this process started the server (and will stop it).</summary>
    public bool IsThrowaway => _instance is not null;

    /// <summary>Where the server came from, for diagnostics.</summary>
    public string Description => _instance is { } i
        ? $"throwaway PostgreSQL in {i.RootDirectory} on 127.0.0.1:{i.Port}"
        : $"{ConnectionStringVariable} (host {new NpgsqlConnectionStringBuilder(AdminConnectionString).Host})";

    /// <summary>
    /// The server shared by every fixture in this process: started by the first <see cref="AcquireSharedAsync"/>,
    /// stopped when the last user calls <see cref="ReleaseSharedAsync"/> (with a process-exit backstop).
    /// </summary>
    /// <remarks>
    /// NOTE: stopping inside the xunit lifecycle matters. The test host is torn down shortly after
    /// ProcessExit starts, which proved too late to delete the data directory reliably.
    /// </remarks>
    public static async Task<PostgresServer> AcquireSharedAsync(CancellationToken cancellationToken = default)
    {
        await SharedLock.WaitAsync(cancellationToken);
        try
        {
            if (s_shared is null)
            {
                var server = await StartAsync(cancellationToken);
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
                s_shared = server;
            }
            s_sharedUsers++;
            return s_shared;
        }
        finally
        {
            SharedLock.Release();
        }
    }

    /// <summary>Releases a server from <see cref="AcquireSharedAsync"/>; the last release stops it.</summary>
    public static async Task ReleaseSharedAsync(PostgresServer server)
    {
        await SharedLock.WaitAsync();
        try
        {
            if (!ReferenceEquals(server, s_shared) || --s_sharedUsers > 0)
            {
                return;
            }
            s_shared = null;
        }
        finally
        {
            SharedLock.Release();
        }
        await server.DisposeAsync();
    }

    /// <summary>Starts (or connects to) a server. Prefer <see cref="AcquireSharedAsync"/>: one server per run.</summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var external = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            var server = new PostgresServer(external, instance: null);
            try
            {
                await server.PingAsync(cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or ArgumentException or InvalidOperationException)
            {
                throw new InvalidOperationException(
                    $"{ConnectionStringVariable} is set but the server cannot be used: {e.Message}. Fix the connection string " +
                    $"(its user needs CREATEDB), or unset {ConnectionStringVariable} to let the tests start a throwaway PostgreSQL.", e);
            }
            return server;
        }

        var instance = await ThrowawayInstance.StartAsync(cancellationToken);
        var throwaway = new PostgresServer(instance.ConnectionString, instance);
        try
        {
            await throwaway.PingAsync(cancellationToken);
        }
        catch
        {
            await throwaway.DisposeAsync();
            throw;
        }
        return throwaway;
    }

    /// <summary>
    /// Creates a new, uniquely named database and returns its connection string; with
    /// <paramref name="applySchema"/> the Orleans schema (<see cref="PostgreSqlSchema"/>) is applied.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(bool applySchema = true, CancellationToken cancellationToken = default)
    {
        var name = $"meridian_test_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid():N}"[..40];
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        var connectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        if (applySchema)
        {
            await PostgreSqlSchema.ApplyAsync(connectionString, cancellationToken);
        }
        return connectionString;
    }

    /// <summary>Drops a database created by <see cref="CreateDatabaseAsync"/> (closing its connections).</summary>
    public async Task DropDatabaseAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        if (name is null || !name.StartsWith("meridian_test_", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Not a test database: '{name}'.", nameof(connectionString));
        }
        await using (var pooled = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Stops a throwaway server and deletes its directory; an external server is left alone.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            NpgsqlConnection.ClearAllPools();
            _instance?.Stop();
        }
        return ValueTask.CompletedTask;
    }

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>initdb + pg_ctl in a private temp directory.</summary>
    private sealed class ThrowawayInstance
    {
        private readonly string _pgCtl;
        private readonly string? _osUser;

        private ThrowawayInstance(string rootDirectory, int port, string pgCtl, string? osUser)
        {
            RootDirectory = rootDirectory;
            Port = port;
            _pgCtl = pgCtl;
            _osUser = osUser;
        }

        public string RootDirectory { get; }
        public int Port { get; }
        private string DataDirectory => Path.Combine(RootDirectory, "data");
        private string LogFile => Path.Combine(RootDirectory, "server.log");

        public string ConnectionString => new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = "postgres",
            Timeout = 15,
            CommandTimeout = 30,
        }.ConnectionString;

        public static async Task<ThrowawayInstance> StartAsync(CancellationToken cancellationToken)
        {
            var binDirectory = FindBinDirectory();
            var initdb = Path.Combine(binDirectory, "initdb");
            var pgCtl = Path.Combine(binDirectory, "pg_ctl");

            // PostgreSQL refuses to run as root: use an unprivileged OS user (and a directory it owns).
            string? osUser = null;
            if (Environment.IsPrivilegedProcess)
            {
                osUser = Environment.GetEnvironmentVariable(OsUserVariable) is { Length: > 0 } u ? u : "postgres";
                if (!OsUserExists(osUser))
                {
                    throw Unavailable(
                        $"the tests run as root and PostgreSQL refuses to, but OS user '{osUser}' does not exist " +
                        $"(create it: useradd --system --home-dir /var/lib/postgresql {osUser}, or set {OsUserVariable})");
                }
            }

            // /tmp rather than $TMPDIR when root: the unprivileged user must be able to reach the directory.
            var root = Path.Combine(osUser is null ? Path.GetTempPath() : "/tmp", $"meridian-pg-{Guid.NewGuid():N}"[..24]);
            Directory.CreateDirectory(root);
            try
            {
                if (osUser is not null)
                {
                    await RunAsync("chown", [$"{osUser}:", root], asUser: null, cancellationToken);
                }

                await RunAsync(initdb,
                    ["-D", Path.Combine(root, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                    osUser, cancellationToken);

                // A free port can be taken between probing and binding; retry with another one.
                for (var attempt = 1; ; attempt++)
                {
                    var instance = new ThrowawayInstance(root, FreeLoopbackPort(), pgCtl, osUser);
                    try
                    {
                        await instance.StartServerAsync(cancellationToken);
                        return instance;
                    }
                    catch (InvalidOperationException) when (attempt < 3)
                    {
                    }
                }
            }
            catch
            {
                TryDeleteDirectory(root);
                throw;
            }
        }

        private async Task StartServerAsync(CancellationToken cancellationToken)
        {
            // Durability is irrelevant for a throwaway cluster; fsync off roughly halves schema set-up time.
            var options = $"-p {Port} -c listen_addresses=127.0.0.1 -k {RootDirectory} -c fsync=off " +
                          "-c synchronous_commit=off -c full_page_writes=off -c max_connections=600";
            try
            {
                await RunAsync(_pgCtl, ["-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options, "start"], _osUser, cancellationToken);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"{e.Message}{Environment.NewLine}server.log:{Environment.NewLine}{Tail(LogFile)}", e);
            }
        }

        /// <summary>
        /// Immediate shutdown by signal, then delete the directory. Synchronous and free of child-process
        /// waits on purpose: it runs from ProcessExit, where the test host may be torn down at any moment
        /// and awaiting a pg_ctl child proved unreliable (the server stopped, the directory stayed).
        /// </summary>
        public void Stop()
        {
            try
            {
                if (ReadPostmasterPid() is { } pid && kill(pid, SigQuit) == 0)
                {
                    // SIGQUIT = pg_ctl -m immediate: no checkpoint, nothing in a throwaway cluster needs one.
                    // Done when the postmaster removed its pid file or is gone. NOTE: a zombie still answers
                    // kill(pid, 0) (containers whose pid 1 does not reap), so the process check alone can hang.
                    var deadline = Environment.TickCount64 + 5_000;
                    using var tick = new ManualResetEventSlim();
                    while (IsRunning(pid) && Environment.TickCount64 < deadline)
                    {
                        tick.Wait(10);
                    }
                }
            }
            finally
            {
                TryDeleteDirectory(RootDirectory);
            }
        }

        private bool IsRunning(int pid)
        {
            if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid")) || kill(pid, 0) != 0)
            {
                return false;
            }
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                return !stat[(stat.LastIndexOf(')') + 1)..].TrimStart().StartsWith('Z');
            }
            catch (IOException)
            {
                return false;
            }
        }

        private int? ReadPostmasterPid()
        {
            var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
            try
            {
                return File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid) ? pid : null;
            }
            catch (IOException)
            {
                return null;
            }
        }

        private const int SigQuit = 3;

        [DllImport("libc", SetLastError = true)]
        private static extern int kill(int pid, int sig);

        private static string FindBinDirectory()
        {
            if (Environment.GetEnvironmentVariable(BinDirectoryVariable) is { Length: > 0 } configured)
            {
                return File.Exists(Path.Combine(configured, "initdb"))
                    ? configured
                    : throw Unavailable($"{BinDirectoryVariable}={configured} holds no initdb");
            }

            var fromPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
            if (fromPath is not null)
            {
                return fromPath;
            }

            // Debian/Ubuntu keep the server binaries off PATH.
            const string debian = "/usr/lib/postgresql";
            var versioned = Directory.Exists(debian)
                ? Directory.GetDirectories(debian)
                    .Select(d => Path.Combine(d, "bin"))
                    .Where(d => File.Exists(Path.Combine(d, "initdb")))
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                    .FirstOrDefault()
                : null;
            return versioned ?? throw Unavailable("initdb/pg_ctl were not found on PATH nor under /usr/lib/postgresql/*/bin");
        }

        private static bool OsUserExists(string user) =>
            File.Exists("/etc/passwd") && File.ReadLines("/etc/passwd").Any(l => l.StartsWith(user + ":", StringComparison.Ordinal));

        private static int FreeLoopbackPort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static async Task RunAsync(string fileName, IReadOnlyList<string> arguments, string? asUser, CancellationToken cancellationToken)
        {
            var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            if (asUser is null)
            {
                start.FileName = fileName;
                foreach (var a in arguments) start.ArgumentList.Add(a);
            }
            else if (FindExecutable("runuser") is { } runuser)
            {
                start.FileName = runuser;
                foreach (var a in (string[])["-u", asUser, "--", fileName, .. arguments]) start.ArgumentList.Add(a);
            }
            else
            {
                start.FileName = "su";
                var command = string.Join(' ', new[] { fileName }.Concat(arguments).Select(ShellQuote));
                foreach (var a in (string[])[asUser, "-s", "/bin/sh", "-c", command]) start.ArgumentList.Add(a);
            }

            using var process = new Process { StartInfo = start };
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
            try
            {
                process.Start();
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw Unavailable($"cannot run {start.FileName}: {e.Message}");
            }
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ToolTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{Path.GetFileName(fileName)} did not finish within {ToolTimeout.TotalSeconds:0} s.");
            }

            if (process.ExitCode != 0)
            {
                string text;
                lock (output) text = output.ToString();
                throw new InvalidOperationException(
                    $"{Path.GetFileName(fileName)} {string.Join(' ', arguments)} exited with {process.ExitCode}" +
                    (asUser is null ? "" : $" (as OS user {asUser})") + $":{Environment.NewLine}{text}");
            }
        }

        private static string? FindExecutable(string name) =>
            new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

        private static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

        private static string Tail(string file) =>
            File.Exists(file) ? string.Join(Environment.NewLine, File.ReadLines(file).TakeLast(20)) : "(no log)";

        private static void TryDeleteDirectory(string path)
        {
            try
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        private static InvalidOperationException Unavailable(string reason) => new(
            $"No PostgreSQL for the Postgres tests: {reason}. Fix one of: (1) set {ConnectionStringVariable} to a server where the user " +
            "may CREATE DATABASE, e.g. MERIDIAN_TEST_PG=\"Host=127.0.0.1;Port=5432;Username=postgres;Password=...\"; (2) install the " +
            $"PostgreSQL server binaries (Debian: apt-get install postgresql) so initdb and pg_ctl are on PATH or set {BinDirectoryVariable}; " +
            $"(3) when running as root, make sure an unprivileged OS user exists ({OsUserVariable}, default 'postgres').");
    }
}
