using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>Apps to complete, completions, balances and transfers, as the rewards tests arrange and read them.</summary>
public static class RewardsApi
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new active app worth <paramref name="points"/>, written straight to the catalog table; returns its id.</summary>
    public static Task<long> AddAppAsync(this AapFactory factory, int points = 10, string link = "https://play.google.com/store/apps/details?id=test") =>
        factory.DbAsync(async db =>
        {
            var app = new App { Link = link, Points = points };
            app.Rename($"App {Guid.NewGuid():N}");
            db.Set<App>().Add(app);
            await db.SaveChangesAsync(Ct);
            return app.Id;
        });

    /// <summary>
    /// Users with a credit from a completion of the given points and the balance it makes, written in the database as
    /// the rewards write them (the balance, then the ledger; the database's triggers put them on the leaderboard):
    /// many ranked users without a password hash each. <see cref="RemoveUsersAsync"/> takes them away again.
    /// </summary>
    public static Task AddEarnersAsync(this AapFactory factory, (string UserName, long Points)[] earners) => factory.DbAsync(async db =>
    {
        var users = earners.Select(e => new User { UserName = e.UserName, NormalizedUserName = e.UserName.ToUpperInvariant(), SecurityStamp = "s", Role = "User" }).ToList();
        db.Set<User>().AddRange(users);
        await db.SaveChangesAsync(Ct);
        db.Set<PointBalance>().AddRange(users.Zip(earners, (u, e) => new PointBalance { UserId = u.Id, Balance = e.Points }));
        await db.SaveChangesAsync(Ct);
        db.Set<PointEntry>().AddRange(users.Zip(earners, (u, e) => new PointEntry { UserId = u.Id, Amount = e.Points, Reason = LedgerReasons.Completion, CreatedAt = DateTime.UtcNow }));
        await db.SaveChangesAsync(Ct);
    });

    /// <summary>Deletes the users whose name starts with <paramref name="prefix"/>, with everything that cascades from them (balances, ledger, board).</summary>
    public static Task RemoveUsersAsync(this AapFactory factory, string prefix) =>
        factory.DbAsync(db => db.Set<User>().Where(u => u.UserName!.StartsWith(prefix)).ExecuteDeleteAsync(CancellationToken.None));

    /// <summary><c>POST /api/v1/apps/{id}/completions</c> with <paramref name="content"/> as the screenshot.</summary>
    public static Task<HttpResponseMessage> CompleteAsync(this HttpClient client, long appId, byte[] content, string name = "proof.png", string type = "image/png") =>
        client.PostAsync($"/api/v1/apps/{appId}/completions", new MultipartFormDataContent { { Images.Part(content, type), "screenshot", name } }, Ct);

    /// <summary>The caller's balance from <c>GET /api/v1/me/points</c>.</summary>
    public static async Task<long> BalanceAsync(this HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/me/points", Ct);
        return (await response.JsonAsync()).GetProperty("data").GetProperty("balance").GetInt64();
    }

    /// <summary><c>POST /api/v1/points/transfers</c>, with an <c>Idempotency-Key</c> when <paramref name="key"/> is given.</summary>
    public static async Task<HttpResponseMessage> TransferAsync(this HttpClient client, string? to, long amount, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/points/transfers") { Content = System.Net.Http.Json.JsonContent.Create(new { to, amount }) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await client.SendAsync(request, Ct);
    }

    /// <summary>Every cached balance equals the sum of its ledger, and none is negative.</summary>
    public static async Task AssertLedgerMatchesBalancesAsync(this AapFactory factory)
    {
        var sums = await factory.DbAsync(db => db.Set<PointEntry>().GroupBy(e => e.UserId).Select(g => new { UserId = g.Key, Sum = g.Sum(e => e.Amount) }).ToDictionaryAsync(g => g.UserId, g => g.Sum, Ct));
        var balances = await factory.DbAsync(db => db.Set<PointBalance>().ToDictionaryAsync(b => b.UserId, b => b.Balance, Ct));
        balances.ShouldAllBe(b => b.Value >= 0);
        foreach (var (user, sum) in sums)
        {
            balances.GetValueOrDefault(user).ShouldBe(sum, $"user {user}");
        }
    }
}
