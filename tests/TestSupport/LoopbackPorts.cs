using System.Net;
using System.Net.Sockets;

namespace ChatBot.TestSupport;

public static class LoopbackPorts
{
    /// <summary>A port on 127.0.0.1 that nothing listens on right now (the OS picks it).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
