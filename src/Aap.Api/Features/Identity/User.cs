using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Identity.UserConfiguration))]

namespace Aap.Api.Features.Identity;

/// <summary>An account. At least one of e-mail and user name is set; both are unique case-insensitively.</summary>
internal sealed class User : IdentityUser<long>, ITimestamped
{
    public string Role { get; set; } = Roles.User;

    /// <summary>A deactivated account cannot log in or refresh; its data is kept.</summary>
    public bool IsActive { get; set; } = true;

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public const int UserNameMaxLength = 150;
    public const int EmailMaxLength = 254;

    public void Configure(EntityTypeBuilder<User> user)
    {
        // What IdentityUserContext would configure, for a context that is not one: the concurrency stamp guards
        // UserManager's updates, and the claims, logins and tokens tables belong to the user.
        user.ToTable("users");
        user.HasKey(u => u.Id);
        user.Property(u => u.ConcurrencyStamp).IsConcurrencyToken();
        user.HasMany<IdentityUserClaim<long>>().WithOne().HasForeignKey(c => c.UserId).IsRequired();
        user.HasMany<IdentityUserLogin<long>>().WithOne().HasForeignKey(l => l.UserId).IsRequired();
        user.HasMany<IdentityUserToken<long>>().WithOne().HasForeignKey(t => t.UserId).IsRequired();
        user.Property(u => u.UserName).HasMaxLength(UserNameMaxLength);
        user.Property(u => u.NormalizedUserName).HasMaxLength(UserNameMaxLength);
        user.Property(u => u.Email).HasMaxLength(EmailMaxLength);
        user.Property(u => u.NormalizedEmail).HasMaxLength(EmailMaxLength);
        user.Property(u => u.Role).HasMaxLength(20).IsRequired();
        user.HasIndex(u => u.NormalizedUserName).HasDatabaseName("ix_users_normalized_user_name").IsUnique();
        user.HasIndex(u => u.NormalizedEmail).HasDatabaseName("ix_users_normalized_email").IsUnique();
        // The dashboard's sign-ups per day, counted one day at a time (0014), and the admins' list by cursor (0021).
        user.HasIndex(u => new { u.CreatedAt, u.Id }).HasDatabaseName("ix_users_created_at_id");
        // The dashboard's totals of accounts, active ones and admins, from the index alone (0014).
        user.HasIndex(u => new { u.IsActive, u.Role }).HasDatabaseName("ix_users_is_active_role");
    }
}
