using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
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
            var user = await db.Set<User>().SingleAsync(u => u.Id == account.Id, Ct);
            user.Role = Roles.Admin;
            await db.SaveChangesAsync(Ct);
        });
        (await MeAsync(client)).GetProperty("role").GetString().ShouldBe(Roles.Admin);

        // And one inside a transaction of its own: seen once the transaction commits.
        await factory.DbAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(Ct);
            var user = await db.Set<User>().SingleAsync(u => u.Id == account.Id, Ct);
            user.IsActive = false;
            await db.SaveChangesAsync(Ct);
            await transaction.CommitAsync(Ct);
        });
        using var gone = await client.GetAsync(Me, Ct);
        gone.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_read_that_ran_before_a_rename_does_not_leave_the_old_name_behind()
    {
        // Holds the read of /me after the database has answered it, until the rename has committed.
        var gate = new CommandGate(command =>
            command.CommandText.Contains("is_active", StringComparison.Ordinal) &&
            !command.CommandText.Contains("password_hash", StringComparison.Ordinal));
        await using var host = NewHost();
        host.WithServices(services => services.AddSingleton<IInterceptor>(gate));
        await host.InitializeAsync();
        await ListeningAsync(host);
        var account = await host.RegisterAsync();
        using var client = await host.ClientForAsync(account);

        gate.Arm();
        var slowRead = client.GetAsync(Me, Ct);
        await gate.Reached.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        var renamed = $"after_{account.Id}";
        await RenameAsync(client, renamed);
        gate.Release();
        using (var old = await slowRead)
        {
            (await old.JsonAsync()).GetProperty("data").GetProperty("username").GetString().ShouldBe(account.UserName);
        }

        (await MeAsync(client)).GetProperty("username").GetString().ShouldBe(renamed);
    }

    private AapFactory NewHost() => factory.Provider == DatabaseProvider.Postgres ? new PostgresFactory() : new SqliteFactory();

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

    /// <summary>Until a node listens for changes (PostgreSQL), it does not cache; SQLite nodes cache from the start.</summary>
    internal static Task ListeningAsync(AapFactory node)
    {
        var cache = node.Services.GetRequiredService<ProfileCache>();
        return WaitForAsync(() => cache.Coherent);
    }

    internal static async Task WaitForAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 50)
        {
            waited.ShouldBeLessThan(15_000, "the condition did not come true within 15 s");
            await Task.Delay(50, Ct);
        }
    }

    public sealed class OnSqlite(SqliteFactory factory) : ProfileCacheTests(factory), IClassFixture<SqliteFactory>
    {
        [Fact]
        public async Task Once_read_an_account_is_answered_from_memory()
        {
            var account = await factory.RegisterAsync();
            using var client = await factory.ClientForAsync(account);
            (await MeAsync(client)).GetProperty("email").GetString().ShouldBe(account.Email);

            // Another program edits the file: AAP does not see it, because it no longer reads the row.
            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(factory.DataDirectory, "aap.db")};Pooling=False"))
            {
                await connection.OpenAsync(Ct);
                await using var edit = connection.CreateCommand();
                edit.CommandText = "UPDATE users SET email = 'elsewhere@example.test' WHERE id = $id";
                edit.Parameters.AddWithValue("$id", account.Id);
                (await edit.ExecuteNonQueryAsync(Ct)).ShouldBe(1);
            }

            (await MeAsync(client)).GetProperty("email").GetString().ShouldBe(account.Email);
        }
    }

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
        public async Task A_change_made_on_another_node_or_by_hand_is_seen_here_at_once()
        {
            var (account, here, there) = await SignedInOnBothNodesAsync();
            using var disposeHere = here;
            using var disposeThere = there;

            var renamed = $"elsewhere_{account.Id}";
            await RenameAsync(there, renamed);
            await EventuallyAsync(here, m => m.GetProperty("username").GetString() == renamed);

            await SqlAsync("UPDATE users SET email = 'by-hand@example.test' WHERE id = @id", account.Id);
            await EventuallyAsync(here, m => m.GetProperty("email").GetString() == "by-hand@example.test");
        }

        [Fact]
        public async Task A_node_that_cannot_hear_the_changes_reads_the_database()
        {
            // A node that waits long before listening again, so that the test runs while it is deaf.
            await using var deafNode = PostgresFactory.AnotherNodeOf(factory).With("Database:ListenRetrySeconds", "60");
            await deafNode.InitializeAsync();
            await ListeningAsync(deafNode);
            var cache = deafNode.Services.GetRequiredService<ProfileCache>();
            var account = await factory.RegisterAsync();
            using var deaf = await deafNode.ClientForAsync(account);
            using var there = await _otherNode.ClientForAsync(account);

            (await KillListenersAsync()).ShouldBe(3L);
            await WaitForAsync(() => !cache.Coherent);
            (await MeAsync(deaf)).GetProperty("username").GetString().ShouldBe(account.UserName);
            var renamed = $"unheard_{account.Id}";
            await RenameAsync(there, renamed);

            (await MeAsync(deaf)).GetProperty("username").GetString().ShouldBe(renamed);
            cache.Coherent.ShouldBeFalse("the node was to be still deaf here");
        }

        [Fact]
        public async Task A_node_listens_again_after_losing_the_connection()
        {
            var (account, here, there) = await SignedInOnBothNodesAsync();
            using var disposeHere = here;
            using var disposeThere = there;

            (await KillListenersAsync()).ShouldBe(2L);
            await WaitForAsync(() => !factory.Services.GetRequiredService<ProfileCache>().Coherent);
            await ListeningAsync(factory);
            (await MeAsync(here)).GetProperty("username").GetString().ShouldBe(account.UserName);

            var renamed = $"heard_{account.Id}";
            await RenameAsync(there, renamed);
            await EventuallyAsync(here, m => m.GetProperty("username").GetString() == renamed);
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

        // Ends the listening connections of every node on this database, as a database restart would.
        private async Task<object?> KillListenersAsync() => await SqlAsync(
            $"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'");

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
