using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>
/// <c>GET /api/v1/me</c> answers from a per-node cache of accounts: these tests hold it to never answering an
/// account as it was before a change saved through AAP, on this node or, on PostgreSQL, on another one.
/// </summary>
public abstract class ProfileCacheTests(AapFactory factory)
{
    private const string Me = "/api/v1/me";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Me_follows_every_change_saved_to_the_account()
    {
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);
        (await MeAsync(client)).GetProperty("username").GetString().ShouldBe(account.UserName);

        var renamed = $"renamed_{account.Id}";
        await RenameAsync(client, renamed);

        (await MeAsync(client)).GetProperty("username").GetString().ShouldBe(renamed);

        // A change made by other code of the service (an admin action, say) through the database context.
        await factory.DbAsync(async db =>
        {
            var user = await db.Users.SingleAsync(u => u.Id == account.Id, Ct);
            user.Role = Roles.Admin;
            await db.SaveChangesAsync(Ct);
        });
        (await MeAsync(client)).GetProperty("role").GetString().ShouldBe(Roles.Admin);

        await factory.DbAsync(async db =>
        {
            var user = await db.Users.SingleAsync(u => u.Id == account.Id, Ct);
            user.IsActive = false;
            await db.SaveChangesAsync(Ct);
        });
        using var gone = await client.GetAsync(Me, Ct);
        gone.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Reads_racing_renames_never_leave_an_old_name_behind()
    {
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);

        for (var round = 0; round < 10; round++)
        {
            var name = $"race_{round}_{account.Id}";
            var readers = Enumerable.Range(0, 8).Select(_ => client.GetAsync(Me, Ct)).ToList();
            await RenameAsync(client, name);
            foreach (var response in await Task.WhenAll(readers))
            {
                response.Dispose();
            }

            (await MeAsync(client)).GetProperty("username").GetString().ShouldBe(name);
        }
    }

    internal static async Task RenameAsync(HttpClient client, string username)
    {
        using var put = await client.PutAsJsonAsync(Me, new { username }, Ct);
        put.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    internal static async Task<JsonElement> MeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(Me, Ct);
        var body = await response.JsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToString());
        return body.GetProperty("data");
    }

    public sealed class OnSqlite(SqliteFactory factory) : ProfileCacheTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : ProfileCacheTests(factory), IClassFixture<PostgresFactory>, IAsyncLifetime
    {
        private readonly PostgresFactory _otherNode = PostgresFactory.AnotherNodeOf(factory);

        public async ValueTask InitializeAsync()
        {
            await _otherNode.InitializeAsync();
            await ListeningAsync(factory);
            await ListeningAsync(_otherNode);
        }

        public async ValueTask DisposeAsync() => await _otherNode.DisposeAsync();

        [Fact]
        public async Task A_change_saved_on_another_node_is_seen_here_at_once()
        {
            var (account, here, there) = await SignedInOnBothNodesAsync();
            using var disposeHere = here;
            using var disposeThere = there;

            // Shows that this node answers from its cache: a row edited by hand, behind AAP's back, is not seen yet.
            (await SqlAsync("UPDATE users SET email = 'by-hand@example.test' WHERE id = @id RETURNING id", account.Id)).ShouldBe(account.Id);

            (await MeAsync(here)).GetProperty("email").GetString().ShouldBe(account.Email);

            var renamed = $"elsewhere_{account.Id}";
            await RenameAsync(there, renamed);

            var me = await EventuallyAsync(here, m => m.GetProperty("username").GetString() == renamed);
            me.GetProperty("email").GetString().ShouldBe("by-hand@example.test");
        }

        [Fact]
        public async Task A_node_that_loses_the_notifications_stops_caching_until_it_hears_them_again()
        {
            var cache = factory.Services.GetRequiredService<ProfileCache>();
            var (account, here, there) = await SignedInOnBothNodesAsync();
            using var disposeHere = here;
            using var disposeThere = there;

            // Both nodes' listening connections end, as they would if the database restarted.
            (await SqlAsync(
                $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN {ProfileCache.Channel}%'"))
                .ShouldBe(2L);

            await WaitForAsync(() => !cache.Coherent);
            var renamed = $"unheard_{account.Id}";
            await RenameAsync(there, renamed);

            // Whatever it missed, this node reads the database, then caches again once it listens again.
            (await MeAsync(here)).GetProperty("username").GetString().ShouldBe(renamed);
            await ListeningAsync(factory);
            await ListeningAsync(_otherNode);
            var again = $"heard_{account.Id}";
            (await MeAsync(here)).GetProperty("username").GetString().ShouldBe(renamed);
            await RenameAsync(there, again);

            await EventuallyAsync(here, m => m.GetProperty("username").GetString() == again);
        }

        // An account signed in on both nodes, which this node has just answered (and cached).
        private async Task<(TestAccount Account, HttpClient Here, HttpClient There)> SignedInOnBothNodesAsync()
        {
            var account = await factory.RegisterAsync();
            var here = await factory.ClientForAsync(account);
            var there = await _otherNode.ClientForAsync(account);
            (await MeAsync(here)).GetProperty("username").GetString().ShouldBe(account.UserName);
            return (account, here, there);
        }

        private async Task<object?> SqlAsync(string sql, long? id = null)
        {
            await using var connection = new NpgsqlConnection(factory.ConnectionString);
            await connection.OpenAsync(Ct);
            await using var command = new NpgsqlCommand(sql, connection);
            if (id is { } value)
            {
                command.Parameters.AddWithValue("id", value);
            }

            return await command.ExecuteScalarAsync(Ct);
        }

        private static Task ListeningAsync(PostgresFactory node)
        {
            var cache = node.Services.GetRequiredService<ProfileCache>();
            return WaitForAsync(() => cache.Coherent);
        }

        private static async Task WaitForAsync(Func<bool> condition)
        {
            for (var waited = 0; !condition(); waited += 50)
            {
                waited.ShouldBeLessThan(15_000, "the condition did not come true within 15 s");
                await Task.Delay(50, Ct);
            }
        }

        // Notifications arrive within milliseconds; 5 s only bounds a slow machine.
        private static async Task<JsonElement> EventuallyAsync(HttpClient client, Func<JsonElement, bool> condition)
        {
            for (var waited = 0; ; waited += 50)
            {
                var me = await MeAsync(client);
                if (condition(me))
                {
                    return me;
                }

                waited.ShouldBeLessThan(5_000, $"still {me} after 5 s");
                await Task.Delay(50, Ct);
            }
        }
    }
}
