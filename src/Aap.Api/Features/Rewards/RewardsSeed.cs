using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Seeding;
using Bogus;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>
/// Demo users who have completed some of the demo apps, with their screenshots, ledger entries and balances, so
/// that the leaderboard, the stats and the admin review queue have something to show. Names, picks and dates come
/// from a fixed seed, so the same users complete the same apps every time; users that already exist are left alone.
/// Demo users have no password: they are data to look at, not accounts to log in with.
/// </summary>
internal sealed class RewardsSeed(AccountService accounts, AppsCatalog catalog, FileService files, TimeProvider clock) : ISeedContributor
{
    private const int DemoUsers = 24;

    public int Order => 200;

    public async Task<int> SeedAsync(AppDbContext db, string profile, CancellationToken cancellationToken)
    {
        if (profile != SeedProfiles.Demo)
        {
            return 0;
        }

        var apps = (await catalog.AllAsync(cancellationToken)).Where(a => a.IsActive).ToList();
        if (apps.Count == 0)
        {
            return 0;
        }

        var faker = new Faker("en") { Random = new Randomizer(20_261_122) };
        var now = clock.GetUtcNow().UtcDateTime;
        var inserted = 0;
        for (var i = 0; i < DemoUsers; i++)
        {
            var first = faker.Name.FirstName();
            var last = faker.Name.LastName();
            var userName = $"demo.{first}.{last}".ToLowerInvariant().Replace("'", "", StringComparison.Ordinal);
            var picks = faker.PickRandom(apps, faker.Random.Int(1, Math.Min(4, apps.Count))).ToList();
            var daysAgo = picks.Select(_ => faker.Random.Int(0, 40)).ToList();
            // The demo users' ids come from Identity; a name that already exists is left alone.
            if (await accounts.CreateDemoAccountAsync(userName, $"{userName}@demo.example", cancellationToken) is not { } userId)
            {
                continue;
            }

            inserted++;

            long balance = 0;
            for (var p = 0; p < picks.Count; p++)
            {
                var app = picks[p];
                var when = now.AddDays(-daysAgo[p]);
                var screenshot = await StoreScreenshotAsync(userId, when, cancellationToken);
                var completion = new AppCompletion
                {
                    UserId = userId,
                    AppId = app.Id,
                    ScreenshotFileId = screenshot.Id,
                    ScreenshotSha256 = screenshot.Sha256,
                    Points = app.Points,
                    Status = p == picks.Count - 1 && i % 3 == 0 ? CompletionStatus.Pending : CompletionStatus.Approved,
                };
                db.Set<AppCompletion>().Add(completion);
                await db.SaveChangesAsync(cancellationToken);
                // Spread over the past weeks, so the leaderboard periods differ.
                DateTime? reviewed = completion.Status == CompletionStatus.Approved ? when : null;
                await db.Set<AppCompletion>().Where(c => c.Id == completion.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(c => c.CreatedAt, when).SetProperty(c => c.UpdatedAt, when).SetProperty(c => c.ReviewedAt, reviewed), cancellationToken);
                if (completion.Status == CompletionStatus.Approved)
                {
                    db.Set<PointEntry>().Add(new PointEntry { UserId = userId, Amount = app.Points, Reason = LedgerReasons.Completion, CompletionId = completion.Id, CreatedAt = when });
                    balance += app.Points;
                }

                await db.SaveChangesAsync(cancellationToken);
                inserted += 2;
            }

            db.Set<PointBalance>().Add(new PointBalance { UserId = userId, Balance = balance });
            await db.SaveChangesAsync(cancellationToken);
        }

        return inserted;
    }

    /// <summary>
    /// A small PNG, unique per completion, stored through the files feature. Its trailing bytes are random and not
    /// drawn from the seeded generator: a later run skips existing users without storing anything, and must draw the
    /// same names as the first run did.
    /// </summary>
    private Task<StoredFileInfo> StoreScreenshotAsync(long userId, DateTime when, CancellationToken cancellationToken)
    {
        byte[] png = [.. Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="),
            .. System.Text.Encoding.ASCII.GetBytes(Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)))];
        return files.StoreAsync(userId, png, "image/png", "screenshot.png", "screenshots", when, cancellationToken);
    }
}
