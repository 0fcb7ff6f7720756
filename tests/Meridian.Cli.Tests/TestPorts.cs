using System.Net;
using System.Net.Sockets;

namespace Meridian.Cli.Tests;

/// <summary>Loopback ports for tests that run real silos.</summary>
internal static class TestPorts
{
    // Two ranges of free loopback ports below the ephemeral range (32768+), so an outgoing connection cannot take one.
    public static (int Gateway, int Silo) FreeRanges(int count)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var gateway = Random.Shared.Next(20_000, 32_000 - 2 * count);
            var silo = gateway + count;
            if (Enumerable.Range(gateway, 2 * count).All(IsFree)) return (gateway, silo);
        }
        throw new InvalidOperationException("found no free range of loopback ports between 20000 and 32000");
    }

    public static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static bool Accepts(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
