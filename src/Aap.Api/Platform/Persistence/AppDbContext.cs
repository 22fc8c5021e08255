using Aap.Api.Features.Apps;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// The one EF Core context of AAP. Features add their sets and configurations here; endpoints use it directly
/// (no repositories). Table and column names are snake_case on both providers.
/// </summary>
internal sealed class AppDbContext(DbContextOptions<AppDbContext> options, TimeProvider clock) : DbContext(options)
{
    public DbSet<App> Apps => Set<App>();

    public DbSet<AppCategory> AppCategories => Set<AppCategory>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new AppCategoryConfiguration());
        modelBuilder.ApplyConfiguration(new AppConfiguration());

        EntityConventions.Apply(modelBuilder);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC. SQLite hands DateTime back without a kind; this puts it back.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        EntityConventions.Stamp(ChangeTracker, clock.GetUtcNow().UtcDateTime);
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        EntityConventions.Stamp(ChangeTracker, clock.GetUtcNow().UtcDateTime);
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
