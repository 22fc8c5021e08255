using System.Net;
using System.Net.Sockets;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>Clients that connect from another loopback address, as a second person on another machine would.</summary>
public static class Addresses
{
    /// <summary>A client of <paramref name="factory"/> whose connections come from <paramref name="local"/> (any 127.x.y.z).</summary>
    public static HttpClient ClientFrom(this AapFactory factory, IPAddress local)
    {
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = factory.ServerAddress };
    }
}
