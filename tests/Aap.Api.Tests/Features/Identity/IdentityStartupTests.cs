using System.Net;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>What identity needs at start-up, and the per-address limit on the auth endpoints.</summary>
public sealed class IdentityStartupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_configured_first_admin_is_created_once_on_start()
    {
        await using var host = new SqliteFactory();
        host.With("Bootstrap:Admin:UserName", "root").With("Bootstrap:Admin:Email", "root@example.test").With("Bootstrap:Admin:Password", "a long admin secret");
        await host.InitializeAsync();

        var admin = await host.DbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.UserName == "root", Ct));
        admin.Role.ShouldBe(Roles.Admin);
        admin.PasswordHash.ShouldNotBeNullOrEmpty();
        admin.PasswordHash.ShouldNotContain("a long admin secret");

        using var settings = await (await host.ClientForAsync(new TestAccount(admin.Id, "root", "root@example.test", "a long admin secret"))).GetAsync("/api/v1/admin/settings", Ct);
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
}
