using System.CommandLine;
using System.Net;
using Meridian.Pki;

namespace Meridian.Cli;

/// <summary>
/// <c>meridian tls ca create</c> and <c>meridian tls cert create</c>: the transport CA and agent certificates for mutual
/// TLS, with the flags and file names of <c>consul tls</c> (https://developer.hashicorp.com/consul/commands/tls), the
/// domain taking Consul's place in the names (<c>meridian-agent-ca.pem</c>, <c>dc1-server-meridian-0.pem</c>). Works
/// offline: no gateway is contacted.
/// </summary>
internal static class TlsCommands
{
    /// <summary>The default <c>--domain</c>: names certificates <c>server.dc1.meridian</c>.</summary>
    public const string DefaultDomain = "meridian";

    internal sealed record SavedFiles(string Certificate, string Key);

    public static Command Create(CommandRunner runner)
    {
        var ca = new Command("ca", "The transport CA");
        ca.Subcommands.Add(CaCreate(runner));
        var cert = new Command("cert", "Server and client certificates of the transport CA");
        cert.Subcommands.Add(CertCreate(runner));
        return new Command("tls", "Files for mutual TLS between silos, clients and the HTTP port (like `consul tls`)") { ca, cert };
    }

    /// <summary>The CA files of <paramref name="domain"/>: Consul's <c>&lt;domain&gt;-agent-ca.pem</c> and <c>-key.pem</c>.</summary>
    public static (string Cert, string Key) CaFileNames(string domain) => ($"{domain}-agent-ca.pem", $"{domain}-agent-ca-key.pem");

    private static Command CaCreate(CommandRunner runner)
    {
        var common = new CommonOptions(TransportCertificates.DefaultCaLifetime);
        var command = common.AddTo(new Command("create", "Create <domain>-agent-ca.pem and <domain>-agent-ca-key.pem (mode 0600)"));
        runner.OnRun(command, (run, _) =>
        {
            var problems = new List<CliProblem>();
            var (domain, days, directory) = common.Read(run, problems);
            var (certName, keyName) = CaFileNames(domain);
            problems.AddRange(new[] { certName, keyName }
                .Where(n => File.Exists(Path.Combine(directory, n)))
                .Select(n => new CliProblem("--out", $"{Path.Combine(directory, n)} already exists; remove it or choose another --out")));
            CliUsageException.ThrowIfAny(problems);
            var pair = TransportCertificates.CreateCa(run.Context.Clock.GetUtcNow(), days);
            return Task.FromResult(Save(run, directory, certName, keyName, pair));
        });
        return command;
    }

    private static Command CertCreate(CommandRunner runner)
    {
        var common = new CommonOptions(TransportCertificates.DefaultCertLifetime);
        var server = new Option<bool>("--server") { Description = "A server (silo) certificate, named server.<dc>.<domain>" };
        var client = new Option<bool>("--client") { Description = "A client (CLI, SDK) certificate, named client.<dc>.<domain>" };
        var dc = new Option<string>("--dc") { Description = "Datacenter the certificate is for", DefaultValueFactory = _ => "dc1", HelpName = "NAME" };
        var caFile = new Option<FileInfo?>("--ca") { Description = "CA certificate (default <domain>-agent-ca.pem in --out)", HelpName = "FILE" };
        var keyFile = new Option<FileInfo?>("--key") { Description = "CA private key (default <domain>-agent-ca-key.pem in --out)", HelpName = "FILE" };
        var dnsNames = new Option<string[]>("--additional-dnsname")
        {
            Description = "Another DNS name for a server certificate (repeatable)", HelpName = "NAME", AllowMultipleArgumentsPerToken = false,
        };
        var ips = new Option<string[]>("--additional-ipaddress")
        {
            Description = "Another IP address for a server certificate (repeatable)", HelpName = "IP", AllowMultipleArgumentsPerToken = false,
        };
        var command = common.AddTo(new Command("create", "Create <dc>-server-<domain>-<n>.pem or <dc>-client-<domain>-<n>.pem and its -key.pem (mode 0600)")
        {
            server, client, dc, caFile, keyFile, dnsNames, ips,
        });
        runner.OnRun(command, (run, _) =>
        {
            var problems = new List<CliProblem>();
            var isServer = run.Get(server);
            if (isServer == run.Get(client)) problems.Add(new CliProblem("--server", "give exactly one of --server or --client"));
            var datacenter = run.Get(dc) ?? "dc1";
            if (!IsDnsLabel(datacenter)) problems.Add(new CliProblem("--dc", $"\"{datacenter}\" must be a DNS label (letters, digits, '-')"));
            var addresses = new List<IPAddress>();
            foreach (var text in run.Get(ips) ?? [])
            {
                if (IPAddress.TryParse(text, out var ip)) addresses.Add(ip);
                else problems.Add(new CliProblem("--additional-ipaddress", $"\"{text}\" is not an IP address"));
            }
            var extraNames = run.Get(dnsNames) ?? [];
            if (!isServer && (extraNames.Length > 0 || addresses.Count > 0))
                problems.Add(new CliProblem("--additional-dnsname", "additional names are for --server certificates only"));
            var (domain, days, directory) = common.Read(run, problems);
            var (defaultCa, defaultKey) = CaFileNames(domain);
            var caPem = ReadInput(run.Get(caFile)?.FullName ?? Path.Combine(directory, defaultCa), "--ca", problems);
            var keyPem = ReadInput(run.Get(keyFile)?.FullName ?? Path.Combine(directory, defaultKey), "--key", problems);
            CliUsageException.ThrowIfAny(problems);

            TransportKeyPair pair;
            try
            {
                pair = isServer
                    ? TransportCertificates.CreateServer(caPem!, keyPem!, datacenter, domain, run.Context.Clock.GetUtcNow(), days, extraNames, addresses)
                    : TransportCertificates.CreateClient(caPem!, keyPem!, datacenter, domain, run.Context.Clock.GetUtcNow(), days);
            }
            catch (Exception ex) when (ex is ArgumentException or PkiException)
            {
                throw new CliUsageException([new CliProblem("--ca", ex.Message)]);
            }
            // Like Consul: the first free <n>, so a second server of the datacenter gets its own pair.
            var kind = isServer ? "server" : "client";
            var n = 0;
            while (File.Exists(Path.Combine(directory, $"{datacenter}-{kind}-{domain}-{n}.pem"))) n++;
            var stem = $"{datacenter}-{kind}-{domain}-{n}";
            return Task.FromResult(Save(run, directory, stem + ".pem", stem + "-key.pem", pair));
        });
        return command;
    }

    private static int Save(CommandRun run, string directory, string certName, string keyName, TransportKeyPair pair)
    {
        PemFiles.Writing(directory, () => Directory.CreateDirectory(directory));
        var saved = PemFiles.Writing(directory, () => new SavedFiles(
            PemFiles.Write(directory, certName, pair.CertificatePem, secret: false),
            PemFiles.Write(directory, keyName, pair.PrivateKeyPem, secret: true)));
        run.Output.Write(saved, (o, s) =>
        {
            o.Line($"==> Saved {s.Certificate}");
            o.Line($"==> Saved {s.Key}");
        });
        return ExitCodes.Ok;
    }

    private static string? ReadInput(string path, string field, List<CliProblem> problems)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add(new CliProblem(field, $"cannot read {path}: {ex.Message} (create the CA first with `meridian tls ca create`)"));
            return null;
        }
    }

    private static bool IsDnsLabel(string value)
        => value.Length is > 0 and <= 63 && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && !value.StartsWith('-') && !value.EndsWith('-');

    private sealed class CommonOptions(TimeSpan defaultLifetime)
    {
        public Option<string> Domain { get; } = new("--domain")
        {
            Description = "Domain of the certificate names (server.<dc>.<domain>) and the file names", DefaultValueFactory = _ => DefaultDomain, HelpName = "DOMAIN",
        };
        public Option<int?> Days { get; } = new("--days") { Description = $"Lifetime in days (default {defaultLifetime.TotalDays:0})", HelpName = "DAYS" };
        public Option<DirectoryInfo?> Out { get; } = new("--out") { Description = "Directory of the files (default: the current directory)", HelpName = "DIR" };

        public (string Domain, TimeSpan Lifetime, string Directory) Read(CommandRun run, List<CliProblem> problems)
        {
            var domain = (run.Get(Domain) ?? DefaultDomain).TrimEnd('.');
            if (domain.Length == 0 || !domain.Split('.').All(IsDnsLabel))
                problems.Add(new CliProblem("--domain", $"\"{domain}\" must be dot-separated DNS labels (letters, digits, '-')"));
            var days = run.Get(Days);
            if (days is <= 0) problems.Add(new CliProblem("--days", "must be a positive number of days"));
            var directory = run.Get(Out)?.FullName ?? Directory.GetCurrentDirectory();
            if (File.Exists(directory)) problems.Add(new CliProblem("--out", $"{directory} is a file, not a directory"));
            return (domain, days is { } d ? TimeSpan.FromDays(d) : defaultLifetime, directory);
        }

        public Command AddTo(Command command)
        {
            command.Options.Add(Domain);
            command.Options.Add(Days);
            command.Options.Add(Out);
            return command;
        }
    }
}
