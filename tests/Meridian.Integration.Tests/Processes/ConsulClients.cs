using System.Diagnostics;

namespace Meridian.Integration.Tests.Processes;

/// <summary>
/// Consul clients that no one here wrote, as users install them, run against Meridian's HTTP API: Debian's
/// <c>python3-consul2</c> (0.1.5, with <c>/usr/bin/python3</c>), Debian's <c>python3-consul</c> (0.7.1, which conflicts
/// with it: its .deb unpacked into <c>tests/consul-clients/.py-consul</c>) and npm <c>consul</c> 2.0.1 (in
/// <c>tests/consul-clients/node_modules</c>). <c>.ci/run</c> installs all three; a missing one fails the test with the
/// command that installs it, never skips it. The scripts in <c>tests/consul-clients</c> assert every answer and end
/// with <c>ALL OK</c>.
/// </summary>
public static class ConsulClients
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>Where the scripts and the installed clients live.</summary>
    public static string Folder => Path.Combine(Binaries.Repository, "tests", "consul-clients");

    /// <summary>Runs a script with Debian's python3-consul2.</summary>
    public static Task<CommandResult> PythonConsul2Async(string script, IReadOnlyDictionary<string, string> environment)
    {
        Require(File.Exists("/usr/lib/python3/dist-packages/consul/__init__.py"),
            "Debian's python3-consul2 is not installed: apt-get install python3-consul2 (.ci/run installs it)");
        return RunAsync("/usr/bin/python3", [Path.Combine(Folder, script)], environment);
    }

    /// <summary>Runs a script with Debian's python3-consul 0.7.1 first on PYTHONPATH.</summary>
    public static Task<CommandResult> PythonConsulAsync(string script, IReadOnlyDictionary<string, string> environment)
    {
        var path = Path.Combine(Folder, ".py-consul", "usr", "lib", "python3", "dist-packages");
        Require(File.Exists(Path.Combine(path, "consul", "__init__.py")),
            $"Debian's python3-consul is not unpacked into {path}: (cd {Folder} && apt-get download python3-consul && dpkg-deb -x python3-consul_*.deb .py-consul) (.ci/run does it)");
        return RunAsync("/usr/bin/python3", [Path.Combine(Folder, script)], new Dictionary<string, string>(environment) { ["PYTHONPATH"] = path });
    }

    /// <summary>Runs a script with npm consul 2.0.1 under node.</summary>
    public static Task<CommandResult> NodeConsulAsync(string script, IReadOnlyDictionary<string, string> environment)
    {
        Require(File.Exists(Path.Combine(Folder, "node_modules", "consul", "package.json")),
            $"npm consul 2.0.1 is not installed: npm ci --prefix {Folder} (.ci/run does it)");
        return RunAsync("node", [Path.Combine(Folder, script)], environment);
    }

    private static void Require(bool installed, string message)
    {
        if (!installed) Assert.Fail(message);
    }

    private static async Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Folder };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        // The clients read these first (python: CONSUL_HTTP_TOKEN overrides token=): never from the machine running the tests.
        foreach (var name in new[] { "CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL_HTTP_SSL", "CONSUL_HTTP_AUTH" }) info.Environment.Remove(name);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not exit within {Timeout.TotalSeconds:0} s; output so far:\n{await stdout}\n{await stderr}");
        }
        return new CommandResult($"{fileName} {string.Join(' ', args)}", process.ExitCode, await stdout, await stderr);
    }
}
