using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Cli;

/// <summary>
/// In Development the first start creates an admin and prints its credentials once, on standard output; a later
/// start (an admin exists) prints nothing of it.
/// </summary>
public sealed partial class DevelopmentAdminTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("aap-devadmin-");

    public void Dispose() => _folder.Delete(recursive: true);

    private Dictionary<string, string?> Environment(string environment) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = environment,
        ["DOTNET_ENVIRONMENT"] = environment,
        ["AAP_DATA_DIR"] = Path.Combine(_folder.FullName, "data"),
        ["Log__ConsoleFormat"] = "text",
    };

    [Fact]
    public async Task The_first_development_start_prints_a_working_admin_once()
    {
        string password;
        await using (var first = new RunningService(_folder.FullName, Environment("Development"), "--urls", "http://127.0.0.1:0"))
        {
            var login = await first.WaitForAsync(LoginLine(), Ct);
            password = (await first.WaitForAsync(PasswordLine(), Ct)).Groups["password"].Value;
            (await first.WaitForAsync(UserNameLine(), Ct)).Groups["user"].Value.ShouldBe("admin");
            first.Output.ShouldContain("/api/v1/me/password");
            Regex.Count(first.Output, Regex.Escape(password)).ShouldBe(1, "printed once, never logged");

            using var client = new HttpClient();
            using var response = await client.PostAsJsonAsync(new Uri(login.Groups["url"].Value), new { username = "admin", password }, Ct);
            var body = await response.JsonAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
            body.GetProperty("data").GetProperty("access_token").GetString().ShouldNotBeNullOrEmpty();

            var signIn = (await first.WaitForAsync(SignInLine(), Ct)).Groups["url"].Value;
            using var page = await client.GetAsync(new Uri(signIn), Ct);
            page.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await page.Content.ReadAsStringAsync(Ct)).ShouldContain("<form");
        }

        await using var second = new RunningService(_folder.FullName, Environment("Development"), "--urls", "http://127.0.0.1:0");
        var address = (await second.WaitForAsync(Listening(), Ct)).Value;
        using (var client = new HttpClient())
        using (var status = await client.GetAsync(new Uri($"{address}/api/v1/status"), Ct))
        {
            status.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // The admin is decided before the server listens, and announced in the log then; neither happened.
        second.Output.ShouldNotContain("development admin");
        second.Output.ShouldNotContain(password);
    }

    [Fact]
    public async Task Production_creates_no_development_admin()
    {
        var environment = Environment("Production");
        environment["Auth__SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
        environment["Storage__LinkSigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48));
        await using var service = new RunningService(_folder.FullName, environment, "--urls", "http://127.0.0.1:0");

        var address = (await service.WaitForAsync(Listening(), Ct)).Value;
        using var client = new HttpClient();
        using var login = await client.PostAsJsonAsync(new Uri($"{address}/api/v1/auth/login"), new { username = "admin", password = "not-known-here" }, Ct);

        login.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        service.Output.ShouldNotContain("development admin");
    }

    [GeneratedRegex(@"Sign in:\s+(?<url>http://127\.0\.0\.1:[0-9]+/account/sign-in) in a browser, then the admin panel at http://127\.0\.0\.1:[0-9]+/admin")]
    private static partial Regex SignInLine();

    [GeneratedRegex(@"Log in:\s+POST (?<url>http://127\.0\.0\.1:[0-9]+/api/v1/auth/login)")]
    private static partial Regex LoginLine();

    [GeneratedRegex(@"^\s+Username:\s+(?<user>\S+)\s*$")]
    private static partial Regex UserNameLine();

    [GeneratedRegex(@"^\s+Password:\s+(?<password>\S+)\s*$")]
    private static partial Regex PasswordLine();

    [GeneratedRegex(@"http://127\.0\.0\.1:[0-9]+")]
    private static partial Regex Listening();
}
