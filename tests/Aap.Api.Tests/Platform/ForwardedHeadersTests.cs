using System.Net;
using System.Net.Http.Json;
using Aap.Api.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// X-Forwarded-For is honoured only from the proxies named in <c>Http:KnownProxies</c> / <c>Http:KnownNetworks</c>.
/// The per-address limit of the login shows which address the application saw; in tests the peer is loopback.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_forwarded_address_from_an_untrusted_peer_is_ignored()
    {
        await using var host = await StartAsync(("Http:KnownProxies:0", "10.9.8.7"));

        var statuses = await LoginsAsync(host, "203.0.113.1", "203.0.113.2", "203.0.113.3");

        statuses.ShouldBe([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], "every attempt counts against the peer");
    }

    [Theory]
    [InlineData("Http:KnownProxies", "127.0.0.1", "::1")]
    [InlineData("Http:KnownNetworks", "127.0.0.0/8", "::1/128")]
    public async Task A_forwarded_address_from_a_trusted_proxy_is_the_clients(string key, string ipv4, string ipv6)
    {
        // Loopback over IPv4 or IPv6, whichever the client picks for localhost.
        await using var host = await StartAsync(($"{key}:0", ipv4), ($"{key}:1", ipv6));

        var distinct = await LoginsAsync(host, "203.0.113.1", "203.0.113.2", "203.0.113.3");
        var same = await LoginsAsync(host, "198.51.100.7", "198.51.100.7", "198.51.100.7");

        distinct.ShouldAllBe(s => s == HttpStatusCode.Unauthorized);
        same.ShouldBe([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests]);
    }

    [Theory]
    [InlineData(null, null, "Http:KnownProxies")]
    [InlineData("Http:KnownProxies:0", "not-an-address", "Http:KnownProxies")]
    [InlineData("Http:KnownNetworks:0", "10.0.0.0/99", "Http:KnownNetworks")]
    public async Task Trusting_forwarded_headers_without_a_valid_proxy_list_stops_start_up(string? key, string? value, string named)
    {
        await using var host = new SqliteFactory();
        host.With("Http:TrustForwardedHeaders", "true");
        if (key is not null)
        {
            host.With(key, value);
        }

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain(named);
        if (key is null)
        {
            error.Message.ShouldContain("Http:KnownNetworks");
        }
    }

    private static async Task<SqliteFactory> StartAsync(params (string Key, string Value)[] proxies)
    {
        var host = new SqliteFactory();
        host.With("Http:TrustForwardedHeaders", "true").With("Auth:RateLimitPermits", "2");
        foreach (var (key, value) in proxies)
        {
            host.With(key, value);
        }

        await host.InitializeAsync();
        return host;
    }

    private static async Task<HttpStatusCode[]> LoginsAsync(AapFactory host, params string[] forwardedFor)
    {
        var statuses = new List<HttpStatusCode>();
        using var client = host.Client();
        foreach (var address in forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/login")
            {
                Content = JsonContent.Create(new { login = "nobody@example.test", password = "wrong password" }),
            };
            request.Headers.Add("X-Forwarded-For", address);
            using var response = await client.SendAsync(request, Ct);
            statuses.Add(response.StatusCode);
        }

        return [.. statuses];
    }
}
