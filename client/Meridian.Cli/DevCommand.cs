using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using Meridian.Core.Identity;

namespace Meridian.Cli;

/// <summary>One datacenter's silo in <c>meridian dev</c>: datacenter k listens on base port + k.</summary>
internal sealed record DevSiloPlan(string Datacenter, string PrimaryDatacenter, int GatewayPort, int HttpPort, int SiloPort, string? PostgresConnectionString)
{
    /// <summary>The primary's gateway, which a secondary's silo connects to (null in the primary).</summary>
    public string? PrimaryGateway { get; init; }

    /// <summary>
    /// In the primary: the other datacenters of the run, its federation members, comma-separated (a string keeps the
    /// record's value equality); empty in a secondary.
    /// </summary>
    public string Secondaries { get; init; } = "";

    /// <summary>With <c>--tls</c>: this silo's <c>Meridian:Tls</c> files (<see cref="DevTls"/>); null runs it plaintext.</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>With <c>--tls</c>: this silo's server certificate, <c>server.&lt;dc&gt;.meridian</c>.</summary>
    public string? TlsCertFile { get; init; }

    /// <summary>With <c>--tls</c>: the key of <see cref="TlsCertFile"/>.</summary>
    public string? TlsKeyFile { get; init; }

    /// <summary>With <c>--acl</c>: the SecretID hashing key every datacenter of the run shares (tokens replicate); null: ACLs off.</summary>
    public string? AclKeyFile { get; init; }

    /// <summary>With <c>--acl</c>: where an operator writes the reset index to allow one more <c>acl bootstrap</c>.</summary>
    public string? AclBootstrapResetFile { get; init; }

    /// <summary>
    /// With <c>--acl</c>, in a secondary: the SecretID of its replication token (a secret; never printed). Not in
    /// <see cref="Configuration"/>: the silo starts without it and gets it once <see cref="AclFiles"/> says it exists
    /// in the primary (before that, every round would be refused and logged; the replicators wait quietly instead).
    /// </summary>
    public string? AclReplicationToken { get; init; }

    /// <summary>With <c>--acl</c>: the run's ACL files, which say when the replication token exists in the primary.</summary>
    public DevAcl? AclFiles { get; init; }

    public const string Address = "127.0.0.1";

    public string Gateway => $"{Address}:{GatewayPort}";

    /// <summary>The ports this silo binds, each with the option it comes from (HTTP left out when off).</summary>
    public IEnumerable<(string Option, int Port, string What)> Ports()
    {
        yield return ("--gateway-port", GatewayPort, "gateway");
        yield return ("--silo-port", SiloPort, "silo port");
        if (HttpPort != 0) yield return ("--http-port", HttpPort, "HTTP port");
    }

    /// <summary>The gateway, silo and HTTP endpoints, for messages.</summary>
    public string Endpoints() => $"gateway {Gateway}, silo port {SiloPort}, {(HttpPort == 0 ? "HTTP off" : $"HTTP port {HttpPort}")}";

    /// <summary>The silo's whole configuration (nothing is read from files or the environment).</summary>
    public IReadOnlyDictionary<string, string?> Configuration()
    {
        var config = BaseConfiguration();
        // Only listed secondaries get their intermediate signed (issue 12): dev lists every datacenter it starts.
        var secondaries = Secondaries.Split(',', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < secondaries.Length; i++) config[$"Meridian:Federation:Datacenters:{i}"] = secondaries[i];
        if (AclKeyFile is not null)
        {
            // Consul's secure setup: ACLs on, default deny, in every datacenter.
            config["Meridian:Acl:Enabled"] = "true";
            config["Meridian:Acl:DefaultPolicy"] = "deny";
            config["Meridian:Acl:SecretHashKeyFile"] = AclKeyFile;
            config["Meridian:Acl:BootstrapResetFile"] = AclBootstrapResetFile;
        }
        if (TlsCaFile is not null)
        {
            // Every check on, as a production datacenter should run (README, Mutual TLS).
            config["Meridian:Tls:CaFile"] = TlsCaFile;
            config["Meridian:Tls:CertFile"] = TlsCertFile;
            config["Meridian:Tls:KeyFile"] = TlsKeyFile;
            config["Meridian:Tls:VerifyIncoming"] = config["Meridian:Tls:VerifyOutgoing"] = config["Meridian:Tls:VerifyServerHostname"] = "true";
        }
        return config;
    }

    private Dictionary<string, string?> BaseConfiguration() => new()
    {
        ["Meridian:Datacenter"] = Datacenter,
        ["Meridian:PrimaryDatacenter"] = PrimaryDatacenter,
        ["Meridian:Storage:Provider"] = PostgresConnectionString is null ? "Memory" : "PostgreSql",
        ["Meridian:Storage:ConnectionString"] = PostgresConnectionString,
        // A development database keeps its CA keys unsealed (the silo warns at start); production sets
        // Meridian:Ca:KeyEncryptionKeyFile instead (README, Configuration).
        ["Meridian:Ca:AllowUnsealedKeys"] = PostgresConnectionString is null ? null : "true",
        ["Meridian:Endpoints:Address"] = Address,
        ["Meridian:Endpoints:GatewayPort"] = GatewayPort.ToString(CultureInfo.InvariantCulture),
        ["Meridian:Endpoints:HttpPort"] = HttpPort.ToString(CultureInfo.InvariantCulture),
        ["Meridian:Endpoints:SiloPort"] = SiloPort.ToString(CultureInfo.InvariantCulture),
        ["Meridian:Primary:Gateways:0"] = PrimaryGateway,
        // A developer's own datacenters on loopback (or, with --tls, for certificate holders only): the dashboard's
        // Log Stream and Grain Details are on, which a silo leaves off unless configured.
        ["Meridian:Dashboard:LogStream"] = "true",
        ["Meridian:Dashboard:GrainDetails"] = "true",
    };
}

/// <summary>The silos of a <c>meridian dev</c> run, in the order the datacenters were given.</summary>
internal sealed record DevPlan(IReadOnlyList<DevSiloPlan> Silos, bool InMemory)
{
    /// <summary>Checks every option (all problems at once, each naming its option) and lays out the ports.</summary>
    public static DevPlan Create(string datacenters, string? primary, int gatewayPort, int httpPort, int siloPort, string? postgres)
    {
        var problems = new List<CliProblem>();
        var names = datacenters.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length == 0) problems.Add(new("--datacenters", "must list at least one datacenter, e.g. dc1,dc2"));
        foreach (var name in names)
        {
            if (DatacenterName.Check("--datacenters", name) is { } problem) problems.Add(new(problem.Field, problem.Message));
        }
        foreach (var twice in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
            problems.Add(new("--datacenters", $"\"{twice.Key}\" is listed more than once"));
        var primaryName = string.IsNullOrWhiteSpace(primary) ? names.FirstOrDefault() ?? "" : primary.Trim();
        if (names.Length > 0 && !names.Contains(primaryName, StringComparer.Ordinal))
            problems.Add(new("--primary", $"\"{primaryName}\" is not one of --datacenters ({string.Join(", ", names)})"));
        CheckPorts(problems, "--gateway-port", gatewayPort, names.Length, allowZero: false);
        CheckPorts(problems, "--http-port", httpPort, names.Length, allowZero: true);
        CheckPorts(problems, "--silo-port", siloPort, names.Length, allowZero: false);
        if (postgres is not null && string.IsNullOrWhiteSpace(postgres)) problems.Add(new("--postgres", "must be an Npgsql connection string"));

        var silos = names.Select((name, k) => new DevSiloPlan(
            name, primaryName, gatewayPort + k, httpPort == 0 ? 0 : httpPort + k, siloPort + k, postgres)).ToList();
        var primaryGateway = silos.FirstOrDefault(s => s.Datacenter == primaryName)?.Gateway;
        silos = [.. silos.Select(s => s.Datacenter == primaryName
            ? s with { Secondaries = string.Join(',', names.Where(n => n != primaryName)) }
            : s with { PrimaryGateway = primaryGateway })];
        var used = silos.SelectMany(s => new[] { s.GatewayPort, s.SiloPort, s.HttpPort }).Where(p => p != 0);
        foreach (var clash in used.GroupBy(p => p).Where(g => g.Count() > 1))
            problems.Add(new("--gateway-port", $"port {clash.Key} would be used twice; keep the gateway, HTTP and silo port ranges apart"));
        CliUsageException.ThrowIfAny(problems);
        return new DevPlan(silos, postgres is null);
    }

    private static void CheckPorts(List<CliProblem> problems, string option, int first, int count, bool allowZero)
    {
        if (allowZero && first == 0) return;
        if (first < 1 || first + Math.Max(count, 1) - 1 > 65535)
            problems.Add(new(option, $"{first} leaves no room for {count} datacenter(s): ports must be between 1 and 65535{(allowZero ? " (0 turns HTTP off)" : "")}"));
    }

    /// <summary>The same plan with every silo on mutual TLS with the files of <paramref name="tls"/>.</summary>
    public DevPlan WithTls(DevTls tls) => this with
    {
        Silos = [.. Silos.Select(s => s with { TlsCaFile = tls.CaFile, TlsCertFile = tls.ServerFiles(s.Datacenter).Cert, TlsKeyFile = tls.ServerFiles(s.Datacenter).Key })],
    };

    /// <summary>The same plan with ACLs on in every datacenter (<c>--acl</c>): one hash key, the secondaries' replication token.</summary>
    public DevPlan WithAcl(DevAcl acl) => this with
    {
        Silos =
        [
            .. Silos.Select(s => s with
            {
                AclKeyFile = acl.KeyFile,
                AclBootstrapResetFile = acl.BootstrapResetFile,
                AclReplicationToken = s.Datacenter == s.PrimaryDatacenter ? null : acl.ReplicationSecret,
                AclFiles = acl,
            }),
        ],
    };

    /// <summary>True when the silos run with ACLs on (<c>--acl</c>).</summary>
    public bool Acl => Silos.Count > 0 && Silos[0].AclKeyFile is not null;

    /// <summary>True when the silos run with mutual TLS (<c>--tls</c>).</summary>
    public bool Tls => Silos.Count > 0 && Silos[0].TlsCaFile is not null;

    /// <summary>The one line scripts wait for.</summary>
    public string ReadyLine() => "meridian dev: ready " + string.Join(' ', Silos.Select(s => $"{s.Datacenter}={s.Gateway}"));
}

/// <summary>
/// <c>meridian dev</c>: every datacenter's silo in this process, zero setup. Prints a banner, then exactly one
/// <see cref="DevPlan.ReadyLine"/> when all serve, and stops every silo on Ctrl-C/SIGTERM (exit 0).
/// </summary>
internal static class DevCommand
{
    /// <summary>How long Ctrl-C/SIGTERM waits for the command to finish (all silos stopped) before the process exits.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long one silo gets to stop gracefully; a few in a row still fit in <see cref="StopTimeout"/>.</summary>
    public static readonly TimeSpan SiloStopTimeout = TimeSpan.FromSeconds(8);

    // First activation of the datacenter grain initialises the CA (root key generation): allow for a slow machine.
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    public static Command Create(CommandRunner runner)
    {
        var datacenters = new Option<string>("--datacenters") { Description = "Datacenters to run, comma-separated", HelpName = "dc1[,dc2…]", DefaultValueFactory = _ => "dc1" };
        var primary = new Option<string?>("--primary") { Description = "The primary datacenter. Default: the first of --datacenters", HelpName = "NAME" };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Gateway port of the first datacenter; datacenter k uses this + k", DefaultValueFactory = _ => 30000 };
        var httpPort = new Option<int>("--http-port") { Description = "HTTP (dashboard, /health) port of the first datacenter, + k; 0 turns HTTP off", DefaultValueFactory = _ => 8500 };
        var siloPort = new Option<int>("--silo-port") { Description = "Silo-to-silo port of the first datacenter, + k", DefaultValueFactory = _ => 11111 };
        var postgres = new Option<string?>("--postgres") { Description = "Store state in PostgreSQL (Npgsql connection string) instead of memory", HelpName = "CONNSTR" };
        var tls = new Option<bool>("--tls")
        {
            Description = "Mutual TLS on every datacenter (gateway, silo, primary link, HTTPS) with a throwaway CA; prints the --ca-file/--client-cert/--client-key to use",
        };
        var acl = new Option<bool>("--acl")
        {
            Description = "ACLs on with default deny in every datacenter, bootstrapped: prints the management token once (and sets each secondary's replication token)",
        };
        var command = new Command("dev", "Run every datacenter's silo in this process, in memory unless --postgres (Ctrl-C stops)")
        {
            datacenters, primary, gatewayPort, httpPort, siloPort, postgres, tls, acl,
        };
        runner.OnRun(command, async (run, settings) =>
        {
            var plan = DevPlan.Create(run.Required(datacenters), run.Get(primary), run.Get(gatewayPort), run.Get(httpPort), run.Get(siloPort), run.Get(postgres));
            // Before anything starts: every port another process already holds (exit 2, one line per port).
            CliUsageException.ThrowIfAny(PortsInUse(plan.Silos, run.Context.Silos));
            // The hash key of a dev run is thrown away at exit: tokens kept in a database would never resolve again.
            if (run.Get(acl) && !plan.InMemory)
                throw new CliUsageException([new CliProblem("--acl", "not with --postgres: the SecretID hashing key of a dev run is deleted at exit, so tokens stored in the database would be unusable after a restart")]);
            using var aclFiles = run.Get(acl) ? DevAcl.Create() : null;
            if (aclFiles is not null) plan = plan.WithAcl(aclFiles);
            if (!run.Get(tls))
            {
                await RunAsync(run, settings, plan);
                return ExitCodes.Ok;
            }
            using var files = DevTls.Create([.. plan.Silos.Select(s => s.Datacenter)], run.Context.Clock.GetUtcNow());
            await RunAsync(run, settings with { Tls = files.ClientFiles }, plan.WithTls(files));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task RunAsync(CommandRun run, ConnectionSettings settings, DevPlan plan)
    {
        var ct = run.CancellationToken;
        WriteBanner(run.Output, plan, settings.Tls);
        var started = new List<IAsyncDisposable>();
        try
        {
            for (var k = 0; k < plan.Silos.Count; k++) started.Add(await StartAsync(run, plan.Silos, k));
            foreach (var silo in plan.Silos) await WaitUntilServingAsync(run, settings, silo);
            if (plan.Acl) await BootstrapAsync(run, settings, plan);
            run.Output.Line(plan.ReadyLine());
            await run.Context.Out.FlushAsync(CancellationToken.None);
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl-C or SIGTERM: the normal way out.
        }
        finally
        {
            if (started.Count > 0) await run.Context.Error.WriteLineAsync("meridian dev: stopping");
            foreach (var i in StopOrder(plan, started.Count)) await started[i].DisposeAsync();
        }
    }

    // Bootstrapped through the primary, the management token printed once (before the ready line scripts wait for), and
    // the replication token the secondaries were started with created with Consul's replication policy.
    private static async Task BootstrapAsync(CommandRun run, ConnectionSettings settings, DevPlan plan)
    {
        var primary = plan.Silos.First(s => s.Datacenter == s.PrimaryDatacenter);
        var target = settings with { Gateways = [primary.Gateway], Datacenter = primary.Datacenter, Token = null, ConnectTimeout = ReadyTimeout };
        await using var connection = await run.Context.Clients.ConnectAsync(target, run.CancellationToken);
        var management = await connection.Client.AclBootstrapAsync(cancellationToken: run.CancellationToken);
        if (plan.Silos.FirstOrDefault(s => s.AclReplicationToken is not null) is { AclReplicationToken: { } replication })
        {
            await connection.Client.WithToken(management.SecretID).CreateAclReplicationTokenAsync(
                new Grains.AclTokenDto { SecretID = replication, Description = "Replication Token (meridian dev)" }, run.CancellationToken);
            // The secondaries started without it (their loops wait quietly rather than log a refusal per round): now it resolves.
            plan.Silos.First(s => s.AclFiles is not null).AclFiles!.MarkReplicationTokenCreated();
        }
        run.Output.Line("meridian dev: ACLs on with default deny in every datacenter; calls need a token (--token, --token-file or MERIDIAN_TOKEN)");
        run.Output.Line($"management token: {management.SecretID}");
    }

    // A failed start is about this datacenter's endpoints, never about the CLI's --gateway (which `dev` does not use).
    private static async Task<IAsyncDisposable> StartAsync(CommandRun run, IReadOnlyList<DevSiloPlan> silos, int k)
    {
        try
        {
            return await run.Context.Silos.StartAsync(silos[k], run.CancellationToken);
        }
        catch (Exception ex) when (!run.CancellationToken.IsCancellationRequested && ExitCodes.Chain(ex).Any(IsAddressInUse))
        {
            // Taken after the check (or by something the check cannot see). Orleans' AddressInUseException does not
            // say which listener failed: ask again which ports are held, from this datacenter on.
            CliUsageException.ThrowIfAny(PortsInUse(silos.Skip(k), run.Context.Silos));
            throw new DevSiloStartException(silos[k], ex);
        }
        catch (Exception ex) when (!run.CancellationToken.IsCancellationRequested)
        {
            throw new DevSiloStartException(silos[k], ex);
        }
    }

    private static bool IsAddressInUse(Exception ex) => ex is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse };

    /// <summary>One problem per planned port that something else listens on, naming the option to change.</summary>
    internal static List<CliProblem> PortsInUse(IEnumerable<DevSiloPlan> silos, IDevSiloLauncher launcher)
    {
        var problems = new List<CliProblem>();
        foreach (var silo in silos)
        {
            var inUse = launcher.PortsInUse(silo);
            foreach (var (option, port, what) in silo.Ports().Where(p => inUse.Contains(p.Port)))
            {
                var fix = option == "--http-port" ? $"pick another {option}, or 0 to turn HTTP off" : $"pick another {option}";
                problems.Add(new(option, $"port {port} is in use ({what} of {silo.Datacenter}, {DevSiloPlan.Address}:{port}); {fix}"));
            }
        }
        return problems;
    }

    /// <summary>
    /// Indexes of the first <paramref name="count"/> started silos in the order they stop: the secondaries in reverse
    /// start order, then the primary. A secondary left running after its primary stopped would fail its replication
    /// rounds (warnings in the log) and hold long-polls that keep the primary's grains from deactivating.
    /// </summary>
    internal static IEnumerable<int> StopOrder(DevPlan plan, int count)
    {
        var secondaries = Enumerable.Range(0, count).Reverse().Where(i => plan.Silos[i].Datacenter != plan.Silos[i].PrimaryDatacenter);
        var primary = Enumerable.Range(0, count).Where(i => plan.Silos[i].Datacenter == plan.Silos[i].PrimaryDatacenter);
        return [.. secondaries, .. primary];
    }

    private static void WriteBanner(Output o, DevPlan plan, TlsFiles? tls)
    {
        o.Line($"meridian dev: starting {plan.Silos.Count} datacenter(s) in this process (Ctrl-C stops them)");
        o.Line(plan.InMemory
            ? "meridian dev: data lives in memory and is lost on exit (use --postgres CONNSTR to keep it)"
            : "meridian dev: data is stored in PostgreSQL and survives restarts; CA keys are stored unsealed (no key-encryption key in dev)");
        if (plan.InMemory)
        {
            o.Line("meridian dev: a restart makes a new trust domain and new roots: certificates issued before stop verifying, " +
                "and every intention (every deny too) is gone");
        }
        if (!plan.Tls || tls is null)
        {
            o.Line($"meridian dev: plaintext (no TLS), listening on loopback {DevSiloPlan.Address} only; --tls runs every datacenter with mutual TLS and a throwaway CA");
        }
        else
        {
            o.Line($"meridian dev: mutual TLS on every datacenter (VerifyIncoming, VerifyOutgoing, VerifyServerHostname) with a throwaway CA in {Path.GetDirectoryName(tls.CaFile)} (deleted on exit); every client needs:");
            o.Line($"  --ca-file {tls.CaFile} --client-cert {tls.ClientCert} --client-key {tls.ClientKey}");
            o.Line($"  export {GlobalOptions.CaFileVariable}={tls.CaFile} {GlobalOptions.ClientCertVariable}={tls.ClientCert} {GlobalOptions.ClientKeyVariable}={tls.ClientKey}");
            if (plan.Silos[0].HttpPort != 0)
                o.Line($"  curl --cacert {tls.CaFile} --cert {tls.ClientCert} --key {tls.ClientKey} https://{DevSiloPlan.Address}:{plan.Silos[0].HttpPort}/health");
        }
        var scheme = plan.Tls ? "https" : "http";
        foreach (var s in plan.Silos)
        {
            var role = s.Datacenter == s.PrimaryDatacenter ? "primary" : $"secondary of {s.PrimaryDatacenter}";
            var http = s.HttpPort == 0 ? "HTTP off" : $"dashboard {scheme}://{DevSiloPlan.Address}:{s.HttpPort}/dashboard";
            o.Line($"  {s.Datacenter} ({role}): gateway {s.Gateway}, {http}, silo port {s.SiloPort}");
        }
    }

    // Ready means the datacenter answers a real call through its own gateway, not just that the host started.
    // A silo that started but does not answer is reported and still counted: the user can see why with `status`.
    private static async Task WaitUntilServingAsync(CommandRun run, ConnectionSettings settings, DevSiloPlan silo)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(run.CancellationToken);
        timeout.CancelAfter(ReadyTimeout);
        try
        {
            var target = settings with { Gateways = [silo.Gateway], Datacenter = silo.Datacenter, ConnectTimeout = ReadyTimeout };
            await using var connection = await run.Context.Clients.ConnectAsync(target, timeout.Token);
            await connection.Client.GetStatusAsync(timeout.Token);
        }
        catch (Grains.MeridianPermissionDeniedException)
        {
            // ACLs on (dev --acl, before bootstrap): the gateway refused the anonymous token, which is an answer.
        }
        catch (Exception ex) when (!run.CancellationToken.IsCancellationRequested)
        {
            var reason = ex is OperationCanceledException ? $"no answer within {ReadyTimeout.TotalSeconds:0} s" : ex.Message;
            await run.Context.Error.WriteLineAsync($"meridian dev: warning: {silo.Datacenter} started but did not answer a status call through {silo.Gateway}: {reason}");
        }
    }
}

/// <summary>
/// A datacenter of <c>meridian dev</c> did not start for a reason other than bad input (exit 1). The message names that
/// datacenter and its endpoints, and the cause.
/// </summary>
internal sealed class DevSiloStartException(DevSiloPlan silo, Exception inner)
    : Exception($"datacenter {silo.Datacenter} did not start ({silo.Endpoints()}): {Cause(inner)}", inner)
{
    public DevSiloPlan Silo { get; } = silo;

    // Host start-up wraps several failures in an AggregateException whose own message says little.
    private static string Cause(Exception ex)
        => ex is AggregateException aggregate ? string.Join("; ", aggregate.InnerExceptions.Select(i => i.Message)) : ex.Message;
}
