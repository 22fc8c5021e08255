using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Identity;
using Aap.Api.Features.Rewards;
using Aap.Api.Features.Todos;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Settings;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// The one EF Core context of AAP. Features add their sets and configurations here; endpoints use it directly
/// (no repositories). Table and column names are snake_case on both providers. It is an Identity user context
/// (users and their claims, logins and tokens); roles are a column of the user, not tables. Instances are pooled
/// and reused across requests, so the context keeps no state of its own: timestamps and versions are stamped by
/// <see cref="TimestampInterceptor"/> as changes are saved.
/// </summary>
internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : IdentityUserContext<User, long>(options)
{
    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();

    public DbSet<EndedSession> EndedSessions => Set<EndedSession>();

    public DbSet<TodoTask> TodoTasks => Set<TodoTask>();

    public DbSet<StoredFile> StoredFiles => Set<StoredFile>();

    public DbSet<AppCompletion> AppCompletions => Set<AppCompletion>();

    public DbSet<PointEntry> PointLedger => Set<PointEntry>();

    public DbSet<PointBalance> PointBalances => Set<PointBalance>();

    public DbSet<PointTransfer> PointTransfers => Set<PointTransfer>();

    public DbSet<RuntimeSetting> RuntimeSettings => Set<RuntimeSetting>();

    public DbSet<RuntimeSettingChange> RuntimeSettingChanges => Set<RuntimeSettingChange>();

    public DbSet<App> Apps => Set<App>();

    public DbSet<AppCategory> AppCategories => Set<AppCategory>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // Passkeys (Identity schema version 3) are not used: no table for them.
        modelBuilder.Ignore<IdentityUserPasskey<long>>();
        modelBuilder.Ignore<IdentityPasskeyData>();
        modelBuilder.ApplyConfiguration(new UserConfiguration());
        modelBuilder.Entity<IdentityUserClaim<long>>().ToTable("user_claims");
        modelBuilder.Entity<IdentityUserLogin<long>>().ToTable("user_logins");
        modelBuilder.Entity<IdentityUserToken<long>>().ToTable("user_tokens");
        modelBuilder.ApplyConfiguration(new RefreshTokenConfiguration());
        modelBuilder.ApplyConfiguration(new EndedSessionConfiguration());
        modelBuilder.ApplyConfiguration(new LoginAttemptConfiguration());
        modelBuilder.ApplyConfiguration(new RuntimeSettingConfiguration());
        modelBuilder.ApplyConfiguration(new RuntimeSettingChangeConfiguration());
        modelBuilder.ApplyConfiguration(new TodoTaskConfiguration());
        modelBuilder.ApplyConfiguration(new StoredFileConfiguration());
        var rewards = new RewardsConfiguration();
        modelBuilder.ApplyConfiguration<AppCompletion>(rewards);
        modelBuilder.ApplyConfiguration<PointEntry>(rewards);
        modelBuilder.ApplyConfiguration<PointBalance>(rewards);
        modelBuilder.ApplyConfiguration<PointTransfer>(rewards);
        modelBuilder.ApplyConfiguration(new AppCategoryConfiguration());
        modelBuilder.ApplyConfiguration(new AppConfiguration());
        modelBuilder.ApplyConfiguration(new IdempotencyRecordConfiguration());

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
