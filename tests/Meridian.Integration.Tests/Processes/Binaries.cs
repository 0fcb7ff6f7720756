using System.Net;
using System.Net.Sockets;
using System.Reflection;

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

/// <summary>Free TCP ports on 127.0.0.1, distinct within one call.</summary>
public static class FreePorts
{
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var l in listeners) l.Stop();
        }
    }

    /// <summary>
    /// <paramref name="count"/> consecutive free ports (for <c>meridian dev</c>, where datacenter k uses base + k):
    /// returns the first.
    /// </summary>
    public static int TakeConsecutive(int count)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var first = Random.Shared.Next(20000, 60000 - count);
            var listeners = new List<TcpListener>();
            try
            {
                for (var port = first; port < first + count; port++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    listeners.Add(listener);
                }
                return first;
            }
            catch (SocketException)
            {
                // Taken: try another range.
            }
            finally
            {
                foreach (var l in listeners) l.Stop();
            }
        }
        throw new InvalidOperationException($"no {count} consecutive free ports on 127.0.0.1 after 200 attempts");
    }
}
