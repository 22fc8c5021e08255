using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

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

/// <summary>
/// A refresh token, kept only as the SHA-256 hash of its value. Tokens of one login form a family: each refresh
/// consumes the presented token and issues its successor in the same family, which never outlives
/// <see cref="FamilyExpiresAt"/>.
/// </summary>
internal sealed class RefreshToken
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public Guid FamilyId { get; set; }

    public required string TokenHash { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    public DateTime FamilyExpiresAt { get; set; }

    public DateTime? UsedAt { get; set; }

    public DateTime? RevokedAt { get; set; }

    public string? RevokedReason { get; set; }

    public long? ReplacedById { get; set; }

    /// <summary>Which routes issued the token (<see cref="TokenDialects"/>); only their refresh route accepts it.</summary>
    public string Dialect { get; set; } = TokenDialects.V1;
}

/// <summary>
/// The families of routes that issue refresh tokens. A token is refreshed only by a route of the dialect that
/// issued it, so that a token obtained through one contract cannot be replayed through another's rules.
/// </summary>
internal static class TokenDialects
{
    /// <summary><c>/api/v1/auth/*</c> and the password change.</summary>
    public const string V1 = "v1";

    /// <summary>The seed documents' routes (<c>/api/login/</c>, <c>/api/token/user|admin/</c>, their refresh routes).</summary>
    public const string Seed = "seed";
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
    }
}

internal sealed class RefreshTokenConfiguration : IEntityTypeConfiguration<RefreshToken>
{
    public void Configure(EntityTypeBuilder<RefreshToken> token)
    {
        token.ToTable("refresh_tokens");
        token.Property(t => t.TokenHash).HasMaxLength(64).IsRequired();
        token.Property(t => t.RevokedReason).HasMaxLength(50);
        token.Property(t => t.Dialect).HasMaxLength(10);
        token.HasIndex(t => t.TokenHash).IsUnique();
        token.HasIndex(t => t.FamilyId);
        token.HasIndex(t => new { t.UserId, t.RevokedAt });
        token.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>The tables of Identity's external logins, claims and tokens (kept for Identity's stores; unused so far).</summary>
internal sealed class IdentityTablesConfiguration :
    IEntityTypeConfiguration<IdentityUserClaim<long>>, IEntityTypeConfiguration<IdentityUserLogin<long>>, IEntityTypeConfiguration<IdentityUserToken<long>>
{
    public void Configure(EntityTypeBuilder<IdentityUserClaim<long>> claim)
    {
        claim.ToTable("user_claims");
        claim.HasKey(c => c.Id);
    }

    public void Configure(EntityTypeBuilder<IdentityUserLogin<long>> login)
    {
        login.ToTable("user_logins");
        login.HasKey(l => new { l.LoginProvider, l.ProviderKey });
    }

    public void Configure(EntityTypeBuilder<IdentityUserToken<long>> token)
    {
        token.ToTable("user_tokens");
        token.HasKey(t => new { t.UserId, t.LoginProvider, t.Name });
    }
}
