using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Imports.DataImportConfiguration))]

namespace Aap.Api.Features.Imports;

/// <summary>
/// One import started through the API or the admin panel, in <c>imports</c> (migration 0017): the uploaded file in
/// the file store, the options, and where the background job <see cref="ImportJob"/> has got to.
/// </summary>
internal sealed class DataImport
{
    public Guid Id { get; set; }

    /// <summary>The admin who uploaded it (no foreign key: the record outlives the account).</summary>
    public long CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>The uploaded file's name, as the client sent it (shown, never used as a path).</summary>
    public required string FileName { get; set; }

    /// <summary>The upload's key in the file store (generated: <c>imports/yyyy/MM/id.upload</c>); removed once the import has ended.</summary>
    public required string FileKey { get; set; }

    public long FileBytes { get; set; }

    /// <summary>The target table, normalised (without the schema or prefix).</summary>
    public required string TableName { get; set; }

    /// <summary>The <see cref="CsvImportOptions"/> as JSON.</summary>
    public required string Options { get; set; }

    /// <summary>One of <see cref="ImportStates"/>.</summary>
    public required string State { get; set; }

    /// <summary>Set by a cancel while the import runs: the node running it stops at its next check (at most a second later).</summary>
    public bool CancelRequested { get; set; }

    public long RowsRead { get; set; }

    public long RowsLoaded { get; set; }

    public long RowsRejected { get; set; }

    public long BytesRead { get; set; }

    /// <summary>When the running job last wrote its progress.</summary>
    public DateTime? ProgressAt { get; set; }

    /// <summary>The <see cref="ImportSummaryResponse"/> as JSON, once the import has succeeded.</summary>
    public string? Summary { get; set; }

    public string? ErrorCode { get; set; }

    public string? Error { get; set; }

    /// <summary>The rejects CSV's key in the file store, when rows were rejected.</summary>
    public string? RejectsKey { get; set; }

    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    /// <summary>
    /// When <see cref="ImportRetentionJob"/> removed the upload and the rejects from the file store,
    /// <c>Imports:RetentionDays</c> after the import ended (migration 0019); the row and its summary stay.
    /// </summary>
    public DateTime? FilesExpiredAt { get; set; }
}

internal sealed class DataImportConfiguration : IEntityTypeConfiguration<DataImport>
{
    public const int ErrorLength = 2000;

    public void Configure(EntityTypeBuilder<DataImport> import)
    {
        import.ToTable("imports");
        import.HasKey(i => i.Id);
        import.Property(i => i.Id).ValueGeneratedNever();
        import.Property(i => i.FileName).HasMaxLength(255);
        import.Property(i => i.FileKey).HasMaxLength(300);
        import.Property(i => i.TableName).HasMaxLength(100);
        import.Property(i => i.State).HasMaxLength(20);
        import.Property(i => i.ErrorCode).HasMaxLength(50);
        import.Property(i => i.Error).HasMaxLength(ErrorLength);
        import.Property(i => i.RejectsKey).HasMaxLength(300);
        import.HasIndex(i => new { i.CreatedAt, i.Id });
        import.HasIndex(i => new { i.State, i.CreatedAt });
    }
}
