using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Migrations;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Aap.Api.Tests.Infrastructure.Images;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>
/// The all-time leaderboard (<c>GET /api/v1/leaderboard</c> and the <c>/leaderboard</c> page) and the dashboard's points
/// issued read totals that triggers keep with the ledger since migration 0020 (<c>point_earnings</c>,
/// <c>point_totals</c>); they are what the ledger and the balances say, whatever changed them. The class turns
/// <c>rewards.require_review</c> on and off, so it has a host of its own per provider.
/// </summary>
public abstract partial class LeaderboardTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_board_and_points_issued_are_what_the_ledger_says_after_reviews_reversals_transfers_and_a_deleted_user()
    {
        var adminAccount = await factory.CreateAdminAsync();
        using var admin = await factory.ClientForAsync(adminAccount);
        await RequireReviewAsync(admin, true);
        var ten = await factory.AddAppAsync(points: 10);
        var seven = await factory.AddAppAsync(points: 7);
        var three = await factory.AddAppAsync(points: 3);
        // One after the other, so that the ids (the tie-break: the older account first) follow the letters.
        var (a, b, c, d, e, f) = (await factory.RegisterAsync(), await factory.RegisterAsync(), await factory.RegisterAsync(),
            await factory.RegisterAsync(), await factory.RegisterAsync(), await factory.RegisterAsync());

        // a and e tie at 17; b earns 10 and sends 5 of them to a; c earns 7 and has 3 rejected; d's 10 are reversed
        // when an admin deletes the completion; f earns 3 and is deleted.
        var approve = new List<long>
        {
            await CompleteAsync(a, ten), await CompleteAsync(a, seven), await CompleteAsync(b, ten), await CompleteAsync(c, seven),
            await CompleteAsync(e, seven), await CompleteAsync(e, ten), await CompleteAsync(f, three),
        };
        var rejected = await CompleteAsync(c, three);
        var reversed = await CompleteAsync(d, ten);
        foreach (var id in approve.Append(reversed))
        {
            using var approved = await admin.PostAsync($"/api/v1/admin/completions/{id}/approve", null, Ct);
            approved.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var reject = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{rejected}/reject", new { reason = "Wrong app" }, Ct))
        {
            reject.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var delete = await admin.DeleteAsync($"/api/v1/admin/completions/{reversed}", Ct))
        {
            delete.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var sender = await factory.ClientForAsync(b))
        using (var transfer = await sender.TransferAsync(a.UserName, 5, Guid.NewGuid().ToString()))
        {
            transfer.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        await factory.DbAsync(db => db.Set<User>().Where(u => u.Id == f.Id).ExecuteDeleteAsync(Ct));

        var board = await ApiBoardAsync();
        board.ShouldBe(await LedgerBoardAsync());
        board.Where(r => new[] { a.Id, b.Id, c.Id, d.Id, e.Id, f.Id }.Contains(r.UserId)).Select(r => (r.UserId, r.Username, r.Points))
            .ShouldBe([(a.Id, a.UserName!, 17L), (e.Id, e.UserName!, 17L), (b.Id, b.UserName!, 10L), (c.Id, c.UserName!, 7L)]);
        (await PageBoardAsync()).ShouldBe(board.Select(r => (r.Rank, r.Username, r.Points)).ToList());
        (await PageTotalAsync()).ShouldBe(board.Count);
        (await PointsIssuedAsync()).ShouldBe(await BalancesAsync());
        (await BalancesAsync()).ShouldBe(await factory.DbAsync(db => db.Set<PointEntry>().SumAsync(x => x.Amount, Ct)));
        using var aClient = await factory.ClientForAsync(a);
        (await aClient.BalanceAsync()).ShouldBe(22);
    }

    [Fact]
    public async Task Completions_of_many_users_at_once_are_all_credited_and_ranked()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        await RequireReviewAsync(admin, false);
        var apps = new[] { await factory.AddAppAsync(points: 4), await factory.AddAppAsync(points: 6) };
        // 16 users, more than one per part of points_issued on average, each completing both apps at once: credits of
        // different users and of one user run side by side.
        var users = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => factory.RegisterAsync()));
        var clients = await Task.WhenAll(users.Select(u => factory.ClientForAsync(u)));
        try
        {
            var statuses = await Task.WhenAll(clients.SelectMany(client => apps.Select(async app =>
            {
                using var response = await client.CompleteAsync(app, Screenshot());
                return response.StatusCode;
            })));

            statuses.ShouldAllBe(s => s == HttpStatusCode.Created);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        var board = await ApiBoardAsync();
        board.ShouldBe(await LedgerBoardAsync());
        board.Where(r => users.Any(u => u.Id == r.UserId)).Select(r => r.Points).ShouldBe(Enumerable.Repeat(10L, users.Length));
        (await PageTotalAsync()).ShouldBe(board.Count);
        (await PointsIssuedAsync()).ShouldBe(await BalancesAsync());
    }

    [Fact]
    public async Task The_migration_fills_the_totals_from_the_existing_ledger_and_balances()
    {
        await using var fresh = await FreshDatabase.CreateAsync(factory.Provider);
        await using var db = fresh.Context();
        await fresh.MigrateBeforeAsync(db, "0020", Ct);

        var users = Enumerable.Range(1, 4).Select(i => new User { UserName = $"earn_{i}", NormalizedUserName = $"EARN_{i}", SecurityStamp = "s", Role = "User" }).ToList();
        db.Set<User>().AddRange(users);
        await db.SaveChangesAsync(Ct);
        var (u1, u2, u3, u4) = (users[0].Id, users[1].Id, users[2].Id, users[3].Id);
        // u1 earns 10 + 7, has the 7 reversed and sends 3 to u2; u2 earns 5; u3 earns 2 and has them reversed; u4 has nothing.
        var entries = new (long User, long Amount, string Reason)[]
        {
            (u1, 10, "completion"), (u1, 7, "completion"), (u1, -7, "reversal"), (u1, -3, "transfer_out"), (u2, 3, "transfer_in"),
            (u2, 5, "completion"), (u3, 2, "completion"), (u3, -2, "reversal"),
        };
        db.Set<PointEntry>().AddRange(entries.Select(x => new PointEntry { UserId = x.User, Amount = x.Amount, Reason = x.Reason, CreatedAt = DateTime.UtcNow }));
        db.Set<PointBalance>().AddRange(new PointBalance { UserId = u1, Balance = 7 }, new PointBalance { UserId = u2, Balance = 8 }, new PointBalance { UserId = u3, Balance = 0 });
        await db.SaveChangesAsync(Ct);

        await fresh.MigrateAsync(db, "0020", Ct);

        (await EarningsAsync(db)).ShouldBe([(u1, 10L), (u2, 5L), (u3, 0L)]);
        (await RankedAsync(db)).ShouldBe(2);
        // Each part holds the balances of the users whose id modulo 16 is its slot.
        var balances = new[] { (User: u1, Balance: 7L), (User: u2, Balance: 8L), (User: u3, Balance: 0L) };
        (await SlotsAsync(db)).ShouldBe([.. balances.GroupBy(x => (short)(x.User % 16)).Select(g => (g.Key, g.Sum(x => x.Balance)))
            .Where(x => x.Item2 != 0).OrderBy(x => x.Key)]);

        // The triggers take it from there: a deleted user's points leave both, a new credit joins both, a transfer
        // moves nothing in points issued.
        await db.Set<User>().Where(u => u.Id == u1).ExecuteDeleteAsync(Ct);
        db.Set<PointEntry>().AddRange(
            new PointEntry { UserId = u3, Amount = 4, Reason = "completion", CreatedAt = DateTime.UtcNow },
            new PointEntry { UserId = u3, Amount = -1, Reason = "transfer_out", CreatedAt = DateTime.UtcNow },
            new PointEntry { UserId = u4, Amount = 1, Reason = "transfer_in", CreatedAt = DateTime.UtcNow });
        await db.SaveChangesAsync(Ct);

        (await EarningsAsync(db)).ShouldBe([(u2, 5L), (u3, 4L)]);
        (await RankedAsync(db)).ShouldBe(2);
        (await db.Set<PointTotals>().SumAsync(s => s.Points, Ct)).ShouldBe(8 + 4);

        // Leaving the board and coming back: a reversal to zero, SQL by hand that moves an entry to another user.
        db.Set<PointEntry>().Add(new PointEntry { UserId = u2, Amount = -5, Reason = "reversal", CreatedAt = DateTime.UtcNow });
        await db.SaveChangesAsync(Ct);
        (await RankedAsync(db)).ShouldBe(1);
        await db.Set<PointEntry>().Where(x => x.UserId == u3 && x.Amount == 4).ExecuteUpdateAsync(s => s.SetProperty(x => x.UserId, u4), Ct);
        (await EarningsAsync(db)).ShouldBe([(u2, 0L), (u3, 0L), (u4, 4L)]);
        (await RankedAsync(db)).ShouldBe(1);
        (await db.Set<PointTotals>().SumAsync(s => s.Points, Ct)).ShouldBe(8 + 4 - 5);
    }

    private static async Task<List<(long UserId, long Points)>> EarningsAsync(AppDbContext db) =>
        [.. (await db.Set<PointEarning>().AsNoTracking().ToListAsync(Ct)).OrderBy(e => e.UserId).Select(e => (e.UserId, e.Points))];

    private static async Task<List<(short Slot, long Points)>> SlotsAsync(AppDbContext db) =>
        [.. (await db.Set<PointTotals>().AsNoTracking().ToListAsync(Ct)).Where(s => s.Points != 0).OrderBy(s => s.Slot).Select(s => (s.Slot, s.Points))];

    private static Task<long> RankedAsync(AppDbContext db) => db.Set<PointTotals>().SumAsync(s => s.Ranked, Ct);


    [Fact]
    public async Task The_week_and_month_boards_are_kept_and_follow_this_nodes_completions_soon_and_another_nodes_within_their_bound()
    {
        var leaderboards = factory.Services.GetRequiredService<Leaderboards>();
        // Whatever an earlier test left kept is past its bound: the first request below waits for a new board.
        factory.Clock.Advance(Leaderboards.Times.MaxAge + TimeSpan.FromSeconds(1));
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        await RequireReviewAsync(admin, false);
        var (x, y) = (await factory.RegisterAsync(), await factory.RegisterAsync());
        await CompleteAsync(x, await factory.AddAppAsync(points: 1_000_000));

        foreach (var period in new[] { "week", "month" })
        {
            (await TopAsync(period)).ShouldBe((x.Id, 1_000_000L));
        }

        // A completion on this node: the boards are recomputed at the first request once AfterChange has passed since
        // the last computation began; until then the kept board is served.
        await CompleteAsync(y, await factory.AddAppAsync(points: 2_000_000));
        (await TopAsync("week")).ShouldBe((x.Id, 1_000_000L));
        factory.Clock.Advance(Leaderboards.Times.AfterChange);
        foreach (var period in new[] { "week", "month" })
        {
            (await TopAsync(period)).ShouldBe((x.Id, 1_000_000L)); // served while the refresh it started runs
            await (leaderboards.Of(period).Refreshing ?? Task.CompletedTask);
            (await TopAsync(period)).ShouldBe((y.Id, 2_000_000L));
        }

        // Points another node credited (written here as that node writes them): seen once the kept board is FreshFor old.
        await factory.DbAsync(async db =>
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"INSERT INTO point_balances (user_id, balance) VALUES ({x.Id}, {5_000_000L}) ON CONFLICT (user_id) DO UPDATE SET balance = point_balances.balance + excluded.balance", Ct);
            db.Set<PointEntry>().Add(new PointEntry { UserId = x.Id, Amount = 5_000_000, Reason = LedgerReasons.Completion, CreatedAt = factory.Clock.GetUtcNow().UtcDateTime });
            return await db.SaveChangesAsync(Ct);
        });
        (await TopAsync("week")).ShouldBe((y.Id, 2_000_000L));
        (await TopAsync("all")).ShouldBe((x.Id, 6_000_000L)); // all time is never kept
        factory.Clock.Advance(Leaderboards.Times.FreshFor);
        (await TopAsync("week")).ShouldBe((y.Id, 2_000_000L));
        await (leaderboards.Of("week").Refreshing ?? Task.CompletedTask);
        (await TopAsync("week")).ShouldBe((x.Id, 6_000_000L));
    }

    /// <summary>The first entry of a period's board from the API.</summary>
    private async Task<(long UserId, long Points)> TopAsync(string period)
    {
        using var response = await factory.Client().GetAsync($"/api/v1/leaderboard?period={period}&size=1", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var first = (await response.JsonAsync()).GetProperty("data").EnumerateArray().Single();
        return (first.GetProperty("user_id").GetInt64(), first.GetProperty("points").GetInt64());
    }

    private static async Task RequireReviewAsync(HttpClient admin, bool on)
    {
        using var response = await admin.PutAsJsonAsync("/api/v1/admin/settings/rewards.require_review", new { value = on ? 1 : 0 }, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<long> CompleteAsync(TestAccount user, long app)
    {
        using var client = await factory.ClientForAsync(user);
        using var response = await client.CompleteAsync(app, Screenshot());
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        return (await response.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64();
    }

    /// <summary>The whole all-time board from the API (the class ranks fewer than 100 users).</summary>
    private async Task<List<Row>> ApiBoardAsync()
    {
        using var response = await factory.Client().GetAsync("/api/v1/leaderboard?period=all&size=100", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return [.. (await response.JsonAsync()).GetProperty("data").EnumerateArray().Select(r => new Row(
            r.GetProperty("rank").GetInt32(), r.GetProperty("user_id").GetInt64(), r.GetProperty("username").GetString()!, r.GetProperty("points").GetInt64()))];
    }

    [Fact]
    public async Task The_pages_links_read_their_page_from_the_row_next_to_it_and_give_the_pages_by_number()
    {
        // 60 users above everyone the other tests rank, in ties of six: more than two pages of 25. They leave with the
        // test, so that the class's other tests see their own board.
        var tag = Guid.NewGuid().ToString("N")[..8];
        try
        {
            await factory.AddEarnersAsync([.. Enumerable.Range(0, 60).Select(i => ($"walk_{tag}_{i:D2}", 1_000_000L + (i % 10)))]);
            // Forward by "Next page", then back by "Previous page": the same rows as every page asked for by number.
            var byNumber = await PageBoardAsync();
            var forward = new List<List<BoardLine>>();
            string? href = "/leaderboard";
            while (href is not null)
            {
                var (rows, next, _) = await BoardPageAsync(href);
                forward.Add(rows);
                href = next;
                if (href is not null)
                {
                    href.ShouldContain("page=");
                    href.ShouldContain($"{LeaderboardCursorParameter}=");
                }
            }

            forward.SelectMany(p => p).Select(r => (r.Rank, r.Username, r.Points)).ShouldBe(byNumber);
            forward.Count.ShouldBeGreaterThanOrEqualTo(3);
            var backward = new List<List<BoardLine>>();
            href = (await BoardPageAsync($"/leaderboard?page={forward.Count}")).Previous;
            while (href is not null)
            {
                var (rows, _, previous) = await BoardPageAsync(href);
                backward.Insert(0, rows);
                href = previous;
            }

            backward.Count.ShouldBe(forward.Count - 1);
            for (var i = 0; i < backward.Count; i++)
            {
                backward[i].ShouldBe(forward[i], $"page {i + 1}");
            }

            // A user who joins the top between two pages moves every row down one: page 2 by number repeats the last row
            // of page 1; the link that page 1 gave continues after the row it ended on, with the ranks of page 2.
            var (first, secondHref, _) = await BoardPageAsync("/leaderboard");
            await factory.AddEarnersAsync([($"walk_{tag}_top", 2_000_000L)]);
            var (second, _, _) = await BoardPageAsync(secondHref!);
            var (secondByNumber, _, _) = await BoardPageAsync("/leaderboard?page=2");
            secondByNumber[0].Username.ShouldBe(first[^1].Username);
            second[0].Username.ShouldNotBe(first[^1].Username);
            second.Select(r => r.Username).ShouldBe(secondByNumber.Skip(1).Select(r => r.Username).Concat([second[^1].Username]));
            second[0].Rank.ShouldBe(26);

            // Back from the page after it, by its link: the rows before that page's first row, which are the page the
            // link of page 1 read, not page 2 by number.
            var thirdHref = (await BoardPageAsync(secondHref!)).Next.ShouldNotBeNull();
            var (third, _, backToSecond) = await BoardPageAsync(thirdHref);
            third[0].Rank.ShouldBe(51);
            backToSecond.ShouldNotBeNull().ShouldContain($"{LeaderboardCursorParameter}=");
            (await BoardPageAsync(backToSecond)).Rows.ShouldBe(second);

            // A changed cursor, or one written for another page, is not used: the page named by number is shown.
            var cursor = System.Web.HttpUtility.ParseQueryString(new Uri(new Uri("http://x"), secondHref!).Query)[LeaderboardCursorParameter]!;
            var changed = cursor[..^2] + (cursor[^2] == 'A' ? "B" : "A") + cursor[^1];
            (await BoardPageAsync($"/leaderboard?page=2&{LeaderboardCursorParameter}={changed}")).Rows.ShouldBe(secondByNumber);
            (await BoardPageAsync($"/leaderboard?page=3&{LeaderboardCursorParameter}={cursor}")).Rows
                .ShouldBe((await BoardPageAsync("/leaderboard?page=3")).Rows);
            (await BoardPageAsync($"/leaderboard?page=2&{LeaderboardCursorParameter}=not-a-cursor")).Rows.ShouldBe(secondByNumber);
        }
        finally
        {
            await factory.RemoveUsersAsync($"walk_{tag}_");
        }
    }

    private const string LeaderboardCursorParameter = "from";

    /// <summary>One page of <c>/leaderboard</c> as a guest sees it, and the addresses of its "Next page" and "Previous page" links.</summary>
    private async Task<(List<BoardLine> Rows, string? Next, string? Previous)> BoardPageAsync(string href)
    {
        using var response = await factory.Client().GetAsync(href, Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, html);
        var rows = BoardRow().Matches(html).Select(m => new BoardLine(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value,
            long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture))).ToList();
        string? Link(string rel) => PageLink().Matches(html).FirstOrDefault(m => m.Groups[2].Value == rel) is { } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : null;
        return (rows, Link("next"), Link("prev"));
    }

    [GeneratedRegex("<a href=\"([^\"]*)\" rel=\"(next|prev)\"")]
    private static partial Regex PageLink();

    private sealed record BoardLine(int Rank, string Username, long Points);

    /// <summary>The board as the ledger says it, summed here: completions and reversals per user, above zero, the most points first, then the older account.</summary>
    private async Task<List<Row>> LedgerBoardAsync()
    {
        var sums = await factory.DbAsync(db => db.Set<PointEntry>().Where(x => x.Reason == "completion" || x.Reason == "reversal")
            .GroupBy(x => x.UserId).Select(g => new { UserId = g.Key, Points = g.Sum(x => x.Amount) }).ToListAsync(Ct));
        var names = await factory.DbAsync(db => db.Set<User>().ToDictionaryAsync(u => u.Id, u => u.UserName!, Ct));
        return [.. sums.Where(s => s.Points > 0).OrderByDescending(s => s.Points).ThenBy(s => s.UserId)
            .Select((s, i) => new Row(i + 1, s.UserId, names[s.UserId], s.Points))];
    }

    /// <summary>Every page of <c>/leaderboard</c>, as a guest sees it: rank, name and points of each row.</summary>
    private async Task<List<(int Rank, string Username, long Points)>> PageBoardAsync()
    {
        var rows = new List<(int, string, long)>();
        for (var page = 1; ; page++)
        {
            var found = (await BoardPageAsync($"/leaderboard?page={page}")).Rows;
            if (found.Count == 0)
            {
                return rows;
            }

            rows.AddRange(found.Select(r => (r.Rank, r.Username, r.Points)));
        }
    }

    /// <summary>The number of users the page says the board has (its paging total, kept in point_totals).</summary>
    private async Task<long> PageTotalAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var page = await scope.ServiceProvider.GetRequiredService<RewardsService>().LeaderboardPageAsync(new PageQuery { Page = 1, Size = 1 }, Ct);
        return page.Meta.Total;
    }

    private async Task<long> PointsIssuedAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var overview = await scope.ServiceProvider.GetRequiredService<RewardsService>().OverviewAsync(DateTime.UtcNow.AddDays(-1), 10, Ct);
        return overview.PointsIssued;
    }

    private Task<long> BalancesAsync() => factory.DbAsync(db => db.Set<PointBalance>().SumAsync(x => x.Balance, Ct));

    [GeneratedRegex("<td class=\"number\">([0-9]+)</td>\\s*<th scope=\"row\">([^<]*)</th>\\s*<td class=\"number\">(-?[0-9]+)</td>")]
    private static partial Regex BoardRow();

    private sealed record Row(int Rank, long UserId, string Username, long Points);

    public sealed class OnSqlite(SqliteFactory factory) : LeaderboardTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : LeaderboardTests(factory), IClassFixture<PostgresFactory>;
}
