using Aap.Api.Platform.Persistence.Migrations;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Persistence.Seeding;

internal static class SeedProfiles
{
    /// <summary>Sample data to explore the service with; seeded on first start in Development.</summary>
    public const string Demo = "demo";

    /// <summary>A small fixed data set that tests and benchmarks can rely on.</summary>
    public const string Test = "test";

    public static IReadOnlyList<string> All { get; } = [Demo, Test];

    public static bool IsKnown(string profile) => All.Contains(profile, StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// One feature's seed data. Contributors run in <see cref="Order"/> (parents before children) inside one
/// transaction, and must be idempotent: they insert what is missing, by natural key, and never change or
/// resurrect existing rows, so seeding twice changes nothing.
/// </summary>
internal interface ISeedContributor
{
    int Order { get; }

    Task<int> SeedAsync(AppDbContext db, string profile, CancellationToken cancellationToken);
}

internal sealed partial class Seeder(AppDbContext db, IEnumerable<ISeedContributor> contributors, ILogger<Seeder> logger)
{
    /// <summary>Seeds the profile and returns how many rows were inserted.</summary>
    public async Task<int> SeedAsync(string profile, CancellationToken cancellationToken)
    {
        if (!SeedProfiles.IsKnown(profile))
        {
            throw new ArgumentException($"Unknown seed profile '{profile}'; use one of {string.Join(", ", SeedProfiles.All)}.", nameof(profile));
        }

        profile = profile.ToLowerInvariant();
        var strategy = db.Database.CreateExecutionStrategy();
        var inserted = await strategy.ExecuteAsync(async () =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // Nodes that start together seed together. Contributors insert what they do not find, so they must take
            // turns: on PostgreSQL the migration lock, held until this transaction ends (the next node then reads
            // what this one committed); on SQLite the transaction itself is BEGIN IMMEDIATE, one writer at a time.
            if (db.Database.IsNpgsql())
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({DatabaseMigrator.PostgresLockKey})", cancellationToken);
            }

            var total = 0;
            foreach (var contributor in contributors.OrderBy(c => c.Order))
            {
                total += await contributor.SeedAsync(db, profile, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return total;
        });

        LogSeeded(profile, inserted);
        return inserted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Seed profile {Profile}: {Inserted} rows inserted")]
    private partial void LogSeeded(string profile, int inserted);
}
