using System.Net;
using System.Net.Http.Json;
using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using static Aap.Api.Tests.Infrastructure.Images;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>Completions with screenshot proof, reviews, the points ledger and transfers.</summary>
public abstract class RewardsTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Completing_an_app_with_a_screenshot_credits_its_points_once()
    {
        var user = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(user);
        var app = await factory.AddAppAsync(points: 40);

        using var first = await client.CompleteAsync(app, Screenshot());
        using var again = await client.CompleteAsync(app, Screenshot());

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var completion = (await first.JsonAsync()).GetProperty("data");
        completion.GetProperty("status").GetString().ShouldBe("approved");
        completion.GetProperty("points").GetInt32().ShouldBe(40);
        await Problem.ReadAsync(again, HttpStatusCode.Conflict, "already_completed");
        (await client.BalanceAsync()).ShouldBe(40);
        await factory.AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task The_same_screenshot_for_two_of_ones_apps_is_refused_and_from_two_users_is_flagged()
    {
        using var alice = await factory.ClientForAsync(await factory.RegisterAsync());
        using var bob = await factory.ClientForAsync(await factory.RegisterAsync());
        var (first, second) = (await factory.AddAppAsync(), await factory.AddAppAsync());
        var proof = Screenshot();
        var filesBefore = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct));

        using var aliceFirst = await alice.CompleteAsync(first, proof);
        using var aliceAgain = await alice.CompleteAsync(second, proof);
        using var bobSame = await bob.CompleteAsync(first, proof);

        aliceFirst.StatusCode.ShouldBe(HttpStatusCode.Created);
        Problem.FieldErrors(await Problem.ReadAsync(aliceAgain, HttpStatusCode.Conflict, "duplicate_proof"), "screenshot").ShouldNotBeEmpty();
        bobSame.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await bobSame.JsonAsync()).GetProperty("data").GetProperty("flagged").GetBoolean().ShouldBeTrue();
        (await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct))).ShouldBe(filesBefore + 2, "the refused proof is not kept");
    }

    [Fact]
    public async Task Proof_another_user_already_sent_waits_for_review_even_with_review_off()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var alice = await factory.ClientForAsync(await factory.RegisterAsync());
        using var bob = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await factory.AddAppAsync(points: 15);
        var proof = Screenshot();
        using (var original = await alice.CompleteAsync(app, proof))
        {
            (await original.JsonAsync()).GetProperty("data").GetProperty("status").GetString().ShouldBe("approved", "review is off");
        }

        using var copy = await bob.CompleteAsync(app, proof);

        var completion = (await copy.JsonAsync()).GetProperty("data");
        copy.StatusCode.ShouldBe(HttpStatusCode.Created);
        (completion.GetProperty("flagged").GetBoolean(), completion.GetProperty("status").GetString()).ShouldBe((true, "pending"));
        (await bob.BalanceAsync()).ShouldBe(0);
        var id = completion.GetProperty("id").GetInt64();
        using var approve = await admin.PostAsync($"/api/v1/admin/completions/{id}/approve", null, Ct);
        approve.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await bob.BalanceAsync()).ShouldBe(15);
        await factory.AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task Deleting_a_completion_takes_back_exactly_its_points()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var (kept, removed) = (await factory.AddAppAsync(points: 10), await factory.AddAppAsync(points: 30));
        using (var a = await user.CompleteAsync(kept, Screenshot()))
        {
            a.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var b = await user.CompleteAsync(removed, Screenshot());
        var id = (await b.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        (await user.BalanceAsync()).ShouldBe(40);

        using var delete = await admin.DeleteAsync($"/api/v1/admin/completions/{id}", Ct);
        using var again = await admin.DeleteAsync($"/api/v1/admin/completions/{id}", Ct);

        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await Problem.ReadAsync(again, HttpStatusCode.NotFound, "not_found");
        (await user.BalanceAsync()).ShouldBe(10);
        using var ledger = await user.GetAsync("/api/v1/me/points/ledger", Ct);
        (await ledger.JsonAsync()).GetProperty("data").EnumerateArray().Select(e => (e.GetProperty("reason").GetString(), e.GetProperty("amount").GetInt64()))
            .ShouldBe([("reversal", -30L), ("completion", 30L), ("completion", 10L)]);
        await factory.AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task A_transfer_moves_points_once_per_idempotency_key_and_never_overdraws()
    {
        var sender = await factory.RegisterAsync();
        var recipient = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(sender);
        using (var earn = await client.CompleteAsync(await factory.AddAppAsync(points: 50), Screenshot()))
        {
            earn.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var first = await client.TransferAsync(recipient.UserName!, 20, "key-1");
        using var replay = await client.TransferAsync(recipient.UserName!, 20, "key-1");
        using var tooMuch = await client.TransferAsync(recipient.Email!, 31, "key-2");

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        replay.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await replay.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64().ShouldBe((await first.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64());
        await Problem.ReadAsync(tooMuch, HttpStatusCode.Conflict, "insufficient_points");
        (await client.BalanceAsync()).ShouldBe(30);
        using var recipientClient = await factory.ClientForAsync(recipient);
        (await recipientClient.BalanceAsync()).ShouldBe(20);
        await factory.AssertLedgerMatchesBalancesAsync();
    }

    [Theory]
    [InlineData(null, 5, "k", "to")]
    [InlineData("self", 5, "k", "to")]
    [InlineData("other", 0, "k", "amount")]
    [InlineData("other", -5, "k", "amount")]
    [InlineData("other", 5, null, "idempotency_key")]
    public async Task A_bad_transfer_is_a_400_naming_the_field(string? to, long amount, string? key, string field)
    {
        var me = await factory.RegisterAsync();
        var other = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(me);
        var recipient = to switch { "self" => me.UserName, "other" => other.UserName, _ => to };

        using var response = await client.TransferAsync(recipient, amount, key);

        Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), field).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Fifty_concurrent_transfers_never_overdraw_and_every_balance_equals_its_ledger()
    {
        var sender = await factory.RegisterAsync();
        var recipients = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => factory.RegisterAsync()));
        using var client = await factory.ClientForAsync(sender);
        using (var earn = await client.CompleteAsync(await factory.AddAppAsync(points: 100), Screenshot()))
        {
            earn.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await client.TransferAsync(recipients[i % 5].UserName!, 3, $"burst-{i}");
            return response.StatusCode;
        }));

        statuses.Count(s => s == HttpStatusCode.Created).ShouldBe(33, "100 points cover 33 transfers of 3");
        statuses.Count(s => s == HttpStatusCode.Conflict).ShouldBe(17);
        (await client.BalanceAsync()).ShouldBe(1);
        await factory.AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task Users_sending_each_other_points_at_the_same_time_are_all_answered_and_every_balance_equals_its_ledger()
    {
        // Each pair sends both ways at once, several times: on PostgreSQL each transfer locks two balances, and taking
        // them in opposite orders would deadlock (one of the two then fails) instead of one waiting for the other.
        var people = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => factory.RegisterAsync()));
        var clients = await Task.WhenAll(people.Select(p => factory.ClientForAsync(p)));
        var app = await factory.AddAppAsync(points: 100);
        foreach (var client in clients)
        {
            using var earn = await client.CompleteAsync(app, Screenshot());
            earn.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            // Pairs (0, 1) and (2, 3); even i from the first of the pair to the second, odd i back.
            var pair = i / 2 % 2 * 2;
            var (from, to) = i % 2 == 0 ? (pair, pair + 1) : (pair + 1, pair);
            using var response = await clients[from].TransferAsync(people[to].UserName!, 1, $"both-ways-{i}");
            return response.StatusCode;
        }));

        statuses.ShouldAllBe(s => s == HttpStatusCode.Created);
        foreach (var client in clients)
        {
            (await client.BalanceAsync()).ShouldBe(100, "each sent as many points as it received");
            client.Dispose();
        }

        await factory.AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task Fifty_users_completing_one_app_at_once_are_each_credited_once()
    {
        var app = await factory.AddAppAsync(points: 7);
        var clients = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ => await factory.ClientForAsync(await factory.RegisterAsync())));

        var statuses = await Task.WhenAll(clients.Select(async c =>
        {
            using var response = await c.CompleteAsync(app, Screenshot());
            return response.StatusCode;
        }));

        statuses.ShouldAllBe(s => s == HttpStatusCode.Created);
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.AppId == app, Ct))).ShouldBe(50);
        await factory.AssertLedgerMatchesBalancesAsync();
        foreach (var c in clients)
        {
            c.Dispose();
        }
    }

    [Fact]
    public async Task Bad_completions_get_their_problem_and_change_nothing()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await factory.AddAppAsync();
        var before = await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct));

        using var pdf = await client.CompleteAsync(app, Pdf, "proof.pdf", "application/pdf");
        using var missing = await client.PostAsync($"/api/v1/apps/{app}/completions", new MultipartFormDataContent { { new StringContent("x"), "note" } }, Ct);
        using var unknownApp = await client.CompleteAsync(987654321, Screenshot());

        await Problem.ReadAsync(pdf, HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        Problem.FieldErrors(await Problem.ReadAsync(missing, HttpStatusCode.BadRequest, "validation_failed"), "screenshot").ShouldNotBeEmpty();
        await Problem.ReadAsync(unknownApp, HttpStatusCode.NotFound, "not_found");
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct))).ShouldBe(before);
    }

    [Fact]
    public async Task A_user_cannot_review_or_read_someone_elses_completion()
    {
        using var owner = await factory.ClientForAsync(await factory.RegisterAsync());
        using var other = await factory.ClientForAsync(await factory.RegisterAsync());
        using var complete = await owner.CompleteAsync(await factory.AddAppAsync(points: 12), Screenshot());
        var id = (await complete.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();

        using var read = await other.GetAsync($"/api/v1/admin/completions/{id}", Ct);
        using var delete = await other.DeleteAsync($"/api/v1/admin/completions/{id}", Ct);
        using var mine = await other.GetAsync("/api/v1/me/completions", Ct);

        await Problem.ReadAsync(read, HttpStatusCode.Forbidden, "forbidden");
        await Problem.ReadAsync(delete, HttpStatusCode.Forbidden, "forbidden");
        (await mine.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(0);
        (await owner.BalanceAsync()).ShouldBe(12);
    }

    [Fact]
    public async Task The_leaderboard_ranks_points_earned_and_stats_count_every_app()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var top = await factory.RegisterAsync();
        using var topClient = await factory.ClientForAsync(top);
        var big = await factory.AddAppAsync(points: 90_000);
        var unused = await factory.AddAppAsync();
        using (var c = await topClient.CompleteAsync(big, Screenshot()))
        {
            c.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var board = await factory.Client().GetAsync("/api/v1/leaderboard?period=week", Ct);
        using var badPeriod = await factory.Client().GetAsync("/api/v1/leaderboard?period=decade", Ct);
        using var stats = await admin.GetAsync("/api/v1/admin/stats/apps", Ct);

        var first = (await board.JsonAsync()).GetProperty("data").EnumerateArray().First();
        (first.GetProperty("rank").GetInt32(), first.GetProperty("user_id").GetInt64(), first.GetProperty("points").GetInt64()).ShouldBe((1, top.Id, 90_000L));
        Problem.FieldErrors(await Problem.ReadAsync(badPeriod, HttpStatusCode.BadRequest, "validation_failed"), "period").ShouldNotBeEmpty();
        var rows = (await stats.JsonAsync()).GetProperty("data").EnumerateArray().ToDictionary(r => r.GetProperty("app_id").GetInt64());
        rows[big].GetProperty("approved").GetInt32().ShouldBe(1);
        rows[big].GetProperty("points_awarded").GetInt64().ShouldBe(90_000);
        rows[unused].GetProperty("approved").GetInt32().ShouldBe(0);
        rows[unused].GetProperty("points_awarded").GetInt64().ShouldBe(0);
    }

    [Fact]
    public async Task The_catalog_tells_a_logged_in_user_which_apps_they_completed()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var (done, open) = (await factory.AddAppAsync(), await factory.AddAppAsync());
        using (var complete = await client.CompleteAsync(done, Screenshot()))
        {
            complete.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var detail = await client.GetAsync($"/api/v1/apps/{done}", Ct);
        using var completedList = await client.GetAsync("/api/v1/apps?completed=true&size=100", Ct);
        using var openList = await client.GetAsync("/api/v1/apps?completed=false&size=100", Ct);
        using var anonymousDetail = await factory.Client().GetAsync($"/api/v1/apps/{done}", Ct);
        using var anonymousFilter = await factory.Client().GetAsync("/api/v1/apps?completed=true", Ct);

        (await detail.JsonAsync()).GetProperty("data").GetProperty("completed").GetBoolean().ShouldBeTrue();
        var completedIds = (await completedList.JsonAsync()).GetProperty("data").EnumerateArray().Select(a => a.GetProperty("id").GetInt64()).ToList();
        completedIds.ShouldBe([done]);
        var openIds = (await openList.JsonAsync()).GetProperty("data").EnumerateArray().Select(a => a.GetProperty("id").GetInt64()).ToList();
        openIds.ShouldContain(open);
        openIds.ShouldNotContain(done);
        (await anonymousDetail.JsonAsync()).GetProperty("data").TryGetProperty("completed", out _).ShouldBeFalse();
        await Problem.ReadAsync(anonymousFilter, HttpStatusCode.Unauthorized, "unauthorized");
    }

    public sealed class OnSqlite(SqliteFactory factory) : RewardsTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : RewardsTests(factory), IClassFixture<PostgresFactory>;
}
