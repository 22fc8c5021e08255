using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Persistence;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>
/// What Identity promises the routes built on it: both "me" routes give one answer, a refresh that fails half-way
/// leaves its token usable, and a request that names an unknown logout scope is refused before anything ends.
/// </summary>
public abstract class IdentitySurfaceTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_deactivated_account_gets_the_same_answer_from_both_me_routes()
    {
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);
        using (var v1 = await client.GetAsync("/api/v1/me", Ct))
        using (var seed = await client.GetAsync("/api/me/", Ct))
        {
            v1.StatusCode.ShouldBe(HttpStatusCode.OK);
            (await seed.JsonAsync()).GetProperty("username").GetString().ShouldBe(account.UserName);
        }

        await factory.DbAsync(async db =>
        {
            var user = await db.Set<User>().SingleAsync(u => u.Id == account.Id, Ct);
            user.IsActive = false;
            await db.SaveChangesAsync(Ct);
        });

        using var v1Gone = await client.GetAsync("/api/v1/me", Ct);
        using var seedGone = await client.GetAsync("/api/me/", Ct);
        var v1Problem = await Problem.ReadAsync(v1Gone, HttpStatusCode.Unauthorized, "unauthorized");
        var seedProblem = await Problem.ReadAsync(seedGone, HttpStatusCode.Unauthorized, "unauthorized");
        v1Problem.GetProperty("detail").GetString().ShouldBe("The account no longer exists or is deactivated.");
        seedProblem.GetProperty("detail").GetString().ShouldBe(v1Problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_refresh_that_fails_before_it_commits_leaves_the_token_usable_and_the_session_alive()
    {
        var failure = new FailOnce(command =>
            command.CommandText.Contains("INSERT INTO", StringComparison.OrdinalIgnoreCase) &&
            command.CommandText.Contains("refresh_tokens", StringComparison.Ordinal));
        await using var host = factory.Provider == DatabaseProvider.Postgres ? (AapFactory)new PostgresFactory() : new SqliteFactory();
        host.WithServices(services => services.AddSingleton<IInterceptor>(failure));
        await host.InitializeAsync();
        var account = await host.RegisterAsync();
        var tokens = await host.LoginAsync(account);

        failure.Arm();
        using (var failed = await host.Client().PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken }))
        {
            await Problem.ReadAsync(failed, HttpStatusCode.InternalServerError, "internal_error");
        }

        failure.Failed.ShouldBeTrue("the successor's INSERT was reached and failed");
        var stored = await host.DbAsync(db => db.Set<RefreshToken>().AsNoTracking().Where(t => t.UserId == account.Id).ToListAsync(Ct));
        var presented = stored.ShouldHaveSingleItem("no successor was left behind");
        presented.UsedAt.ShouldBeNull("the claim was rolled back with the INSERT");
        presented.ReplacedById.ShouldBeNull();
        presented.RevokedAt.ShouldBeNull();

        using var retry = await host.Client().PostJsonAsync("/api/v1/auth/refresh", new { refresh_token = tokens.RefreshToken });
        var body = await retry.JsonAsync();
        retry.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        var renewed = body.GetProperty("data").GetProperty("access_token").GetString()!;
        (await host.DbAsync(db => db.Set<EndedSession>().AnyAsync(Ct)))
            .ShouldBeFalse("the retry is not taken for a replay");
        (await MeStatusAsync(host, tokens.AccessToken)).ShouldBe(HttpStatusCode.OK, "the session was not revoked");
        (await MeStatusAsync(host, renewed)).ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("everything")]
    [InlineData("")]
    [InlineData("ALL")]
    public async Task An_unknown_logout_scope_is_a_400_naming_the_scope_and_ends_nothing(string scope)
    {
        var account = await factory.RegisterAsync();
        var tokens = await factory.LoginAsync(account);
        using var logout = await factory.Client().PostJsonAsync("/api/v1/auth/logout", new { refresh_token = tokens.RefreshToken, scope });

        var problem = await Problem.ReadAsync(logout, HttpStatusCode.BadRequest, "validation_failed");
        problem.GetProperty("detail").GetString().ShouldBe("One or more fields are invalid.");
        Problem.FieldErrors(problem, "scope").ShouldBe(["Use 'current' or 'all'."]);
        (await MeStatusAsync(factory, tokens.AccessToken)).ShouldBe(HttpStatusCode.OK);
    }

    private static async Task<HttpStatusCode> MeStatusAsync(AapFactory host, string accessToken)
    {
        using var client = host.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await client.GetAsync("/api/v1/me", Ct);
        return response.StatusCode;
    }

    /// <summary>Once armed, fails the first command it matches, before it reaches the database.</summary>
    private sealed class FailOnce(Func<DbCommand, bool> matches) : DbCommandInterceptor
    {
        private int _state; // 0: idle, 1: armed, 2: failed

        public bool Failed => Volatile.Read(ref _state) == 2;

        public void Arm() => Interlocked.CompareExchange(ref _state, 1, 0);

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Fail(command);
            return ValueTask.FromResult(result);
        }

        public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            Fail(command);
            return ValueTask.FromResult(result);
        }

        private void Fail(DbCommand command)
        {
            if (matches(command) && Interlocked.CompareExchange(ref _state, 2, 1) == 1)
            {
                throw new InvalidOperationException("Simulated failure of the successor's INSERT.");
            }
        }
    }

    public sealed class OnSqlite(SqliteFactory factory) : IdentitySurfaceTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : IdentitySurfaceTests(factory), IClassFixture<PostgresFactory>;
}
