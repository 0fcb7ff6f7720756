using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Meridian.Integration.Tests.Processes;

/// <summary>
/// A real OS process (<c>dotnet some.dll …</c>) whose stdout and stderr are collected line by line. Disposing kills
/// the whole process tree (SIGKILL) if it still runs, so a failing test never leaves it behind.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process, string description)
    {
        _process = process;
        Description = description;
    }

    /// <summary>The command line, for failure messages.</summary>
    public string Description { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote so far (stdout and stderr interleaved, stderr lines prefixed).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts <c>dotnet <paramref name="dll"/> <paramref name="args"/></c> with extra environment variables.</summary>
    public static ChildProcess StartDotnet(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        // Nothing from the developer's shell may steer the child: only what the test passes.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("Meridian__", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("MERIDIAN_", StringComparison.Ordinal) || k == "ASPNETCORE_URLS").ToList())
        {
            info.Environment.Remove(key);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>()) info.Environment[key] = value;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, $"dotnet {Path.GetFileName(dll)} {string.Join(' ', args)}");
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, "", child._stdoutClosed);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, "[stderr] ", child._stderrClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for a stdout line matching <paramref name="match"/>; fails with the output so far on timeout or exit.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            foreach (var line in _output.ToString().Split('\n'))
            {
                if (!line.StartsWith("[stderr] ", StringComparison.Ordinal) && match(line)) return line;
            }
            _waiters.Add((match, found));
        }
        var exited = _process.WaitForExitAsync();
        var winner = await Task.WhenAny(found.Task, exited, Task.Delay(timeout));
        if (winner == found.Task) return await found.Task;
        throw new TimeoutException(winner == exited
            ? $"{Description} exited with {_process.ExitCode} before printing the expected line. Output:\n{Output}"
            : $"{Description} did not print the expected line within {timeout.TotalSeconds:0} s. Output:\n{Output}");
    }

    /// <summary>Waits for the process to exit on its own; kills it and fails on timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException($"{Description} did not exit within {timeout.TotalSeconds:0} s. Output:\n{Output}");
        }
        // WaitForExit returns before the last redirected lines are delivered; wait for both streams to close.
        await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(5));
        return _process.ExitCode;
    }

    /// <summary>
    /// SIGTERM (what <c>kill</c>, systemd and a container runtime send): the process stops gracefully. Returns its exit
    /// code; kills it and fails when it has not exited within <paramref name="timeout"/>.
    /// </summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited && Kill(_process.Id, SigTerm) != 0 && !_process.HasExited)
            throw new InvalidOperationException($"SIGTERM to {Description} (pid {_process.Id}) failed: errno {Marshal.GetLastPInvokeError()}");
        return await WaitForExitAsync(timeout);
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>SIGKILL for the process and its children: no graceful shutdown, no final writes.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnLine(string? line, string prefix, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        List<TaskCompletionSource<string>> matched = [];
        lock (_output)
        {
            _output.Append(prefix).Append(line).Append('\n');
            if (prefix.Length == 0)
            {
                foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
                {
                    _waiters.Remove(waiter);
                    matched.Add(waiter.Found);
                }
            }
        }
        foreach (var found in matched) found.TrySetResult(line);
    }
}

/// <summary>The result of a short-lived command.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"{Command} exited {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs short-lived commands (the CLI, openssl) to completion.</summary>
public static class Commands
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs <c>dotnet <paramref name="dll"/> …</c>.</summary>
    public static async Task<CommandResult> RunDotnetAsync(string dll, params string[] args)
    {
        await using var child = ChildProcess.StartDotnet(dll, args);
        var code = await child.WaitForExitAsync(Timeout);
        return Split(child.Description, code, child.Output);
    }

    /// <summary>Runs any executable found on PATH.</summary>
    public static Task<CommandResult> RunAsync(string fileName, params string[] args) => RunAsync(fileName, Timeout, args);

    /// <summary>Runs any executable found on PATH, killed after <paramref name="timeout"/>.</summary>
    public static async Task<CommandResult> RunAsync(string fileName, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not exit within {timeout.TotalSeconds:0} s");
        }
        return new CommandResult($"{fileName} {string.Join(' ', args)}", process.ExitCode, await stdout, await stderr);
    }

    private static CommandResult Split(string command, int code, string output)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("[stderr] ", StringComparison.Ordinal)) stderr.Append(line["[stderr] ".Length..]).Append('\n');
            else stdout.Append(line).Append('\n');
        }
        return new CommandResult(command, code, stdout.ToString(), stderr.ToString());
    }
}
