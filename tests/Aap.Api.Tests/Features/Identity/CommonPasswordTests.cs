using System.Net;
using System.Text;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Settings;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>Common and breached passwords, and small variations of them, are refused wherever a password is set (ASVS 5.0 V6.2).</summary>
public abstract class CommonPasswordTests(AapFactory factory)
{
    private const string Setting = "auth.refuse_common_passwords";
    private readonly HttpClient _client = factory.Client();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("password")]
    [InlineData("12345678")]
    [InlineData("securepassword")]
    [InlineData("password123")]
    [InlineData("P@ssw0rd!")]
    [InlineData("qwertyuiop")]
    [InlineData("iloveyou2024")]
    [InlineData("drowssap1")]
    [InlineData("aaaaaaaaaaaa")]
    [InlineData("abcdefgh")]
    public async Task Registration_refuses_a_common_password_naming_the_field_and_saying_why(string password)
    {
        var email = $"{Guid.NewGuid():N}@example.test";

        using var response = await _client.PostJsonAsync("/api/v1/auth/register", new { email, password });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "password").ShouldBe([CommonPasswords.Explanation]);
        (await factory.DbAsync(db => db.Set<User>().AnyAsync(u => u.Email == email, Ct))).ShouldBeFalse();
    }

    [Theory]
    [InlineData("/api/register/")]
    [InlineData("/api/signup/")]
    [InlineData("/register")]
    public async Task Every_seed_registration_route_refuses_a_common_password(string path)
    {
        var name = $"u{Guid.NewGuid():N}"[..16];

        using var response = await _client.PostAsync(path, new StringContent(
            $$"""{"username": "{{name}}", "email": "{{name}}@example.test", "password": "securepassword"}""", Encoding.UTF8, "application/json"), Ct);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "password").ShouldBe([CommonPasswords.Explanation]);
        (await factory.DbAsync(db => db.Set<User>().AnyAsync(u => u.UserName == name, Ct))).ShouldBeFalse();
    }

    [Fact]
    public async Task A_password_made_from_the_username_is_refused()
    {
        var name = $"zq{Guid.NewGuid():N}"[..12];

        using var response = await _client.PostJsonAsync("/api/v1/auth/register", new { username = name, password = $"{name}2024" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "password").ShouldBe([CommonPasswords.Explanation]);
    }

    [Theory]
    [InlineData("correct horse battery")]
    [InlineData("48205917")]
    [InlineData("kqzvmtre")]
    [InlineData("pässwörd ✓ 日本語")]
    public async Task Uncommon_passwords_are_accepted_whatever_characters_they_use(string password)
    {
        using var response = await _client.PostJsonAsync("/api/v1/auth/register", new { email = $"{Guid.NewGuid():N}@example.test", password });

        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Long_passwords_are_checked_too()
    {
        // Only the first 40 characters are estimated (the cost grows with length): a common word followed by
        // random text passes, a long repetition of a common password does not.
        var strong = "password" + Convert.ToHexString(Guid.NewGuid().ToByteArray()) + new string('x', 80);
        var weak = string.Concat(Enumerable.Repeat("password", 16));

        using var accepted = await _client.PostJsonAsync("/api/v1/auth/register", new { email = $"{Guid.NewGuid():N}@example.test", password = strong });
        using var refused = await _client.PostJsonAsync("/api/v1/auth/register", new { email = $"{Guid.NewGuid():N}@example.test", password = weak });

        accepted.StatusCode.ShouldBe(HttpStatusCode.Created);
        var problem = await Problem.ReadAsync(refused, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "password").ShouldBe([CommonPasswords.Explanation]);
    }

    [Fact]
    public async Task A_password_change_to_a_common_password_is_refused_and_the_old_password_still_works()
    {
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);

        using var response = await client.PostJsonAsync("/api/v1/me/password", new { current_password = account.Password, new_password = "Password1!" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "new_password").ShouldBe([CommonPasswords.Explanation]);
        (await factory.LoginAsync(account)).AccessToken.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task An_admin_can_switch_the_check_off_for_the_seed_walkthroughs_and_on_again()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());

        using var off = await PutAsync(admin, "0");
        using var acceptedWhileOff = await _client.PostJsonAsync("/api/v1/auth/register", new { email = $"{Guid.NewGuid():N}@example.test", password = "password" });
        using var on = await PutAsync(admin, "1");
        using var refusedWhenOn = await _client.PostJsonAsync("/api/v1/auth/register", new { email = $"{Guid.NewGuid():N}@example.test", password = "password" });
        using var outOfBounds = await PutAsync(admin, "2");

        off.StatusCode.ShouldBe(HttpStatusCode.OK);
        acceptedWhileOff.StatusCode.ShouldBe(HttpStatusCode.Created);
        on.StatusCode.ShouldBe(HttpStatusCode.OK);
        await Problem.ReadAsync(refusedWhenOn, HttpStatusCode.BadRequest, "validation_failed");
        outOfBounds.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var changes = await factory.DbAsync(db => db.Set<RuntimeSettingChange>().AsNoTracking().Where(c => c.Key == Setting).OrderBy(c => c.Id).Select(c => c.NewValue).ToListAsync(Ct));
        changes.ShouldBe(["0", "1"]);
    }

    [Fact]
    public async Task The_length_rule_is_reported_before_the_common_password_rule()
    {
        using var response = await _client.PostJsonAsync("/api/v1/auth/register", new { email = $"{Guid.NewGuid():N}@example.test", password = "1234567" });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed");
        Problem.FieldErrors(problem, "password").ShouldBe(["A password has 8 to 128 characters."]);
    }

    private static Task<HttpResponseMessage> PutAsync(HttpClient client, string jsonValue) =>
        client.PutAsync($"/api/v1/admin/settings/{Setting}", new StringContent($$"""{"value": {{jsonValue}}}""", Encoding.UTF8, "application/json"), Ct);

    public sealed class OnSqlite(SqliteFactory factory) : CommonPasswordTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : CommonPasswordTests(factory), IClassFixture<PostgresFactory>;
}
