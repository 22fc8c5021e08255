using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>
/// Idempotency-Key on transfers (IETF draft, Stripe): a key is bound to its first request, and a transfer does not
/// tell a caller whether its recipient exists. A factory of its own, because these tests move the clock.
/// </summary>
public abstract class TransferIdempotencyTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_same_key_with_a_different_body_is_a_422_and_moves_nothing()
    {
        var (sender, client) = await SenderWithPointsAsync(50);
        var recipient = await factory.RegisterAsync();
        var other = await factory.RegisterAsync();

        using var first = await client.TransferAsync(recipient.UserName, 20, "same-key");
        using var otherAmount = await client.TransferAsync(recipient.UserName, 30, "same-key");
        using var otherRecipient = await client.TransferAsync(other.UserName, 20, "same-key");
        using var replay = await client.TransferAsync($"  {recipient.UserName}  ", 20, "same-key");

        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        Problem.FieldErrors(await Problem.ReadAsync(otherAmount, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused"), "idempotency_key").ShouldNotBeEmpty();
        await Problem.ReadAsync(otherRecipient, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        replay.StatusCode.ShouldBe(HttpStatusCode.OK);
        replay.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        (await replay.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64().ShouldBe((await first.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64());
        (await factory.DbAsync(db => db.Set<PointTransfer>().CountAsync(t => t.FromUserId == sender.Id, Ct))).ShouldBe(1);
        (await client.BalanceAsync()).ShouldBe(30);
    }

    [Fact]
    public async Task A_refusal_is_stored_and_replayed_even_after_the_balance_has_grown()
    {
        var (sender, client) = await SenderWithPointsAsync(10);
        var recipient = await factory.RegisterAsync();

        using var refused = await client.TransferAsync(recipient.UserName, 25, "refused-key");
        await EarnAsync(client, 40);
        using var again = await client.TransferAsync(recipient.UserName, 25, "refused-key");
        using var newKey = await client.TransferAsync(recipient.UserName, 25, "fresh-key");

        var firstProblem = await Problem.ReadAsync(refused, HttpStatusCode.Conflict, "insufficient_points");
        var replayed = await Problem.ReadAsync(again, HttpStatusCode.Conflict, "insufficient_points");
        again.Headers.GetValues("Idempotent-Replayed").ShouldBe(["true"]);
        replayed.GetProperty("detail").GetString().ShouldBe(firstProblem.GetProperty("detail").GetString());
        newKey.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await client.BalanceAsync()).ShouldBe(25);
        var stored = await factory.DbAsync(db => db.Set<IdempotencyRecord>().AsNoTracking()
            .Where(r => r.UserId == sender.Id).OrderBy(r => r.Id).Select(r => new { r.IdempotencyKey, r.ResponseStatus, r.ExpiresAt, r.CreatedAt }).ToListAsync(Ct));
        stored.Select(r => (r.IdempotencyKey, r.ResponseStatus)).ShouldBe([("refused-key", (int?)409), ("fresh-key", (int?)201)]);
        stored.ShouldAllBe(r => r.ExpiresAt - r.CreatedAt == TimeSpan.FromHours(24));
    }

    [Fact]
    public async Task The_same_key_while_the_first_request_runs_is_a_409_until_that_request_is_abandoned()
    {
        var (sender, client) = await SenderWithPointsAsync(30);
        var recipient = await factory.RegisterAsync();
        // The first request is "running": its claim is taken, as the endpoint takes it, and not yet completed.
        var fingerprint = await factory.ServiceAsync<IdempotencyStore, string>(store => Task.FromResult(IdempotencyStore.Fingerprint(
            "POST", "/api/v1/points/transfers", sender.Id, store.NormalizedBody(new TransferRequest(recipient.UserName, 10)))));
        var start = await factory.ServiceAsync<IdempotencyStore, IdempotencyStart>(store => store.BeginAsync(sender.Id, "running-key", fingerprint, Ct));
        start.Claim.ShouldNotBeNull();

        using var whileRunning = await client.TransferAsync(recipient.UserName, 10, "running-key");
        using var otherBody = await client.TransferAsync(recipient.UserName, 11, "running-key");

        await Problem.ReadAsync(whileRunning, HttpStatusCode.Conflict, "idempotency_request_in_progress");
        await Problem.ReadAsync(otherBody, HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        (await client.BalanceAsync()).ShouldBe(30);

        factory.Clock.Advance(IdempotencyStore.AbandonedAfter + TimeSpan.FromSeconds(1));
        using var fresh = await factory.ClientForAsync(sender);
        using var afterwards = await fresh.TransferAsync(recipient.UserName, 10, "running-key");

        afterwards.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await fresh.BalanceAsync()).ShouldBe(20);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_move_points_once()
    {
        var (sender, client) = await SenderWithPointsAsync(100);
        var recipient = await factory.RegisterAsync();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await client.TransferAsync(recipient.UserName, 7, "burst-key");
            return response.StatusCode;
        }));

        statuses.Count(s => s == HttpStatusCode.Created).ShouldBe(1);
        statuses.ShouldAllBe(s => s == HttpStatusCode.Created || s == HttpStatusCode.OK || s == HttpStatusCode.Conflict);
        (await client.BalanceAsync()).ShouldBe(93);
        (await factory.DbAsync(db => db.Set<PointTransfer>().CountAsync(t => t.FromUserId == sender.Id, Ct))).ShouldBe(1);
    }

    [Fact]
    public async Task A_key_is_forgotten_after_24_hours_and_may_start_a_new_transfer()
    {
        var (sender, client) = await SenderWithPointsAsync(50);
        var recipient = await factory.RegisterAsync();
        using (var first = await client.TransferAsync(recipient.UserName, 5, "daily-key"))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        factory.Clock.Advance(IdempotencyStore.Retention + TimeSpan.FromSeconds(1));
        using var fresh = await factory.ClientForAsync(sender);
        using var later = await fresh.TransferAsync(recipient.UserName, 8, "daily-key");

        later.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await fresh.BalanceAsync()).ShouldBe(37);
        (await factory.DbAsync(db => db.Set<IdempotencyRecord>().CountAsync(r => r.UserId == sender.Id, Ct))).ShouldBe(1, "the expired key was removed");
    }

    [Fact]
    public async Task Without_the_points_an_unknown_recipient_gets_the_same_answer_as_an_existing_one()
    {
        var (_, client) = await SenderWithPointsAsync(5);
        var existing = await factory.RegisterAsync();

        using var toExisting = await client.TransferAsync(existing.UserName, 500, "probe-1");
        using var toUnknown = await client.TransferAsync("nobody_" + Guid.NewGuid().ToString("N")[..8], 500, "probe-2");
        using var toUnknownEmail = await client.TransferAsync($"nobody-{Guid.NewGuid():N}@example.test", 500, "probe-3");

        var answers = new[] { toExisting, toUnknown, toUnknownEmail };
        foreach (var answer in answers)
        {
            await Problem.ReadAsync(answer, HttpStatusCode.Conflict, "insufficient_points");
        }

        var bodies = await Task.WhenAll(answers.Select(async a => Comparable(await a.JsonAsync())));
        bodies.Distinct().Count().ShouldBe(1, string.Join("\n", bodies));
        (await client.BalanceAsync()).ShouldBe(5);
    }

    [Fact]
    public async Task With_the_points_an_unknown_recipient_is_a_400_and_moves_nothing()
    {
        var (sender, client) = await SenderWithPointsAsync(20);

        using var response = await client.TransferAsync("nobody_" + Guid.NewGuid().ToString("N")[..8], 5, "unknown-key");

        Problem.FieldErrors(await Problem.ReadAsync(response, HttpStatusCode.BadRequest, "validation_failed"), "to").ShouldNotBeEmpty();
        (await client.BalanceAsync()).ShouldBe(20);
        (await factory.DbAsync(db => db.Set<PointEntry>().CountAsync(e => e.UserId == sender.Id, Ct))).ShouldBe(1, "only the points earned");
    }

    /// <summary>A problem body without what differs per request (instance, trace id).</summary>
    private static string Comparable(JsonElement problem) => JsonSerializer.Serialize(
        problem.EnumerateObject().Where(p => p.Name is not ("instance" or "traceId")).ToDictionary(p => p.Name, p => p.Value));

    private async Task<(TestAccount Account, HttpClient Client)> SenderWithPointsAsync(int points)
    {
        var account = await factory.RegisterAsync();
        var client = await factory.ClientForAsync(account);
        await EarnAsync(client, points);
        return (account, client);
    }

    private async Task EarnAsync(HttpClient client, int points)
    {
        using var response = await client.CompleteAsync(await factory.AddAppAsync(points), Images.Screenshot());
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    public sealed class OnSqlite(SqliteFactory factory) : TransferIdempotencyTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : TransferIdempotencyTests(factory), IClassFixture<PostgresFactory>;
}
