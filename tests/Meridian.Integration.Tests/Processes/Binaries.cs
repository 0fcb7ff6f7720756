using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Meridian.Silo;

namespace Meridian.Integration.Tests.Processes;

/// <summary>
/// The silo and CLI entry assemblies, in their own build output (<c>&lt;project&gt;/bin/&lt;config&gt;/net10.0</c>) so each
/// runs with its own deps.json. The test project's ProjectReferences make <c>dotnet test</c> build both first.
/// </summary>
public static class Binaries
{
    private static readonly Lazy<string> RepositoryRoot = new(FindRepositoryRoot);

    /// <summary>The repository's root folder (where README.md is).</summary>
    public static string Repository => RepositoryRoot.Value;

    /// <summary><c>silo/Meridian.Silo/bin/&lt;config&gt;/net10.0/Meridian.Silo.dll</c>.</summary>
    public static string Silo => Locate(Path.Combine("silo", "Meridian.Silo"), "Meridian.Silo.dll");

    /// <summary><c>client/Meridian.Cli/bin/&lt;config&gt;/net10.0/meridian.dll</c>.</summary>
    public static string Cli => Locate(Path.Combine("client", "Meridian.Cli"), "meridian.dll");

    /// <summary>The build configuration of this test assembly (Debug, Release).</summary>
    public static string Configuration =>
        typeof(Binaries).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration is { Length: > 0 } c ? c : "Debug";

    private static string Locate(string project, string fileName)
    {
        var path = Path.Combine(RepositoryRoot.Value, project, "bin", Configuration, "net10.0", fileName);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"{path} does not exist; build it first (dotnet build tests/Meridian.Integration.Tests builds it through its ProjectReference).", path);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "silo", "Meridian.Silo", "Meridian.Silo.csproj"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No repository root (with silo/Meridian.Silo) above {AppContext.BaseDirectory}.");
    }
}

/// <summary>
/// Free TCP ports on 127.0.0.1, chosen at random in 10000-19999: below the kernel's ephemeral range (32768+ here), so
/// no outgoing connection of any process can take one while a fixture keeps it for a silo it restarts, and away from
/// the CLI tests' 20000-32000. Never the same port twice in this process.
/// </summary>
/// <remarks>
/// Why not port 0: the kernel hands out an ephemeral port, and once the silo using it is killed, the next outgoing
/// connection (a pooled Npgsql connection, another test's client) may get it as its source port and hold it; the
/// restarted silo then found its port "already in use" (CI failed that way on a secondary restarted mid-rotation).
/// </remarks>
public static class FreePorts
{
    private const int Low = 10_000;
    private const int High = 20_000;
    private static readonly HashSet<int> HandedOut = [];

    public static int[] Take(int count)
    {
        lock (HandedOut)
        {
            var ports = new List<int>();
            for (var attempt = 0; ports.Count < count; attempt++)
            {
                if (attempt == 2000) throw new InvalidOperationException($"found no {count} free ports on 127.0.0.1 between {Low} and {High}");
                var port = Random.Shared.Next(Low, High);
                if (HandedOut.Contains(port) || !IsFree(port)) continue;
                HandedOut.Add(port);
                ports.Add(port);
            }
            return [.. ports];
        }
    }

    /// <summary>
    /// <paramref name="count"/> consecutive free ports (for <c>meridian dev</c>, where datacenter k uses base + k):
    /// returns the first.
    /// </summary>
    public static int TakeConsecutive(int count)
    {
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 200; attempt++)
            {
                var first = Random.Shared.Next(Low, High - count);
                var range = Enumerable.Range(first, count).ToArray();
                if (range.Any(HandedOut.Contains) || !range.All(IsFree)) continue;
                HandedOut.UnionWith(range);
                return first;
            }
        }
        throw new InvalidOperationException($"no {count} consecutive free ports on 127.0.0.1 between {Low} and {High} after 200 attempts");
    }

    // The silo's own probe: free for the test when a silo could bind it.
    private static bool IsFree(int port) => !ListenPorts.IsInUse(IPAddress.Loopback, port);
}
