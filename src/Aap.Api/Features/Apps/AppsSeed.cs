using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Persistence.Seeding;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Apps;

/// <summary>Categories first, then the apps that point at them; only what is missing is inserted.</summary>
internal sealed class AppsSeed : ISeedContributor
{
    public int Order => 100;

    public async Task<int> SeedAsync(AppDbContext db, string profile, CancellationToken cancellationToken)
    {
        var (categories, apps) = profile == SeedProfiles.Demo ? (DemoCategories, DemoApps) : (TestCategories, TestApps);

        var existingSlugs = await db.Set<AppCategory>().Select(c => c.Slug).ToListAsync(cancellationToken);
        var newCategories = categories.Where(c => !existingSlugs.Contains(c.Slug))
            .Select(c => new AppCategory { Slug = c.Slug, Name = c.Name })
            .ToList();
        db.Set<AppCategory>().AddRange(newCategories);
        await db.SaveChangesAsync(cancellationToken);

        var categoryIds = await db.Set<AppCategory>().ToDictionaryAsync(c => c.Slug, c => c.Id, cancellationToken);
        // Deleted apps count as present: seeding never brings back what an admin removed.
        var existingNames = await db.Set<App>().IgnoreQueryFilters([QueryFilters.SoftDelete]).Select(a => a.NormalizedName).ToListAsync(cancellationToken);
        var newApps = new List<App>();
        foreach (var seed in apps.Where(a => !existingNames.Contains(App.Normalize(a.Name))))
        {
            var app = new App { Link = seed.Link, Points = seed.Points, Description = seed.Description, CategoryId = categoryIds[seed.Category], IsActive = seed.Active };
            app.Rename(seed.Name);
            newApps.Add(app);
        }

        db.Set<App>().AddRange(newApps);
        await db.SaveChangesAsync(cancellationToken);
        return newCategories.Count + newApps.Count;
    }

    private sealed record CategorySeed(string Slug, string Name);

    private sealed record AppSeed(string Name, string Link, int Points, string Category, string Description, bool Active = true);

    private static readonly CategorySeed[] DemoCategories =
    [
        new("games", "Games"),
        new("education", "Education"),
        new("productivity", "Productivity"),
        new("finance", "Finance"),
        new("health", "Health & Fitness"),
    ];

    private static readonly AppSeed[] DemoApps =
    [
        new("Duolingo", "https://play.google.com/store/apps/details?id=com.duolingo", 50, "education", "Learn a language in short daily lessons."),
        new("Khan Academy", "https://play.google.com/store/apps/details?id=org.khanacademy.android", 40, "education", "Free lessons in maths, science and more."),
        new("Chess.com", "https://play.google.com/store/apps/details?id=com.chess", 30, "games", "Play chess online and solve puzzles."),
        new("Lichess", "https://play.google.com/store/apps/details?id=org.lichess.mobileapp", 25, "games", "Free, open-source chess."),
        new("Todoist", "https://play.google.com/store/apps/details?id=com.todoist", 35, "productivity", "To-do lists and reminders."),
        new("Google Keep", "https://play.google.com/store/apps/details?id=com.google.android.keep", 20, "productivity", "Notes and lists."),
        new("Wise", "https://play.google.com/store/apps/details?id=com.transferwise.android", 60, "finance", "Send money abroad."),
        new("Strava", "https://play.google.com/store/apps/details?id=com.strava", 45, "health", "Track runs and rides."),
    ];

    private static readonly CategorySeed[] TestCategories =
    [
        new("games", "Games"),
        new("tools", "Tools"),
    ];

    private static readonly AppSeed[] TestApps =
    [
        new("Test Alpha", "https://play.google.com/store/apps/details?id=test.alpha", 10, "games", "First test app."),
        new("Test Beta", "https://play.google.com/store/apps/details?id=test.beta", 20, "tools", "Second test app."),
        new("Test Hidden", "https://play.google.com/store/apps/details?id=test.hidden", 30, "tools", "An inactive test app.", Active: false),
    ];
}
