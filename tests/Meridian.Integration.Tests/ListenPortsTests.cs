using System.Net;
using System.Net.Sockets;
using Meridian.Silo;

namespace Meridian.Integration.Tests;

/// <summary>
/// The silo's port probe (<see cref="ListenPorts"/>): a listener makes a port busy; connections a killed silo left in
/// TIME_WAIT do not (the restarted silo binds with SO_REUSEADDR and gets the port, so the probe must agree).
/// </summary>
public sealed class ListenPortsTests
{
    [Fact]
    public void PortWithAListener_IsInUse()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        Assert.True(ListenPorts.IsInUse(IPAddress.Loopback, port));
    }

    [Fact]
    public void PortWithAListenerThatSharesItsPort_IsInUse()
    {
        // Orleans' listeners set ReuseAddress, which .NET on Linux maps to SO_REUSEADDR and SO_REUSEPORT.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        Assert.True(ListenPorts.IsInUse(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task PortLeftInTimeWaitByTheServerSide_IsFree()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            using var accepted = await listener.AcceptSocketAsync();
            // The server closes first (as the kernel does for a silo killed with SIGKILL): its side of the connection,
            // on the listening port, goes to TIME_WAIT once the client has closed too.
            accepted.Close();
            var buffer = new byte[1];
            Assert.Equal(0, await client.GetStream().ReadAsync(buffer));
        }
        listener.Stop();

        Assert.Contains(port, TimeWaitLocalPorts());
        Assert.False(ListenPorts.IsInUse(IPAddress.Loopback, port));
    }

    [Fact]
    public void FreePort_IsFree()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
        }

        Assert.False(ListenPorts.IsInUse(IPAddress.Loopback, port));
    }

    private static IEnumerable<int> TimeWaitLocalPorts() =>
        IPGlobalPropertiesTcp().Where(c => c.State == System.Net.NetworkInformation.TcpState.TimeWait).Select(c => c.LocalEndPoint.Port);

    private static System.Net.NetworkInformation.TcpConnectionInformation[] IPGlobalPropertiesTcp() =>
        System.Net.NetworkInformation.IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections();
}
