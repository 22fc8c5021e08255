using Aap.Api.Platform;

namespace Aap.Api.Features.Imports;

/// <summary>What an import does with the rows already in its target table.</summary>
[FeatureSurface]
internal enum ImportMode
{
    /// <summary>Creates the table; refused when it already exists.</summary>
    Create,

    /// <summary>Adds the rows (creating the table when missing); a key already in the table fails the whole import.</summary>
    Append,

    /// <summary>Replaces every row of the table with the file's (creating the table when missing).</summary>
    Replace,

    /// <summary>Inserts new keys and updates existing ones (needs a key column); running it twice changes nothing more.</summary>
    Upsert,
}

/// <summary>The type of an imported column: inferred from a sample of the file, or named by an override.</summary>
[FeatureSurface]
internal enum ImportColumnType
{
    Integer,
    Bigint,
    Decimal,
    Boolean,
    Date,
    Timestamp,
    Text,
}

/// <summary>
/// How to read, clean and load one CSV/TSV file. Columns are named by their normalised (snake_case) names or by
/// their original header text. Everything but <see cref="Table"/> has a default.
/// </summary>
[FeatureSurface]
internal sealed record CsvImportOptions
{
    /// <summary>The target table's name, normalised to snake_case; it lives apart from AAP's tables (PostgreSQL schema <c>imports</c>, SQLite prefix <c>import_</c>).</summary>
    public required string Table { get; init; }

    /// <summary>The primary key column; without one, the table gets a generated <c>id</c> (<c>import_id</c> when the file has an <c>id</c>).</summary>
    public string? Key { get; init; }

    public ImportMode Mode { get; init; } = ImportMode.Create;

    /// <summary>Columns a row must have a value in (after defaults); a row without one is rejected. The key is always required.</summary>
    public IReadOnlyList<string> Required { get; init; } = [];

    /// <summary>Per-column type overrides; the others are inferred from the first <see cref="SampleRows"/> rows.</summary>
    public IReadOnlyDictionary<string, ImportColumnType> Types { get; init; } = new Dictionary<string, ImportColumnType>();

    /// <summary>Columns read as booleans (true/false, yes/no, y/n, 1/0, t/f, any case): the same as a <see cref="ImportColumnType.Boolean"/> override.</summary>
    public IReadOnlyList<string> Booleans { get; init; } = [];

    /// <summary>Values used where a column is null (the text is parsed with the column's type, so it must be valid for it).</summary>
    public IReadOnlyDictionary<string, string> Defaults { get; init; } = new Dictionary<string, string>();

    /// <summary>Field values read as null (case-insensitive, after trimming); an empty field is always null.</summary>
    public IReadOnlyList<string> NullValues { get; init; } = ["NULL", "NA", "N/A"];

    /// <summary>Trim white space around every field (default on).</summary>
    public bool Trim { get; init; } = true;

    /// <summary>Read, check and count everything, write the rejects file, and change nothing in the database.</summary>
    public bool DryRun { get; init; }

    /// <summary>The field delimiter; null detects it from the header row (comma, semicolon, tab or pipe).</summary>
    public char? Delimiter { get; init; }

    /// <summary>Whether fields may be quoted with <c>"</c> (RFC 4180, the default); false reads quotes as ordinary characters.</summary>
    public bool Quoted { get; init; } = true;

    /// <summary>The file's text encoding (a .NET or IANA name: <c>utf-8</c>, <c>latin1</c>, <c>windows-1252</c>, <c>utf-16</c>); null is UTF-8, a byte order mark wins.</summary>
    public string? Encoding { get; init; }

    /// <summary>The longest record (line, or lines of one quoted record) accepted, in characters; a longer one refuses the file before it is buffered.</summary>
    public int MaxRecordChars { get; init; } = 4 * 1024 * 1024;

    /// <summary>How many rows are read before the column types are decided.</summary>
    public int SampleRows { get; init; } = 1000;

    /// <summary>Abort when more rows than this are rejected (null: no limit).</summary>
    public long? MaxRejects { get; init; }

    /// <summary>Abort when more than this share of the rows (0 to 1) is rejected (null: no limit).</summary>
    public double? MaxRejectRatio { get; init; }

    /// <summary>Where the rejects CSV is written (line, column, reason, row); null writes none (the summary still counts them).</summary>
    public string? RejectsPath { get; init; }

    /// <summary>Rows between two progress reports and log events (one chunk).</summary>
    public int ChunkRows { get; init; } = 100_000;
}

/// <summary>Where an import stands, reported at each chunk and at each phase.</summary>
[FeatureSurface]
internal sealed record ImportProgress(
    Guid ImportId,
    ImportPhase Phase,
    long RowsRead,
    long RowsRejected,
    long BytesRead,
    long? TotalBytes,
    TimeSpan Elapsed)
{
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? RowsRead / Elapsed.TotalSeconds : 0;

    /// <summary>The estimated time left, when the file's size is known.</summary>
    public TimeSpan? Remaining => TotalBytes is > 0 && BytesRead > 0 && Elapsed > TimeSpan.Zero
        ? TimeSpan.FromSeconds(Elapsed.TotalSeconds * Math.Max(0, TotalBytes.Value - BytesRead) / BytesRead)
        : null;
}

[FeatureSurface]
internal enum ImportPhase
{
    Reading,
    Committing,
    Done,
}

/// <summary>One column of the imported table: its normalised name, the header it came from and its type.</summary>
[FeatureSurface]
internal sealed record ImportColumn(string Name, string Header, ImportColumnType Type);

/// <summary>A rejected row, as written to the rejects CSV.</summary>
[FeatureSurface]
internal sealed record ImportReject(long Line, string? Column, string Reason, string Detail);

/// <summary>What an import did.</summary>
[FeatureSurface]
internal sealed record ImportSummary(
    Guid ImportId,
    string Table,
    bool Created,
    bool DryRun,
    ImportMode Mode,
    IReadOnlyList<ImportColumn> Columns,
    string Key,
    long RowsRead,
    long RowsLoaded,
    long RowsRejected,
    IReadOnlyDictionary<string, long> RejectedByReason,
    IReadOnlyList<ImportReject> FirstRejects,
    TimeSpan Elapsed)
{
    public double RowsPerSecond => Elapsed.TotalSeconds > 0 ? RowsRead / Elapsed.TotalSeconds : 0;
}

/// <summary>The stable codes of an import's failures.</summary>
[FeatureSurface]
internal static class ImportProblemCodes
{
    /// <summary>An option is wrong (an unknown column, an invalid default, upsert without a key): 400.</summary>
    public const string InvalidOptions = "import_invalid_options";

    /// <summary>The file cannot be read as CSV (empty, no data rows, bad encoding, a record longer than the limit, no header): 400.</summary>
    public const string InvalidFile = "import_invalid_file";

    /// <summary>The file's columns do not fit the existing table (a missing, extra or differently typed column): 409.</summary>
    public const string SchemaMismatch = "import_schema_mismatch";

    /// <summary>The table exists and the mode is create, or a key of an append is already in the table: 409.</summary>
    public const string Conflict = "import_conflict";

    /// <summary>More rows were rejected than allowed: 422; nothing was written.</summary>
    public const string RejectLimit = "import_reject_limit";
}
