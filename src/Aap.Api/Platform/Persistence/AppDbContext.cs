using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// The one EF Core context of AAP. It knows no feature: each feature describes its own tables in
/// <see cref="IEntityTypeConfiguration{TEntity}"/> classes, declared with <see cref="EntityConfigurationAttribute"/>, and
/// reaches them with <c>Set&lt;TEntity&gt;()</c>; a feature never names another feature's entities (foreign keys
/// between features are in the migration scripts). Endpoints and services use it directly (no repositories). Table
/// and column names are snake_case on both providers. Instances are pooled and reused across requests, so the
/// context keeps no state of its own: timestamps and versions are stamped by <see cref="TimestampInterceptor"/>
/// as changes are saved. It also holds the Data Protection key ring (<see cref="DataProtectionKeys"/>), which
/// every node shares.
/// </summary>
internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        EntityConfigurationAttribute.ApplyAll(modelBuilder, typeof(AppDbContext).Assembly);
        modelBuilder.Entity<DataProtectionKey>(); // data_protection_keys (migration 0011)
        EntityConventions.Apply(modelBuilder);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC. SQLite hands DateTime back without a kind; this puts it back.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
