using System.Collections.Concurrent;
using Aap.Api.Features.Todos;
using Aap.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Aap.Api.Tests.Web;

/// <summary>
/// Two nodes on one PostgreSQL database behind a round-robin without sticky sessions: a form that one node rendered
/// is posted to the other, which accepts its antiforgery token and the auth cookies, because the Data Protection key
/// ring is in the shared database and the nodes sign tokens with the same key.
/// </summary>
public sealed class MultiNodePagesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Behind_a_round_robin_a_user_signs_in_on_one_node_and_adds_a_to_do_on_the_other()
    {
        await using var first = PagesFactory.ForPages(new PostgresFactory());
        await first.CreateDatabaseAsync();
        await using var second = PagesFactory.ForPages(PostgresFactory.AnotherNodeOf(first));
        await first.InitializeAsync();
        await second.InitializeAsync();
        var account = await first.RegisterAsync();
        await using var balancer = await RoundRobin.StartAsync(first.ServerAddress, second.ServerAddress);
        await using var browser = await BrowserSession.StartAsync(balancer.Address);
        var page = browser.Page;

        await browser.SignInAsync(account, "/todos");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("To-dos");
        await page.GetByText("New to-do").ClickAsync();
        await page.GetByLabel("Title").FillAsync("Added across nodes");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to-do" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Added \u201cAdded across nodes\u201d.");
        var todo = await second.DbAsync(db => db.Set<TodoTask>().AsNoTracking().SingleAsync(t => t.OwnerId == account.Id, Ct));
        todo.Title.ShouldBe("Added across nodes");

        // Each form went to the node that did not render it, and was accepted there.
        var log = balancer.Log;
        AssertPostedToTheOtherNode(log, "/account/sign-in", "/account/sign-in");
        AssertPostedToTheOtherNode(log, "/todos", "/todos?handler=Add");
        log.Where(r => r.Status >= 400).ShouldBeEmpty();
        await browser.AssertNoProblemsAsync();
    }

    /// <summary>The POST to <paramref name="action"/> went to another node than the GET of <paramref name="form"/> just before it.</summary>
    private static void AssertPostedToTheOtherNode(IReadOnlyList<RoundRobin.Forwarded> log, string form, string action)
    {
        var post = log.Select((r, i) => (r, i)).Single(x => x.r.Method == "POST" && x.r.PathAndQuery.StartsWith(action, StringComparison.Ordinal));
        var rendered = log.Take(post.i).Last(r => r.Method == "GET" && r.PathAndQuery.StartsWith(form, StringComparison.Ordinal));
        rendered.Status.ShouldBe(200);
        post.r.Node.ShouldNotBe(rendered.Node, $"{action} was posted to node {post.r.Node}, the node that rendered {form}");
        post.r.Status.ShouldBe(302, $"{action} was refused by node {post.r.Node}");
    }

    /// <summary>
    /// A minimal reverse proxy on Kestrel: each page request (not a static file) goes to the other node than the
    /// previous one, with every header (cookies, Host, Origin) passed on as the browser sent it.
    /// </summary>
    private sealed class RoundRobin : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<Forwarded> _log = new();
        private int _turn = -1;

        private RoundRobin(WebApplication app) => _app = app;

        public sealed record Forwarded(string Method, string PathAndQuery, int Node, int Status);

        public Uri Address => new(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

        public IReadOnlyList<Forwarded> Log => [.. _log];

        public static async Task<RoundRobin> StartAsync(params Uri[] nodes)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var balancer = new RoundRobin(app);
            var forwarder = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None });
            app.Run(context => balancer.ForwardAsync(context, forwarder, nodes));
            await app.StartAsync();
            return balancer;
        }

        private async Task ForwardAsync(HttpContext context, HttpClient forwarder, Uri[] nodes)
        {
            var request = context.Request;
            var isStatic = Path.HasExtension(request.Path.Value);
            var node = isStatic ? 0 : Interlocked.Increment(ref _turn) % nodes.Length;
            var pathAndQuery = request.Path + request.QueryString;
            using var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(nodes[node], pathAndQuery));
            if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
            {
                message.Content = new StreamContent(request.Body);
            }

            foreach (var (name, values) in request.Headers)
            {
                if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
                {
                    message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
                }
            }

            using var response = await forwarder.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
            if (!isStatic)
            {
                _log.Enqueue(new Forwarded(request.Method, pathAndQuery, node, (int)response.StatusCode));
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
