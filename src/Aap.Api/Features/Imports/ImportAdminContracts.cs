using System.ComponentModel.DataAnnotations;
using Aap.Api.Platform;

namespace Aap.Api.Features.Imports;

/// <summary>The states of an import started through the API; queued and running are active, the others final.</summary>
[FeatureSurface]
internal static class ImportStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly IReadOnlyList<string> Active = [Queued, Running];

    public static bool IsActive(string state) => state is Queued or Running;
}

/// <summary>Section <c>Imports</c>: the limits of imports started through the API.</summary>
internal sealed class ImportsOptions
{
    public const string SectionName = "Imports";

    /// <summary>The largest CSV an admin may upload, in bytes (default 2 GB); a larger one gets 413 and nothing is stored.</summary>
    [Range(1024, 1024L * 1024 * 1024 * 1024)]
    public long MaxUploadBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// Days an ended import's files (its upload, if still stored, and its rejects CSV) are kept before the daily job
    /// <c>import-retention</c> removes them (default 30; 0 keeps them forever). The import's row and summary stay.
    /// </summary>
    [Range(0, 3650)]
    public int RetentionDays { get; set; } = 30;
}

/// <summary>
/// What an import started through the API looks like: its file, options, state, progress and outcome.
/// <c>files_removed_at</c>: when its upload and rejects were removed from the file store, <c>Imports:RetentionDays</c>
/// after it ended (the record stays); <c>has_rejects</c> is then false.
/// </summary>
[FeatureSurface]
internal sealed record ImportResponse(
    Guid Id,
    string State,
    string FileName,
    long FileBytes,
    string Table,
    ImportMode Mode,
    bool DryRun,
    long CreatedBy,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    bool CancelRequested,
    ImportProgressResponse Progress,
    ImportSummaryResponse? Summary,
    ImportErrorResponse? Error,
    bool HasRejects,
    DateTime? FilesRemovedAt);

/// <summary>Rows read so far (written by the job at most once a second), and the share of the file read.</summary>
[FeatureSurface]
internal sealed record ImportProgressResponse(long RowsRead, long RowsRejected, long BytesRead, double? Percent, DateTime? UpdatedAt);

/// <summary>Why an import failed: one of <see cref="ImportProblemCodes"/> (or <c>import_failed</c> for an unexpected error) and its detail.</summary>
[FeatureSurface]
internal sealed record ImportErrorResponse(string Code, string Detail);

/// <summary>What a finished import did (<see cref="ImportSummary"/> as the API shows it).</summary>
[FeatureSurface]
internal sealed record ImportSummaryResponse(
    string Table,
    bool Created,
    bool DryRun,
    ImportMode Mode,
    string Key,
    IReadOnlyList<ImportColumnResponse> Columns,
    long RowsRead,
    long RowsLoaded,
    long RowsRejected,
    IReadOnlyDictionary<string, long> RejectedByReason,
    IReadOnlyList<ImportReject> FirstRejects,
    double Seconds,
    double RowsPerSecond)
{
    public static ImportSummaryResponse From(ImportSummary s) => new(
        s.Table, s.Created, s.DryRun, s.Mode, s.Key,
        [.. s.Columns.Select(c => new ImportColumnResponse(c.Name, c.Header, c.Type))],
        s.RowsRead, s.RowsLoaded, s.RowsRejected, s.RejectedByReason, s.FirstRejects,
        Math.Round(s.Elapsed.TotalSeconds, 3), Math.Round(s.RowsPerSecond));
}

[FeatureSurface]
internal sealed record ImportColumnResponse(string Name, string Header, ImportColumnType Type);

/// <summary>The rejects CSV of an import, to stream to the client.</summary>
[FeatureSurface]
internal sealed record ImportRejectsFile(Stream Content, long Length, string FileName);

/// <summary>An uploaded file's content, to spool and store: the stream is read once, never buffered whole.</summary>
[FeatureSurface]
internal sealed record ImportUploadFile(string FileName, Stream Content);

/// <summary>The codes of the admin imports API's own failures (the pipeline's are <see cref="ImportProblemCodes"/>).</summary>
[FeatureSurface]
internal static class ImportAdminCodes
{
    /// <summary>The import has already ended (succeeded, failed or been cancelled): 409 on cancel.</summary>
    public const string Finished = "import_finished";

    /// <summary>The import has no rejects file (none rejected, or not finished yet): 404.</summary>
    public const string NoRejects = "import_no_rejects";
    public const string FilesExpired = "import_files_expired";

    /// <summary>The import failed with an unexpected error (the database went away): see the log for its details.</summary>
    public const string Failed = "import_failed";
}
