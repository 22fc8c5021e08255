using Aap.Api.Platform;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Files.StoredFileConfiguration))]

namespace Aap.Api.Features.Files;

/// <summary>
/// The metadata of an uploaded file. The content lives in the file store under <see cref="Key"/>, which AAP
/// generates; the client's file name is kept only as <see cref="OriginalName"/>, for display.
/// </summary>
internal sealed class StoredFile : ITimestamped, ISoftDeletable
{
    public const int OriginalNameMaxLength = 255;

    public long Id { get; set; }

    public long OwnerId { get; set; }

    public required string Key { get; set; }

    public required string Provider { get; set; }

    public long Size { get; set; }

    public required string ContentType { get; set; }

    /// <summary>Hex SHA-256 of the content: the same bytes uploaded twice are recognisable.</summary>
    public required string Sha256 { get; set; }

    public required string OriginalName { get; set; }

    public required string Category { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>Set by DELETE; the content is removed later by the purge.</summary>
    public DateTime? DeletedAt { get; set; }

    /// <summary>Null for a file that gets no thumbnail (not an image); else pending, ready or failed (<see cref="ThumbnailStatus"/>).</summary>
    public string? ThumbnailStatus { get; set; }

    /// <summary>Where the thumbnail lives in the file store, beside the original, once it is ready.</summary>
    public string? ThumbnailKey { get; set; }

    /// <summary>Why the thumbnail failed, in one line (the image could not be read, or is too large to decode).</summary>
    public string? ThumbnailError { get; set; }
}

/// <summary>The states of a file's thumbnail: made by the <c>file-thumbnails</c> job after the upload (what <see cref="FileService.ThumbnailStatesAsync"/> gives).</summary>
[FeatureSurface]
internal static class ThumbnailStatus
{
    public const string Pending = "pending";
    public const string Ready = "ready";
    public const string Failed = "failed";

    public const int ErrorLength = 500;

    /// <summary>The state a new file starts in: pending for an image, none for anything else.</summary>
    public static string? For(string contentType) => contentType.StartsWith("image/", StringComparison.Ordinal) ? Pending : null;
}

internal sealed class StoredFileConfiguration : IEntityTypeConfiguration<StoredFile>
{
    public void Configure(EntityTypeBuilder<StoredFile> file)
    {
        file.ToTable("stored_files");
        file.Property(f => f.Key).HasMaxLength(300);
        file.Property(f => f.Provider).HasMaxLength(10);
        file.Property(f => f.ContentType).HasMaxLength(100);
        file.Property(f => f.Sha256).HasMaxLength(64);
        file.Property(f => f.OriginalName).HasMaxLength(StoredFile.OriginalNameMaxLength);
        file.Property(f => f.Category).HasMaxLength(50);
        file.Property(f => f.ThumbnailStatus).HasMaxLength(10);
        file.Property(f => f.ThumbnailKey).HasMaxLength(300);
        file.Property(f => f.ThumbnailError).HasMaxLength(ThumbnailStatus.ErrorLength);
        file.HasIndex(f => f.Key).IsUnique();
        file.HasIndex(f => new { f.OwnerId, f.CreatedAt, f.Id });
        file.HasIndex(f => f.Sha256);
        file.HasIndex(f => f.DeletedAt);
        file.HasIndex(f => new { f.ThumbnailStatus, f.Id });
    }
}
