using System.Text;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Apps.AppConfiguration))]
[assembly: EntityConfiguration(typeof(Aap.Api.Features.Apps.AppCategoryConfiguration))]

namespace Aap.Api.Features.Apps;

/// <summary>An Android app that admins publish and users earn points for.</summary>
internal sealed class App : ITimestamped, ISoftDeletable, IVersioned
{
    public const int NameMaxLength = 100;
    public const int LinkMaxLength = 2048;
    public const int DescriptionMaxLength = 2000;
    public const int MinPoints = 1;
    public const int MaxPoints = 100_000;

    public long Id { get; set; }

    public string Name { get; private set; } = "";

    /// <summary>The name trimmed, NFC-normalised and upper-cased: unique among apps that are not deleted.</summary>
    public string NormalizedName { get; private set; } = "";

    public required string Link { get; set; }

    public int Points { get; set; }

    public string? Description { get; set; }

    public long? CategoryId { get; set; }

    public AppCategory? Category { get; set; }

    public bool IsActive { get; set; } = true;

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    public long Version { get; set; }

    public void Rename(string name)
    {
        Name = name.Trim().Normalize(NormalizationForm.FormC);
        NormalizedName = Normalize(name);
    }

    public static string Normalize(string name) => name.Trim().Normalize(NormalizationForm.FormC).ToUpperInvariant();
}

/// <summary>A group of apps, such as "Games" or "Finance".</summary>
internal sealed class AppCategory : ITimestamped
{
    public long Id { get; set; }

    /// <summary>Stable, URL-safe key used in filters (<c>?category=games</c>).</summary>
    public required string Slug { get; set; }

    public required string Name { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class AppConfiguration : IEntityTypeConfiguration<App>
{
    public void Configure(EntityTypeBuilder<App> app)
    {
        app.ToTable("apps");
        app.Property(a => a.Name).HasMaxLength(App.NameMaxLength).IsRequired();
        app.Property(a => a.NormalizedName).HasMaxLength(App.NameMaxLength).IsRequired();
        app.Property(a => a.Link).HasMaxLength(App.LinkMaxLength).IsRequired();
        app.Property(a => a.Description).HasMaxLength(App.DescriptionMaxLength);
        app.HasOne(a => a.Category).WithMany().HasForeignKey(a => a.CategoryId).OnDelete(DeleteBehavior.Restrict);

        // Unique among live apps only: a deleted app's name can be used again.
        app.HasIndex(a => a.NormalizedName).IsUnique().HasFilter("deleted_at IS NULL");
        // The default listing: live, active apps, newest first.
        app.HasIndex(a => new { a.IsActive, a.CreatedAt });
        app.HasIndex(a => a.CategoryId);
    }
}

internal sealed class AppCategoryConfiguration : IEntityTypeConfiguration<AppCategory>
{
    public void Configure(EntityTypeBuilder<AppCategory> category)
    {
        category.ToTable("app_categories");
        category.Property(c => c.Slug).HasMaxLength(50).IsRequired();
        category.Property(c => c.Name).HasMaxLength(100).IsRequired();
        category.HasIndex(c => c.Slug).IsUnique();
    }
}
