using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Isins.IsinConfiguration))]

namespace Aap.Api.Features.Isins;

/// <summary>One ISIN of the downloaded list, in <c>isins</c>: kept when it leaves the list, with <see cref="RemovedAt"/> set.</summary>
internal sealed class Isin
{
    /// <summary>The 12-character ISIN (the key).</summary>
    public required string Code { get; set; }

    /// <summary>The LEI of the issuer, when the source file has one.</summary>
    public string? Lei { get; set; }

    /// <summary>The first two letters of the ISIN.</summary>
    public required string Country { get; set; }

    /// <summary>The first load that listed it.</summary>
    public DateTime FirstSeen { get; set; }

    /// <summary>The last load that listed it.</summary>
    public DateTime LastSeen { get; set; }

    /// <summary>The first load that no longer listed it; null while it is listed (set back to null if it returns).</summary>
    public DateTime? RemovedAt { get; set; }
}

/// <summary>What the last download of a source left behind, in <c>isin_downloads</c>, shared by every node.</summary>
internal sealed class IsinDownload
{
    public required string SourceUrl { get; set; }

    /// <summary>The <c>ETag</c> of the file last loaded (sent back as <c>If-None-Match</c>).</summary>
    public string? ETag { get; set; }

    /// <summary>The <c>Last-Modified</c> of the file last loaded, as sent (sent back as <c>If-Modified-Since</c>).</summary>
    public string? LastModified { get; set; }

    /// <summary>The SHA-256 (hex) of the file last loaded: the same bytes again are not loaded again, even without a 304.</summary>
    public string? Sha256 { get; set; }

    public DateTime? CheckedAt { get; set; }

    public DateTime? LoadedAt { get; set; }

    /// <summary>unchanged, loaded or failed.</summary>
    public string? Outcome { get; set; }

    public long Rows { get; set; }

    public long InvalidRows { get; set; }

    public string? Error { get; set; }
}

internal sealed class IsinConfiguration : IEntityTypeConfiguration<Isin>, IEntityTypeConfiguration<IsinDownload>
{
    public void Configure(EntityTypeBuilder<Isin> isin)
    {
        isin.ToTable("isins");
        isin.HasKey(i => i.Code);
        isin.Property(i => i.Code).HasColumnName("isin").HasMaxLength(12);
        isin.Property(i => i.Lei).HasMaxLength(20);
        isin.Property(i => i.Country).HasMaxLength(2);
        isin.HasIndex(i => i.Lei);
        isin.HasIndex(i => new { i.Country, i.Code });
    }

    public void Configure(EntityTypeBuilder<IsinDownload> download)
    {
        download.ToTable("isin_downloads");
        download.HasKey(d => d.SourceUrl);
        download.Property(d => d.SourceUrl).HasMaxLength(2000);
        download.Property(d => d.ETag).HasColumnName("etag").HasMaxLength(500);
        download.Property(d => d.LastModified).HasMaxLength(100);
        download.Property(d => d.Sha256).HasColumnName("sha256").HasMaxLength(64);
        download.Property(d => d.Outcome).HasMaxLength(20);
        download.Property(d => d.Error).HasMaxLength(500);
    }
}
