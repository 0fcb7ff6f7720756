using System.CommandLine;
using System.Text;
using Meridian.Client;
using Meridian.Grains;

namespace Meridian.Cli;

/// <summary><c>meridian cert …</c>: service certificates, issued here or signed from the workload's own CSR.</summary>
internal static class CertCommands
{
    /// <summary>What <c>--out</c> prints instead of the key: where everything went.</summary>
    internal sealed record WrittenFiles(
        string SerialNumber, string ServiceURI, DateTimeOffset ValidAfter, DateTimeOffset ValidBefore,
        string CertFile, string? KeyFile, string CAFile);

    public static Command Create(CommandRunner runner)
    {
        var cert = new Command("cert", "Service certificates");
        cert.Subcommands.Add(Get(runner));
        cert.Subcommands.Add(Sign(runner));
        return cert;
    }

    private static Command Get(CommandRunner runner)
    {
        var common = new CommonOptions("Write cert.pem (leaf + chain), key.pem (mode 0600) and ca.pem (trust bundle) here and print their paths");
        var includeKey = new Option<bool>("--include-key")
        {
            Description = "Without --out: print the private key too (it is left out unless asked: a terminal's scrollback is not a key store)",
        };
        var waitNewerThan = CliParsers.SerialOption("--wait-newer-than",
            "Wait until the service has a certificate with another serial than this one (renewal, rotation)");
        var command = common.AddTo(new Command("get", "Get the service's certificate and private key (the key is written with --out, printed only with --include-key)") { waitNewerThan, includeKey });
        runner.OnClient(command, async (run, client) =>
        {
            var outDirectory = common.OutDirectory(run);
            var issued = await client.GetCertificateAsync(run.Required(common.Service), run.Get(waitNewerThan), cancellationToken: run.CancellationToken);
            await WriteAsync(run, client, issued, outDirectory, run.Get(includeKey) ? KeyOutput.Print : KeyOutput.FileOnly);
        }, CommonOptions.Fields);
        return command;
    }

    private static Command Sign(CommandRunner runner)
    {
        // No key.pem here: the workload made the key and keeps it.
        var common = new CommonOptions("Write cert.pem (leaf + chain) and ca.pem (trust bundle) here and print their paths");
        var csr = new Option<FileInfo>("--csr") { Description = "PEM certificate signing request made by the workload", Required = true, HelpName = "FILE" }
            .AcceptExistingOnly();
        // AcceptExistingOnly accepts a directory too; reading it would fail after connecting, as "Access denied".
        csr.Validators.Add(result =>
        {
            // The token, not the value: the value throws when AcceptExistingOnly has already refused it.
            if (result.Tokens.Count == 0) return;
            var path = Path.GetFullPath(result.Tokens[^1].Value);
            if (Directory.Exists(path)) result.AddError($"{path} is a directory, not a CSR file");
            else if (File.Exists(path) && TryOpen(path) is { } problem) result.AddError($"cannot read {path}: {problem}");
        });
        var command = common.AddTo(new Command("sign", "Sign the workload's own CSR; its private key never leaves the workload") { csr });
        runner.OnClient(command, async (run, client) =>
        {
            var csrPem = await File.ReadAllTextAsync(run.Required(csr).FullName, run.CancellationToken);
            var outDirectory = common.OutDirectory(run);
            var issued = await client.SignCertificateAsync(run.Required(common.Service), csrPem, run.CancellationToken);
            await WriteAsync(run, client, issued, outDirectory, KeyOutput.None);
        }, CommonOptions.Fields);
        return command;
    }

    private static string? TryOpen(string path)
    {
        try
        {
            using var _ = File.OpenRead(path);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    /// <summary>What happens to the private key of an issued certificate.</summary>
    private enum KeyOutput
    {
        /// <summary>There is none to show (<c>cert sign</c>: the workload holds it).</summary>
        None,
        /// <summary>Written to key.pem under --out; never printed.</summary>
        FileOnly,
        /// <summary>Printed too, because the user asked (--include-key).</summary>
        Print,
    }

    private static async Task WriteAsync(CommandRun run, IMeridianClient client, IssuedCertificateDto issued, string? outDirectory, KeyOutput key)
    {
        if (outDirectory is null)
        {
            var printKey = key == KeyOutput.Print && issued.PrivateKeyPEM.Length > 0;
            if (key == KeyOutput.FileOnly)
            {
                await run.Context.Error.WriteLineAsync(
                    "meridian: the private key is not printed; pass --out DIR to write key.pem (mode 0600), or --include-key to print it");
            }
            if (run.Output.Json)
            {
                // Consul's field names, minus the key unless it was asked for.
                var json = System.Text.Json.JsonSerializer.SerializeToNode(issued, Output.JsonOptions)!.AsObject();
                if (!printKey) json.Remove(nameof(IssuedCertificateDto.PrivateKeyPEM));
                run.Output.WriteJson(json);
                return;
            }
            run.Output.Write(issued, (o, c) =>
            {
                o.Fields(("SerialNumber", c.SerialNumber), ("ServiceURI", c.ServiceURI),
                    ("ValidAfter", Output.Time(c.ValidAfter)), ("ValidBefore", Output.Time(c.ValidBefore)));
                o.Pem(c.CertPEM);
                if (printKey) o.Pem(c.PrivateKeyPEM);
            });
            return;
        }
        var withKey = key != KeyOutput.None;
        // The trust bundle is every root still listed (pruned roots are gone): peers may hold leaves of any of them.
        var roots = await client.GetCaRootsAsync(run.CancellationToken);
        var directory = outDirectory;
        var files = CommonOptions.Writing(directory, () => new WrittenFiles(
            issued.SerialNumber, issued.ServiceURI, issued.ValidAfter, issued.ValidBefore,
            PemFiles.Write(directory, PemFiles.CertFile, issued.CertPEM, secret: false),
            withKey ? PemFiles.Write(directory, PemFiles.KeyFile, issued.PrivateKeyPEM, secret: true) : null,
            PemFiles.Write(directory, PemFiles.CaFile, PemFiles.Join(roots.Roots.Select(r => r.RootCert)), secret: false)));
        run.Output.Write(files, (o, f) => o.Fields(
            ("SerialNumber", f.SerialNumber), ("cert", f.CertFile), ("key", f.KeyFile), ("ca", f.CAFile)));
    }

    private sealed class CommonOptions(string outDescription)
    {
        // The certificate grain's key is "<datacenter>/<service>": its service part is reported as "service.Service".
        public static readonly ApiFields Fields = new(("--service", ["service", "service.Service"]), ("--csr", ["csr"]));

        public Option<string> Service { get; } = new("--service") { Description = "Service name", Required = true, HelpName = "NAME" };
        public Option<DirectoryInfo?> Out { get; } = new("--out") { Description = outDescription, HelpName = "DIR" };

        /// <summary>
        /// The <c>--out</c> directory, created before anything is requested; a path that cannot be a directory or
        /// cannot be written is bad input (exit 2), not a failure.
        /// </summary>
        public string? OutDirectory(CommandRun run)
        {
            if (run.Get(Out) is not { } dir) return null;
            if (File.Exists(dir.FullName)) throw Problem($"{dir.FullName} is a file, not a directory");
            return Writing(dir.FullName, () => Directory.CreateDirectory(dir.FullName).FullName);
        }

        public static T Writing<T>(string directory, Func<T> write) => PemFiles.Writing(directory, write);

        private static CliUsageException Problem(string message) => new([new CliProblem("--out", message)]);

        public Command AddTo(Command command)
        {
            command.Options.Add(Service);
            command.Options.Add(Out);
            return command;
        }
    }
}

/// <summary>Writes PEM files so that a reader never sees a partial file and a key is never readable by others.</summary>
internal static class PemFiles
{
    public const string CertFile = "cert.pem";
    public const string KeyFile = "key.pem";
    public const string CaFile = "ca.pem";

    /// <summary>Runs a file-system step on <paramref name="directory"/>; its IO errors become <c>--out</c> problems (exit 2).</summary>
    public static T Writing<T>(string directory, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException([new CliProblem("--out", $"cannot write to {directory}: {ex.Message}")]);
        }
    }

    /// <summary>PEM blocks, one after another, each ending with a newline.</summary>
    public static string Join(IEnumerable<string> pems) => string.Concat(pems.Select(p => p.TrimEnd('\n', '\r') + "\n"));

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="directory"/>/<paramref name="name"/> and returns the path.
    /// A secret file is created with mode 0600 (never world-readable, not even between create and chmod) under a
    /// temporary name and renamed over the target, so an existing file with wider permissions is replaced, not reused.
    /// </summary>
    public static string Write(string directory, string name, string content, bool secret)
    {
        var path = Path.Combine(directory, name);
        var temp = Path.Combine(directory, $".{name}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }
        try
        {
            using (var writer = new StreamWriter(new FileStream(temp, options), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                writer.Write(content.EndsWith('\n') ? content : content + "\n");
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
        return path;
    }
}
