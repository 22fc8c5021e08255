using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Identity.RefreshTokenConfiguration))]

namespace Aap.Api.Features.Identity;

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
