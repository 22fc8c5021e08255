using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Features.Files;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

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
        var app = await AddAppAsync(points: 40);

        using var first = await CompleteAsync(client, app, Screenshot());
        using var again = await CompleteAsync(client, app, Screenshot());

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var completion = (await first.JsonAsync()).GetProperty("data");
        completion.GetProperty("status").GetString().ShouldBe("approved");
        completion.GetProperty("points").GetInt32().ShouldBe(40);
        await Problem.ReadAsync(again, HttpStatusCode.Conflict, "already_completed");
        (await BalanceAsync(client)).ShouldBe(40);
        await AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task The_same_screenshot_for_two_of_ones_apps_is_refused_and_from_two_users_is_flagged()
    {
        using var alice = await factory.ClientForAsync(await factory.RegisterAsync());
        using var bob = await factory.ClientForAsync(await factory.RegisterAsync());
        var (first, second) = (await AddAppAsync(), await AddAppAsync());
        var proof = Screenshot();
        var filesBefore = await factory.DbAsync(db => db.Set<StoredFile>().IgnoreQueryFilters().CountAsync(Ct));

        using var aliceFirst = await CompleteAsync(alice, first, proof);
        using var aliceAgain = await CompleteAsync(alice, second, proof);
        using var bobSame = await CompleteAsync(bob, first, proof);

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
        var app = await AddAppAsync(points: 15);
        var proof = Screenshot();
        using (var original = await CompleteAsync(alice, app, proof))
        {
            (await original.JsonAsync()).GetProperty("data").GetProperty("status").GetString().ShouldBe("approved", "review is off");
        }

        using var copy = await CompleteAsync(bob, app, proof);

        var completion = (await copy.JsonAsync()).GetProperty("data");
        copy.StatusCode.ShouldBe(HttpStatusCode.Created);
        (completion.GetProperty("flagged").GetBoolean(), completion.GetProperty("status").GetString()).ShouldBe((true, "pending"));
        (await BalanceAsync(bob)).ShouldBe(0);
        var id = completion.GetProperty("id").GetInt64();
        using var approve = await admin.PostAsync($"/api/v1/admin/completions/{id}/approve", null, Ct);
        approve.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await BalanceAsync(bob)).ShouldBe(15);
        await AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task With_review_required_points_wait_for_approval_and_approving_twice_credits_once()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await AddAppAsync(points: 25);
        await SetRequireReviewAsync(admin, 1);
        try
        {
            using var complete = await CompleteAsync(user, app, Screenshot());
            var id = (await complete.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
            (await complete.JsonAsync()).GetProperty("data").GetProperty("status").GetString().ShouldBe("pending");
            (await BalanceAsync(user)).ShouldBe(0);
            using var queue = await admin.GetAsync("/api/v1/admin/completions?status=pending&size=100", Ct);
            (await queue.JsonAsync()).GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetInt64()).ShouldContain(id);
            using var badStatus = await admin.GetAsync("/api/v1/admin/completions?status=Waiting", Ct);
            Problem.FieldErrors(await Problem.ReadAsync(badStatus, HttpStatusCode.BadRequest, "validation_failed"), "status").ShouldNotBeEmpty();

            var approvals = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
            {
                using var response = await admin.PostAsync($"/api/v1/admin/completions/{id}/approve", null, Ct);
                return response.StatusCode;
            }));

            approvals.ShouldAllBe(s => s == HttpStatusCode.OK);
            (await BalanceAsync(user)).ShouldBe(25);
            await AssertLedgerMatchesBalancesAsync();
            using var reject = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{id}/reject", new { reason = "too late" }, Ct);
            await Problem.ReadAsync(reject, HttpStatusCode.Conflict, "already_reviewed");
        }
        finally
        {
            await SetRequireReviewAsync(admin, 0);
        }
    }

    [Fact]
    public async Task A_rejected_completion_credits_nothing_and_needs_a_reason()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await AddAppAsync();
        await SetRequireReviewAsync(admin, 1);
        try
        {
            using var complete = await CompleteAsync(user, app, Screenshot());
            var id = (await complete.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();

            using var noReason = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{id}/reject", new { reason = " " }, Ct);
            using var reject = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{id}/reject", new { reason = "Screenshot shows another app" }, Ct);
            using var approve = await admin.PostAsync($"/api/v1/admin/completions/{id}/approve", null, Ct);

            Problem.FieldErrors(await Problem.ReadAsync(noReason, HttpStatusCode.BadRequest, "validation_failed"), "reason").ShouldNotBeEmpty();
            (await reject.JsonAsync()).GetProperty("data").GetProperty("status").GetString().ShouldBe("rejected");
            await Problem.ReadAsync(approve, HttpStatusCode.Conflict, "already_reviewed");
            (await BalanceAsync(user)).ShouldBe(0);
        }
        finally
        {
            await SetRequireReviewAsync(admin, 0);
        }
    }

    [Fact]
    public async Task Deleting_a_completion_takes_back_exactly_its_points()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        var (kept, removed) = (await AddAppAsync(points: 10), await AddAppAsync(points: 30));
        using (var a = await CompleteAsync(user, kept, Screenshot()))
        {
            a.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var b = await CompleteAsync(user, removed, Screenshot());
        var id = (await b.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
        (await BalanceAsync(user)).ShouldBe(40);

        using var delete = await admin.DeleteAsync($"/api/v1/admin/completions/{id}", Ct);
        using var again = await admin.DeleteAsync($"/api/v1/admin/completions/{id}", Ct);

        delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await Problem.ReadAsync(again, HttpStatusCode.NotFound, "not_found");
        (await BalanceAsync(user)).ShouldBe(10);
        using var ledger = await user.GetAsync("/api/v1/me/points/ledger", Ct);
        (await ledger.JsonAsync()).GetProperty("data").EnumerateArray().Select(e => (e.GetProperty("reason").GetString(), e.GetProperty("amount").GetInt64()))
            .ShouldBe([("reversal", -30L), ("completion", 30L), ("completion", 10L)]);
        await AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task A_transfer_moves_points_once_per_idempotency_key_and_never_overdraws()
    {
        var sender = await factory.RegisterAsync();
        var recipient = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(sender);
        using (var earn = await CompleteAsync(client, await AddAppAsync(points: 50), Screenshot()))
        {
            earn.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        using var first = await TransferAsync(client, recipient.UserName!, 20, "key-1");
        using var replay = await TransferAsync(client, recipient.UserName!, 20, "key-1");
        using var tooMuch = await TransferAsync(client, recipient.Email!, 31, "key-2");

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        replay.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await replay.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64().ShouldBe((await first.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64());
        await Problem.ReadAsync(tooMuch, HttpStatusCode.Conflict, "insufficient_points");
        (await BalanceAsync(client)).ShouldBe(30);
        using var recipientClient = await factory.ClientForAsync(recipient);
        (await BalanceAsync(recipientClient)).ShouldBe(20);
        await AssertLedgerMatchesBalancesAsync();
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

        using var response = await TransferAsync(client, recipient, amount, key);

        Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), field).ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Fifty_concurrent_transfers_never_overdraw_and_every_balance_equals_its_ledger()
    {
        var sender = await factory.RegisterAsync();
        var recipients = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => factory.RegisterAsync()));
        using var client = await factory.ClientForAsync(sender);
        using (var earn = await CompleteAsync(client, await AddAppAsync(points: 100), Screenshot()))
        {
            earn.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await TransferAsync(client, recipients[i % 5].UserName!, 3, $"burst-{i}");
            return response.StatusCode;
        }));

        statuses.Count(s => s == HttpStatusCode.Created).ShouldBe(33, "100 points cover 33 transfers of 3");
        statuses.Count(s => s == HttpStatusCode.Conflict).ShouldBe(17);
        (await BalanceAsync(client)).ShouldBe(1);
        await AssertLedgerMatchesBalancesAsync();
    }

    [Fact]
    public async Task Fifty_users_completing_one_app_at_once_are_each_credited_once()
    {
        var app = await AddAppAsync(points: 7);
        var clients = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ => await factory.ClientForAsync(await factory.RegisterAsync())));

        var statuses = await Task.WhenAll(clients.Select(async c =>
        {
            using var response = await CompleteAsync(c, app, Screenshot());
            return response.StatusCode;
        }));

        statuses.ShouldAllBe(s => s == HttpStatusCode.Created);
        (await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(c => c.AppId == app, Ct))).ShouldBe(50);
        await AssertLedgerMatchesBalancesAsync();
        foreach (var c in clients)
        {
            c.Dispose();
        }
    }

    [Fact]
    public async Task Bad_completions_get_their_problem_and_change_nothing()
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());
        var app = await AddAppAsync();
        var before = await factory.DbAsync(db => db.Set<AppCompletion>().CountAsync(Ct));

        using var pdf = await CompleteAsync(client, app, FileTests.Pdf, "proof.pdf", "application/pdf");
        using var missing = await client.PostAsync($"/api/v1/apps/{app}/completions", new MultipartFormDataContent { { new StringContent("x"), "note" } }, Ct);
        using var unknownApp = await CompleteAsync(client, 987654321, Screenshot());

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
        using var complete = await CompleteAsync(owner, await AddAppAsync(points: 12), Screenshot());
        var id = (await complete.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();

        using var read = await other.GetAsync($"/api/v1/admin/completions/{id}", Ct);
        using var delete = await other.DeleteAsync($"/api/v1/admin/completions/{id}", Ct);
        using var mine = await other.GetAsync("/api/v1/me/completions", Ct);

        await Problem.ReadAsync(read, HttpStatusCode.Forbidden, "forbidden");
        await Problem.ReadAsync(delete, HttpStatusCode.Forbidden, "forbidden");
        (await mine.JsonAsync()).GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(0);
        (await BalanceAsync(owner)).ShouldBe(12);
    }

    [Fact]
    public async Task The_leaderboard_ranks_points_earned_and_stats_count_every_app()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var top = await factory.RegisterAsync();
        using var topClient = await factory.ClientForAsync(top);
        var big = await AddAppAsync(points: 90_000);
        var unused = await AddAppAsync();
        using (var c = await CompleteAsync(topClient, big, Screenshot()))
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
        var (done, open) = (await AddAppAsync(), await AddAppAsync());
        using (var complete = await CompleteAsync(client, done, Screenshot()))
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

    /// <summary>A valid PNG whose bytes (and so whose SHA-256) no other test shares.</summary>
    internal static byte[] Screenshot() => [.. FileTests.Png, .. System.Text.Encoding.ASCII.GetBytes(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)))];

    private static Task<HttpResponseMessage> CompleteAsync(HttpClient client, long appId, byte[] content, string name = "proof.png", string type = "image/png")
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(type);
        return client.PostAsync($"/api/v1/apps/{appId}/completions", new MultipartFormDataContent { { file, "screenshot", name } }, Ct);
    }

    private static async Task<HttpResponseMessage> TransferAsync(HttpClient client, string? to, long amount, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/points/transfers") { Content = JsonContent.Create(new { to, amount }) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await client.SendAsync(request, Ct);
    }

    private static async Task<long> BalanceAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/me/points", Ct);
        return (await response.JsonAsync()).GetProperty("data").GetProperty("balance").GetInt64();
    }

    private static async Task SetRequireReviewAsync(HttpClient admin, int value)
    {
        using var response = await admin.PutAsJsonAsync("/api/v1/admin/settings/rewards.require_review", new { value }, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<long> AddAppAsync(int points = 10) => await factory.DbAsync(async db =>
    {
        var app = new App { Link = "https://play.google.com/store/apps/details?id=reward", Points = points };
        app.Rename($"Reward {Guid.NewGuid():N}");
        db.Set<App>().Add(app);
        await db.SaveChangesAsync(Ct);
        return app.Id;
    });

    /// <summary>Every cached balance equals the sum of its ledger, and none is negative.</summary>
    private async Task AssertLedgerMatchesBalancesAsync()
    {
        var sums = await factory.DbAsync(db => db.Set<PointEntry>().GroupBy(e => e.UserId).Select(g => new { UserId = g.Key, Sum = g.Sum(e => e.Amount) }).ToDictionaryAsync(g => g.UserId, g => g.Sum, Ct));
        var balances = await factory.DbAsync(db => db.Set<PointBalance>().ToDictionaryAsync(b => b.UserId, b => b.Balance, Ct));
        balances.ShouldAllBe(b => b.Value >= 0);
        foreach (var (user, sum) in sums)
        {
            balances.GetValueOrDefault(user).ShouldBe(sum, $"user {user}");
        }
    }

    public sealed class OnSqlite(SqliteFactory factory) : RewardsTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : RewardsTests(factory), IClassFixture<PostgresFactory>;
}
