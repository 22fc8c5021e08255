using Aap.Api.Tests.Infrastructure;
using Npgsql;

namespace Aap.Api.Tests.Features.Identity;

/// <summary>
/// The other half of <see cref="ProfileCacheTests.OnPostgres"/>'s "a change made by hand is seen at once": with the
/// database trigger that announces it turned off, the same edit goes unseen, which shows that the node really answers
/// from its cache. The trigger stays off for the rest of this host's life, so the test has a host of its own.
/// </summary>
public sealed class UnannouncedEditTests(PostgresFactory factory) : IClassFixture<PostgresFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_edit_by_hand_with_the_announcing_trigger_off_goes_unseen()
    {
        await ProfileCacheTests.ListeningAsync(factory);
        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);
        (await ProfileCacheTests.MeAsync(client)).GetProperty("email").GetString().ShouldBe(account.Email);

        await SqlAsync("ALTER TABLE users DISABLE TRIGGER users_announce_update");
        (await SqlAsync("UPDATE users SET email = 'unannounced@example.test' WHERE id = @id", account.Id)).ShouldBe(1);

        (await ProfileCacheTests.MeAsync(client)).GetProperty("email").GetString().ShouldBe(account.Email);
    }

    /// <summary>Runs <paramref name="sql"/> on this host's database; the number of rows it changed.</summary>
    private async Task<int> SqlAsync(string sql, long? id = null)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        if (id is { } value)
        {
            command.Parameters.AddWithValue("id", value);
        }

        return await command.ExecuteNonQueryAsync(Ct);
    }
}
