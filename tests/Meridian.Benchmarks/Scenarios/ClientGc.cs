using System.Diagnostics;

namespace Meridian.Benchmarks.Scenarios;

/// <summary>
/// The GC setting for latency-sensitive SDK clients: a 4 MiB gen0 budget. With the default budget (about 16 MiB here)
/// each gen0 collection of the client paused it for 10-14 ms on this 2-core machine, which was the whole p99 tail of
/// the authorize benchmark at half load; with 4 MiB the pauses are 2-4 ms. The runtime reads it only from the
/// environment, so the benchmark re-executes itself with it. Silos it starts run with the runtime's defaults.
/// </summary>
internal static class ClientGc
{
    public const string Variable = "DOTNET_GCgen0size";
    public const string Value = "0x400000";

    public static string Describe()
        => (System.Runtime.GCSettings.IsServerGC ? "server GC" : "workstation GC")
           + (Environment.GetEnvironmentVariable(Variable) is { } v ? $", gen0 budget {v}" : "");

    public static async Task<int> RerunAsync(string self, string[] args)
    {
        var psi = new ProcessStartInfo(self) { UseShellExecute = false };
        // A framework-dependent apphost or `dotnet Meridian.Benchmarks.dll`: pass the dll when the host is dotnet itself.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet" && Environment.GetCommandLineArgs()[0] is { } dll) psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[Variable] = Value;
        psi.Environment["DOTNET_gcServer"] = "0"; // a client: workstation GC (this project's own setting is the silo's)
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("could not re-execute the benchmark");
        await child.WaitForExitAsync();
        return child.ExitCode;
    }

    /// <summary>Removes the client's setting from a silo child's environment: silos run with the runtime defaults.</summary>
    public static void ClearFor(ProcessStartInfo silo)
    {
        silo.Environment.Remove(Variable);
        silo.Environment.Remove("DOTNET_gcServer");
    }
}
