using System.Net;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Security;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>What identity needs at start-up, hash upgrades, log hygiene and the per-address limit on the auth endpoints.</summary>
public sealed class IdentityStartupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_configured_first_admin_is_created_once_on_start()
    {
        await using var host = new SqliteFactory();
        host.With("Bootstrap:Admin:UserName", "root").With("Bootstrap:Admin:Email", "root@example.test").With("Bootstrap:Admin:Password", Accounts.Password);
        await host.InitializeAsync();

        var admin = await host.DbAsync(db => db.Set<User>().AsNoTracking().SingleAsync(u => u.UserName == "root", Ct));
        admin.Role.ShouldBe(Roles.Admin);
        admin.PasswordHash.ShouldNotBeNullOrEmpty();
        admin.PasswordHash.ShouldNotContain(Accounts.Password);

        using var settings = await (await host.ClientForAsync(new TestAccount(admin.Id, "root", "root@example.test", Accounts.Password))).GetAsync("/api/v1/admin/settings", Ct);
        settings.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_first_admin_with_a_weak_password_stops_start_up_naming_the_setting()
    {
        await using var host = new SqliteFactory();
        host.With("Bootstrap:Admin:UserName", "root").With("Bootstrap:Admin:Password", "short");

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain("Bootstrap:Admin:Password");
    }

    [Fact]
    public async Task A_first_admin_with_a_common_password_stops_start_up_saying_why()
    {
        await using var host = new SqliteFactory();
        host.With("Bootstrap:Admin:UserName", "root").With("Bootstrap:Admin:Password", "password123");

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain($"Bootstrap:Admin:Password: {CommonPasswords.Explanation}");
    }

    [Fact]
    public async Task Outside_Development_a_missing_signing_key_stops_start_up_naming_the_setting()
    {
        await using var host = new SqliteFactory();
        host.With("Auth:SigningKey", "");

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain("Auth:SigningKey");
    }

    [Fact]
    public async Task A_signing_key_too_short_to_be_safe_stops_start_up()
    {
        await using var host = new SqliteFactory();
        host.With("Auth:SigningKey", Convert.ToBase64String(new byte[16]));

        var error = await Should.ThrowAsync<OptionsValidationException>(async () => await host.InitializeAsync());

        error.Message.ShouldContain("Auth:SigningKey");
    }

    [Fact]
    public async Task Too_many_logins_from_one_address_get_429_with_Retry_After()
    {
        await using var host = new SqliteFactory();
        host.With("Auth:RateLimitPermits", "3").With("Auth:RateLimitWindowSeconds", "60");
        await host.InitializeAsync();
        using var client = host.Client();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 4; i++)
        {
            var response = await client.PostJsonAsync("/api/v1/auth/login", new { login = "nobody", password = "whatever it is" });
            statuses.Add(response.StatusCode);
            limited = response;
        }

        statuses.ShouldBe([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests]);
        await Problem.ReadAsync(limited!, HttpStatusCode.TooManyRequests, "rate_limited");
        int.Parse(limited!.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture).ShouldBeInRange(1, 60);
        using var status = await client.GetAsync("/api/v1/status", Ct);
        status.StatusCode.ShouldBe(HttpStatusCode.OK, "only the auth endpoints are limited");
        limited.Dispose();
    }

    [Fact]
    public async Task Development_generates_a_signing_key_once_and_keeps_it_in_the_data_folder()
    {
        await using var host = new SqliteFactory();
        host.With("Auth:SigningKey", "");
        host.UseEnvironment("Development");
        await host.InitializeAsync();
        var account = await host.RegisterAsync();
        var token = (await host.LoginAsync(account)).AccessToken;

        var keyFile = Path.Combine(host.DataDirectory, "keys", "jwt-signing-key.json");
        File.Exists(keyFile).ShouldBeTrue();
        var firstKey = await File.ReadAllTextAsync(keyFile, Ct);
        new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(token).Kid.ShouldStartWith("dev-");

        await host.DisposeLoggingAsync();
        (await File.ReadAllTextAsync(keyFile, Ct)).ShouldBe(firstKey);
    }

    [Fact]
    public async Task A_hash_made_with_fewer_iterations_is_upgraded_at_the_next_login()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        var account = await host.RegisterAsync();
        var weak = new Microsoft.AspNetCore.Identity.PasswordHasher<User>(Microsoft.Extensions.Options.Options.Create(
            new Microsoft.AspNetCore.Identity.PasswordHasherOptions { IterationCount = 100_000 })).HashPassword(new User(), account.Password);
        await host.DbAsync(db => db.Set<User>().Where(u => u.Id == account.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.PasswordHash, weak), Ct));
        Iterations(weak).ShouldBe(100_000);

        await host.LoginAsync(account);

        var upgraded = await host.DbAsync(db => db.Set<User>().Where(u => u.Id == account.Id).Select(u => u.PasswordHash).SingleAsync(Ct));
        Iterations(upgraded!).ShouldBe(210_000);
        (await host.LoginAsync(account)).AccessToken.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Logs_have_one_event_per_request_and_never_a_password_or_token()
    {
        await using var host = new SqliteFactory();
        await host.InitializeAsync();
        const string password = "pw-that-must-never-be-logged";
        var account = await host.RegisterAsync();
        using (var client = host.Client())
        {
            using var change = await (await host.ClientForAsync(account)).PostJsonAsync("/api/v1/me/password", new { current_password = account.Password, new_password = password });
            change.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var tokens = await host.LoginAsync(account with { Password = password });
        using var me = await (await host.ClientForAsync(account with { Password = password })).GetAsync("/api/v1/me", Ct);
        using var bad = await host.Client().PostJsonAsync("/api/v1/auth/login", new { login = account.UserName, password = "wrong-" + password });
        await host.DisposeLoggingAsync();

        var log = string.Join("\n", LogFiles.ReadAll(host.DataDirectory));
        log.ShouldNotContain(password);
        log.ShouldNotContain(account.Password);
        log.ShouldNotContain(tokens.RefreshToken);
        log.ShouldNotContain(tokens.AccessToken.Split('.')[2]);
        var requests = LogFiles.ReadAll(host.DataDirectory).Where(l => l.Contains("\"RequestPath\":\"/api/v1/me\"", StringComparison.Ordinal)).ToList();
        var meEvent = requests.ShouldHaveSingleItem(log);
        meEvent.ShouldContain("\"StatusCode\":200");
        meEvent.ShouldContain("\"Elapsed\":");
        meEvent.ShouldContain($"\"UserId\":\"{account.Id}\"");
        meEvent.ShouldContain("\"RequestId\":\"");
        log.ShouldContain("Login failed");
    }

    /// <summary>The iteration count of an Identity V3 hash: format byte, PRF (4 bytes), iterations (4 bytes, big-endian).</summary>
    private static int Iterations(string hash) =>
        System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(Convert.FromBase64String(hash).AsSpan(5, 4));
}
