using System.Net;
using System.Net.Http.Json;
using Aap.Api.Features.Rewards;
using Aap.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Aap.Api.Tests.Infrastructure.Images;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>
/// The dashboard's totals by app and status (<c>completion_totals</c>, kept by database triggers since migration 0014)
/// follow every change of the completions: through the API, and by statements that change many rows at once, as SQL
/// by hand would. The class turns <c>rewards.require_review</c> on, so it has a host of its own per provider.
/// </summary>
public abstract class CompletionStatisticsTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_totals_by_app_and_status_follow_completions_reviews_and_bulk_changes()
    {
        using var admin = await factory.ClientForAsync(await factory.CreateAdminAsync());
        var first = await factory.AddAppAsync(points: 10);
        var second = await factory.AddAppAsync(points: 7);
        using (var response = await admin.PutAsJsonAsync("/api/v1/admin/settings/rewards.require_review", new { value = 1 }, Ct))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var ids = new List<long>();
        foreach (var app in new[] { first, first, first, second })
        {
            using var user = await factory.ClientForAsync(await factory.RegisterAsync());
            using var complete = await user.CompleteAsync(app, Screenshot());
            complete.StatusCode.ShouldBe(HttpStatusCode.Created);
            ids.Add((await complete.JsonAsync()).GetProperty("data").GetProperty("id").GetInt64());
        }

        (await TotalsAsync(first, second)).ShouldBe([(first, "Pending", 3, 30), (second, "Pending", 1, 7)]);

        using (var approve = await admin.PostAsync($"/api/v1/admin/completions/{ids[0]}/approve", null, Ct))
        {
            approve.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var reject = await admin.PostAsJsonAsync($"/api/v1/admin/completions/{ids[1]}/reject", new { reason = "Wrong app" }, Ct))
        {
            reject.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await TotalsAsync(first, second)).ShouldBe(
            [(first, "Approved", 1, 10), (first, "Pending", 1, 10), (first, "Rejected", 1, 10), (second, "Pending", 1, 7)]);

        // Statements that change several rows at once: every completion of the first app gains 5 points, then the
        // pending ones are deleted.
        await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.AppId == first)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Points, c => c.Points + 5), Ct));
        await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.Status == CompletionStatus.Pending && (c.AppId == first || c.AppId == second))
            .ExecuteDeleteAsync(Ct));

        (await TotalsAsync(first, second)).ShouldBe([(first, "Approved", 1, 15), (first, "Rejected", 1, 15)]);
        var counted = await factory.DbAsync(db => db.Set<AppCompletion>().Where(c => c.AppId == first || c.AppId == second)
            .GroupBy(c => new { c.AppId, c.Status }).Select(g => new { g.Key.AppId, g.Key.Status, Count = g.LongCount(), Points = g.Sum(c => (long)c.Points) })
            .ToListAsync(Ct));
        counted.OrderBy(c => c.AppId).ThenBy(c => c.Status.ToString(), StringComparer.Ordinal)
            .Select(c => (c.AppId, c.Status.ToString(), c.Count, c.Points)).ShouldBe(await TotalsAsync(first, second));
    }

    /// <summary>The totals of the apps with at least one completion, by app and status name.</summary>
    private async Task<List<(long AppId, string Status, long Completions, long Points)>> TotalsAsync(long first, long second)
    {
        var rows = await factory.DbAsync(db => db.Set<CompletionTotal>().Where(t => (t.AppId == first || t.AppId == second) && t.Completions > 0)
            .ToListAsync(Ct));
        return [.. rows.OrderBy(t => t.AppId).ThenBy(t => t.Status.ToString(), StringComparer.Ordinal)
            .Select(t => (t.AppId, t.Status.ToString(), t.Completions, t.Points))];
    }

    public sealed class OnSqlite(SqliteFactory factory) : CompletionStatisticsTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : CompletionStatisticsTests(factory), IClassFixture<PostgresFactory>;
}
