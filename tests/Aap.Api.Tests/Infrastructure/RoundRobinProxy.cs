using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>
/// A small reverse proxy on Kestrel for API clients: each request goes to the next node in turn, headers and body
/// passed on as sent. A node that refuses the connection (it is down: the request never reached it) is skipped and
/// the request goes to the next one, as a load balancer's passive health check would; a node that fails while it
/// has the request (killed mid-request) gives the client a 502, which the log records with the node it came from.
/// </summary>
public sealed class RoundRobinProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Uri?[] _nodes;
    private readonly HttpClient _forwarder = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
    {
        Timeout = TimeSpan.FromSeconds(100),
    };

    private readonly ConcurrentQueue<Forwarded> _log = new();
    private int _turn = -1;

    private RoundRobinProxy(WebApplication app, Uri[] nodes)
    {
        _app = app;
        _nodes = nodes;
    }

    /// <summary>One answered request: the node that had it (null when none could take it), the status, and when it ran.</summary>
    public sealed record Forwarded(string Method, string Path, Uri? Node, int Status, DateTimeOffset Started, DateTimeOffset Finished, string? Error);

    public Uri Address => new(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    public IReadOnlyList<Forwarded> Log => [.. _log];

    public static async Task<RoundRobinProxy> StartAsync(params Uri[] nodes)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var proxy = new RoundRobinProxy(app, nodes);
        app.Run(proxy.ForwardAsync);
        await app.StartAsync();
        return proxy;
    }

    /// <summary>Points slot <paramref name="slot"/> at another address (a restarted node listens on a new port).</summary>
    public void Replace(int slot, Uri node) => Volatile.Write(ref _nodes[slot], node);

    private async Task ForwardAsync(HttpContext context)
    {
        var started = DateTimeOffset.UtcNow;
        var request = context.Request;
        var path = request.Path + request.QueryString;
        // Buffered, so that a request a down node refused can be sent again to the next one.
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted);
        var content = body.ToArray();
        string? lastError = null;
        var first = (int)((uint)Interlocked.Increment(ref _turn) % (uint)_nodes.Length);
        for (var attempt = 0; attempt < _nodes.Length; attempt++)
        {
            // Each node at most once: the one whose turn it is, then the ones after it.
            var node = Volatile.Read(ref _nodes[(first + attempt) % _nodes.Length]);
            if (node is null)
            {
                continue;
            }

            using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(node, path));
            if (content.Length > 0)
            {
                message.Content = new ByteArrayContent(content);
            }

            foreach (var (name, values) in request.Headers)
            {
                if (!name.Equals("Host", StringComparison.OrdinalIgnoreCase) && !message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
                {
                    message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                }
            }

            HttpResponseMessage response;
            try
            {
                response = await _forwarder.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            }
            catch (HttpRequestException error) when (error.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                lastError = error.Message;
                continue;
            }
            catch (HttpRequestException error)
            {
                context.Response.StatusCode = StatusCodes.Status502BadGateway;
                _log.Enqueue(new Forwarded(request.Method, path, node, 502, started, DateTimeOffset.UtcNow, error.Message));
                return;
            }

            using (response)
            {
                byte[] answer;
                try
                {
                    answer = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
                }
                catch (HttpRequestException error)
                {
                    context.Response.StatusCode = StatusCodes.Status502BadGateway;
                    _log.Enqueue(new Forwarded(request.Method, path, node, 502, started, DateTimeOffset.UtcNow, error.Message));
                    return;
                }

                context.Response.StatusCode = (int)response.StatusCode;
                foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
                {
                    if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && !name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                    {
                        context.Response.Headers[name] = values.ToArray();
                    }
                }

                context.Response.ContentLength = answer.Length;
                await context.Response.Body.WriteAsync(answer, context.RequestAborted);
                _log.Enqueue(new Forwarded(request.Method, path, node, (int)response.StatusCode, started, DateTimeOffset.UtcNow, null));
                return;
            }
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        _log.Enqueue(new Forwarded(request.Method, path, null, 503, started, DateTimeOffset.UtcNow, lastError ?? "no node in the rotation"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _forwarder.Dispose();
    }
}
