using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Persistence.Migrations;
using Aap.Api.Tests.Infrastructure;
using Aap.Api.Tests.Platform;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Tests.Features.Rewards;

/// <summary>
/// Migration 0018 fills completion_days from the completions that existed before it (one row per UTC day and app),
/// and its triggers count what comes after.
/// </summary>
public abstract class CompletionDaysMigrationTests(AapFactory factory)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_per_day_counts_are_filled_from_the_existing_completions()
    {
        await using var fresh = await FreshDatabase.CreateAsync(factory.Provider);
        await using var db = fresh.Context();
        await fresh.MigrateBeforeAsync(db, "0018", Ct);

        var users = Enumerable.Range(1, 4).Select(i => new User { UserName = $"days_{i}", NormalizedUserName = $"DAYS_{i}", SecurityStamp = "s", Role = "User" }).ToList();
        db.Set<User>().AddRange(users);
        var apps = Enumerable.Range(1, 2).Select(i => new App { Link = "https://example.org/app", Points = 5 }).ToList();
        apps[0].Rename("Days one");
        apps[1].Rename("Days two");
        db.Set<App>().AddRange(apps);
        await db.SaveChangesAsync(Ct);
        var file = new StoredFile
        {
            OwnerId = users[0].Id, Key = "k", Provider = "local", Size = 1, ContentType = "image/png", Sha256 = new string('a', 64),
            OriginalName = "p.png", Category = "screenshot",
        };
        db.Set<StoredFile>().Add(file);
        await db.SaveChangesAsync(Ct);
        // Late on one day, early on the next (UTC), and two apps on one day.
        var day = new DateTime(2026, 3, 9, 0, 0, 0, DateTimeKind.Utc);
        var made = new (User User, App App, DateTime At)[]
        {
            (users[0], apps[0], day.AddHours(23).AddMinutes(59)),
            (users[1], apps[0], day.AddHours(1)),
            (users[2], apps[1], day.AddHours(12)),
            (users[3], apps[0], day.AddDays(1).AddSeconds(1)),
        };
        foreach (var (user, app, _) in made)
        {
            db.Set<AppCompletion>().Add(new AppCompletion
            {
                UserId = user.Id, AppId = app.Id, ScreenshotFileId = file.Id, ScreenshotSha256 = file.Sha256, Status = CompletionStatus.Approved, Points = 5,
            });
        }

        await db.SaveChangesAsync(Ct);
        foreach (var (user, _, at) in made)
        {
            await db.Set<AppCompletion>().Where(c => c.UserId == user.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.CreatedAt, at), Ct);
        }

        await fresh.MigrateAsync(db, "0018", Ct);

        var first = DateOnly.FromDateTime(day);
        (await DaysAsync(db)).ShouldBe([(first, apps[0].Id, 2), (first, apps[1].Id, 1), (first.AddDays(1), apps[0].Id, 1)]);

        // The triggers take it from there: a deleted user's completion is taken off its day.
        await db.Set<User>().Where(u => u.Id == users[1].Id).ExecuteDeleteAsync(Ct);
        (await DaysAsync(db)).ShouldBe([(first, apps[0].Id, 1), (first, apps[1].Id, 1), (first.AddDays(1), apps[0].Id, 1)]);
    }

    private static async Task<List<(DateOnly Day, long AppId, long Completions)>> DaysAsync(Aap.Api.Platform.Persistence.AppDbContext db) =>
        [.. (await db.Set<CompletionDay>().AsNoTracking().Where(d => d.Completions != 0).ToListAsync(Ct))
            .OrderBy(d => d.Day).ThenBy(d => d.AppId).Select(d => (d.Day, d.AppId, d.Completions))];


    public sealed class OnSqlite(SqliteFactory factory) : CompletionDaysMigrationTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : CompletionDaysMigrationTests(factory), IClassFixture<PostgresFactory>;
}
