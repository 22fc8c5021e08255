using System.Net;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using static Aap.Api.Tests.Infrastructure.Images;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>Completions name their user and app and say what they duplicate; the caller lists their transfers.</summary>
public abstract class CompletionDetailsAndTransferListTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_flagged_completion_names_its_user_and_app_and_the_completion_it_duplicates_and_each_answer_said_so()
    {
        var firstAccount = await factory.RegisterAsync();
        var copierAccount = await factory.RegisterAsync();
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var first = await factory.ClientForAsync(firstAccount);
        using var copier = await factory.ClientForAsync(copierAccount);
        var appA = await factory.AddAppAsync();
        var appB = await factory.AddAppAsync();
        var proof = Screenshot();

        using var original = await first.CompleteAsync(appA, proof);
        var plain = (await original.JsonAsync()).GetProperty("data");
        var originalId = plain.GetProperty("id").GetInt64();
        using var copy = await copier.CompleteAsync(appB, proof);
        var copied = (await copy.JsonAsync()).GetProperty("data");
        copied.GetProperty("flagged").GetBoolean().ShouldBeTrue();
        var copyId = copied.GetProperty("id").GetInt64();

        using var get = await admin.GetAsync($"/api/v1/admin/completions/{copyId}", Ct);
        var detail = (await get.JsonAsync()).GetProperty("data");
        detail.GetProperty("username").GetString().ShouldBe(copierAccount.UserName);
        var appName = await factory.DbAsync(db => db.Set<Aap.Api.Features.Apps.App>().Where(a => a.Id == appB).Select(a => a.Name).SingleAsync(Ct));
        detail.GetProperty("app_name").GetString().ShouldBe(appName);
        detail.GetProperty("duplicate_of").EnumerateArray().Select(e => e.GetInt64()).ShouldBe([originalId]);
        detail.GetProperty("user_id").GetInt64().ShouldBe(copierAccount.Id, "existing fields stay");

        using var list = await admin.GetAsync($"/api/v1/admin/completions?user={firstAccount.Id}", Ct);
        var listed = (await list.JsonAsync()).GetProperty("data").EnumerateArray().Single();
        listed.GetProperty("username").GetString().ShouldBe(firstAccount.UserName);
        listed.GetProperty("duplicate_of").GetArrayLength().ShouldBe(0, "the first sender is not flagged");

        using var mine = await copier.GetAsync("/api/v1/me/completions", Ct);
        var own = (await mine.JsonAsync()).GetProperty("data").EnumerateArray().Single();
        own.GetProperty("app_name").GetString().ShouldBe(appName);
        (await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.Id == copyId).Select(c => c.Flagged).SingleAsync(Ct))).ShouldBeTrue();

        // The answer to each completion described it as the admin's read does afterwards (names, duplicates).
        plain.GetProperty("duplicate_of").GetArrayLength().ShouldBe(0);
        foreach (var answer in new[] { plain, copied })
        {
            using var read = await admin.GetAsync($"/api/v1/admin/completions/{answer.GetProperty("id").GetInt64()}", Ct);
            var described = (await read.JsonAsync()).GetProperty("data");
            foreach (var field in new[] { "id", "user_id", "app_id", "status", "flagged", "points", "screenshot", "username", "app_name", "duplicate_of" })
            {
                answer.GetProperty(field).GetRawText().ShouldBe(described.GetProperty(field).GetRawText(), field);
            }
        }
    }

    [Fact]
    public async Task The_caller_lists_sent_and_received_transfers_newest_first_with_names()
    {
        var senderAccount = await factory.RegisterAsync();
        var receiverAccount = await factory.RegisterAsync();
        using var sender = await factory.ClientForAsync(senderAccount);
        using var receiver = await factory.ClientForAsync(receiverAccount);
        using var earned = await sender.CompleteAsync(await factory.AddAppAsync(points: 50), Screenshot());
        earned.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var earnedToo = await receiver.CompleteAsync(await factory.AddAppAsync(points: 50), Screenshot());
        earnedToo.StatusCode.ShouldBe(HttpStatusCode.Created);

        using var out1 = await sender.TransferAsync(receiverAccount.UserName, 7, Guid.NewGuid().ToString());
        out1.StatusCode.ShouldBe(HttpStatusCode.Created);
        using var back = await receiver.TransferAsync(senderAccount.UserName, 3, Guid.NewGuid().ToString());
        back.StatusCode.ShouldBe(HttpStatusCode.Created);

        using var all = await sender.GetAsync("/api/v1/points/transfers", Ct);
        var body = await all.JsonAsync();
        body.GetProperty("meta").GetProperty("total").GetInt64().ShouldBe(2);
        var items = body.GetProperty("data").EnumerateArray().ToList();
        items.Select(i => i.GetProperty("amount").GetInt64()).ShouldBe([3L, 7L], "newest first");
        items[0].GetProperty("direction").GetString().ShouldBe("received");
        items[0].GetProperty("from").GetInt64().ShouldBe(receiverAccount.Id);
        items[0].GetProperty("from_name").GetString().ShouldBe(receiverAccount.UserName);
        items[0].GetProperty("to_name").GetString().ShouldBe(senderAccount.UserName);
        items[1].GetProperty("direction").GetString().ShouldBe("sent");

        using var sent = await sender.GetAsync("/api/v1/points/transfers?direction=sent", Ct);
        (await sent.JsonAsync()).GetProperty("data").EnumerateArray().Select(i => i.GetProperty("amount").GetInt64()).ShouldBe([7L]);
        using var received = await receiver.GetAsync("/api/v1/points/transfers?direction=received&size=1", Ct);
        var receivedBody = await received.JsonAsync();
        receivedBody.GetProperty("data").EnumerateArray().Select(i => i.GetProperty("amount").GetInt64()).ShouldBe([7L]);
        receivedBody.GetProperty("meta").GetProperty("size").GetInt32().ShouldBe(1);

        using var bad = await sender.GetAsync("/api/v1/points/transfers?direction=both", Ct);
        Problem.FieldErrors(await Problem.ReadAsync(bad, HttpStatusCode.BadRequest, "validation_failed"), "direction").Single().ShouldContain("sent or received");
        using var anonymous = factory.Client();
        using var noToken = await anonymous.GetAsync("/api/v1/points/transfers", Ct);
        await Problem.ReadAsync(noToken, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_completions_answer_names_its_user_as_named_at_that_moment()
    {
        // The answer's name comes from the account cache once the user is known there (the first completion puts
        // them there); a rename in between must show in the next answer, as it does in the admin's read.
        var account = await factory.RegisterAsync();
        using var user = await factory.ClientForAsync(account);
        var appA = await factory.AddAppAsync();
        var appB = await factory.AddAppAsync();
        var appC = await factory.AddAppAsync();
        foreach (var app in new[] { appA, appB })
        {
            using var completed = await user.CompleteAsync(app, Screenshot());
            completed.StatusCode.ShouldBe(HttpStatusCode.Created, await completed.Content.ReadAsStringAsync(Ct));
            (await completed.JsonAsync()).GetProperty("data").GetProperty("username").GetString().ShouldBe(account.UserName);
        }

        var renamed = $"re_{Guid.NewGuid():N}"[..15];
        using (var patch = await user.PatchAsync("/api/v1/me", JsonBody.Of(System.Text.Json.JsonSerializer.Serialize(new { username = renamed })), Ct))
        {
            patch.StatusCode.ShouldBe(HttpStatusCode.OK, await patch.Content.ReadAsStringAsync(Ct));
        }

        using var after = await user.CompleteAsync(appC, Screenshot());
        after.StatusCode.ShouldBe(HttpStatusCode.Created, await after.Content.ReadAsStringAsync(Ct));
        var answer = (await after.JsonAsync()).GetProperty("data");
        answer.GetProperty("username").GetString().ShouldBe(renamed);
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        using var read = await admin.GetAsync($"/api/v1/admin/completions/{answer.GetProperty("id").GetInt64()}", Ct);
        (await read.JsonAsync()).GetProperty("data").GetProperty("username").GetString().ShouldBe(renamed);
    }

    [Fact]
    public async Task A_completion_credits_its_app_as_the_catalog_has_it_at_that_moment()
    {
        // A completion finds its app through the catalog's cache (the first completion puts it there); an admin's
        // change must apply to the next completion, and the credit (balance and ledger entry, one command) be whole.
        var app = await factory.AddAppAsync(points: 10);
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var users = new List<HttpClient>();
        for (var i = 0; i < 5; i++)
        {
            users.Add(await factory.ClientForAsync(await factory.RegisterAsync()));
        }

        try
        {
            (await CompleteAsync(users[0], app, HttpStatusCode.Created)).GetProperty("points").GetInt32().ShouldBe(10);

            await PatchAppAsync(admin, app, """{"points": 25}""");
            var credited = await CompleteAsync(users[1], app, HttpStatusCode.Created);
            credited.GetProperty("points").GetInt32().ShouldBe(25);
            (await users[1].BalanceAsync()).ShouldBe(25);

            using (var ledger = await users[1].GetAsync("/api/v1/me/points/ledger", Ct))
            {
                var entry = (await ledger.JsonAsync()).GetProperty("data").EnumerateArray().ShouldHaveSingleItem();
                entry.GetProperty("amount").GetInt64().ShouldBe(25);
                entry.GetProperty("reason").GetString().ShouldBe(LedgerReasons.Completion);
                entry.GetProperty("completion_id").GetInt64().ShouldBe(credited.GetProperty("id").GetInt64());
                entry.GetProperty("transfer_id").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Null);
                entry.GetProperty("created_at").GetDateTime().ToUniversalTime().ShouldBe(factory.Clock.GetUtcNow().UtcDateTime, TimeSpan.FromSeconds(1));
            }

            await PatchAppAsync(admin, app, """{"is_active": false}""");
            using (var inactive = await users[2].CompleteAsync(app, Screenshot()))
            {
                await Problem.ReadAsync(inactive, HttpStatusCode.NotFound, "not_found");
            }

            // Refused while inactive is not remembered: active again, it can be completed at once.
            await PatchAppAsync(admin, app, """{"is_active": true}""");
            (await CompleteAsync(users[2], app, HttpStatusCode.Created)).GetProperty("points").GetInt32().ShouldBe(25);

            using (var deleted = await admin.DeleteAsync($"/api/v1/apps/{app}", Ct))
            {
                deleted.IsSuccessStatusCode.ShouldBeTrue(await deleted.Content.ReadAsStringAsync(Ct));
            }

            using var gone = await users[3].CompleteAsync(app, Screenshot());
            await Problem.ReadAsync(gone, HttpStatusCode.NotFound, "not_found");
        }
        finally
        {
            users.ForEach(u => u.Dispose());
        }
    }

    private static async Task<System.Text.Json.JsonElement> CompleteAsync(HttpClient user, long app, HttpStatusCode expected)
    {
        using var completed = await user.CompleteAsync(app, Screenshot());
        completed.StatusCode.ShouldBe(expected, await completed.Content.ReadAsStringAsync(Ct));
        return (await completed.JsonAsync()).GetProperty("data");
    }

    private static async Task PatchAppAsync(HttpClient admin, long app, string body)
    {
        using var patch = await admin.PatchAsync($"/api/v1/apps/{app}", JsonBody.MergePatch(body), Ct);
        patch.StatusCode.ShouldBe(HttpStatusCode.OK, await patch.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Only_admins_read_completions_with_details()
    {
        using var user = await factory.ClientForAsync(await factory.RegisterAsync());
        using var anonymous = factory.Client();
        using var forbidden = await user.GetAsync("/api/v1/admin/completions", Ct);
        await Problem.ReadAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");
        using var unauthorized = await anonymous.GetAsync("/api/v1/admin/completions/1", Ct);
        await Problem.ReadAsync(unauthorized, HttpStatusCode.Unauthorized, "unauthorized");
    }

    public sealed class OnSqlite(SqliteFactory factory) : CompletionDetailsAndTransferListTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : CompletionDetailsAndTransferListTests(factory), IClassFixture<PostgresFactory>;
}
