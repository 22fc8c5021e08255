using System.Net;
using System.Net.Http.Headers;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>An account a test created, with the credentials it logs in with.</summary>
public sealed record TestAccount(long Id, string? UserName, string? Email, string Password);

/// <summary>Tokens from a login.</summary>
public sealed record TestTokens(string AccessToken, string RefreshToken);

/// <summary>Creates accounts through the real API (or, for admins, through the account service) and logs them in.</summary>
public static class Accounts
{
    /// <summary>
    /// The password test accounts use, and the one to use wherever a test needs a valid password: long, and in no
    /// common-password list, so it passes every password rule. Tests that replay a seed's walkthrough verbatim keep
    /// the seed's own example password instead.
    /// </summary>
    public const string Password = "correct horse battery";

    /// <summary>A new user with a unique username and email, registered through <c>POST /api/v1/auth/register</c>.</summary>
    public static async Task<TestAccount> RegisterAsync(this AapFactory factory, string? userName = null, string? email = null)
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        userName ??= $"user_{tag}";
        email ??= $"{tag}@example.test";
        using var client = factory.Client();
        using var response = await client.PostJsonAsync("/api/v1/auth/register", new { username = userName, email, password = Password });
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return new TestAccount(body.GetProperty("data").GetProperty("id").GetInt64(), userName, email, Password);
    }

    /// <summary>A new admin, created as the bootstrap would (admins cannot register themselves).</summary>
    public static async Task<TestAccount> CreateAdminAsync(this AapFactory factory)
    {
        var tag = Guid.NewGuid().ToString("N")[..10];
        var created = await factory.ServiceAsync<AccountService, Result<Account>>(accounts =>
            accounts.RegisterAsync($"{tag}@admin.test", $"admin_{tag}", Password, Roles.Admin, CancellationToken.None));
        created.Succeeded.ShouldBeTrue(created.Failure?.Detail);
        return new TestAccount(created.Value.Id, created.Value.UserName, created.Value.Email, Password);
    }

    public static async Task<TestTokens> LoginAsync(this AapFactory factory, TestAccount account)
    {
        using var client = factory.Client();
        using var response = await client.PostJsonAsync("/api/v1/auth/login", new { login = account.UserName ?? account.Email, password = account.Password });
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        var data = body.GetProperty("data");
        return new TestTokens(data.GetProperty("access_token").GetString()!, data.GetProperty("refresh_token").GetString()!);
    }

    /// <summary>A client that sends the account's access token as a bearer token.</summary>
    public static async Task<HttpClient> ClientForAsync(this AapFactory factory, TestAccount account)
    {
        var tokens = await factory.LoginAsync(account);
        var client = factory.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        return client;
    }
}
