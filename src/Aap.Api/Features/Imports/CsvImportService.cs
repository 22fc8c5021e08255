using System.Diagnostics;
using System.Text;
using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.Extensions.Options;
using nietras.SeparatedValues;

namespace Aap.Api.Features.Imports;

/// <summary>
/// Imports one CSV or TSV file (optionally gzip) into a table of its own, the pipeline of seed 003's Task 2:
/// stream the file (Sep), decide the column types from a sample (or the existing table), clean every row by the
/// options' rules, send refused rows to the rejects file, stage the others (PostgreSQL binary COPY into an UNLOGGED
/// table; SQLite one prepared INSERT in one transaction), then move them into the target in one transaction.
/// Nothing of the target changes unless the whole import succeeds; memory stays flat whatever the file's size.
/// <para>
/// The surface for callers (the command line, and background jobs started from the API): <see cref="ImportAsync(string, CsvImportOptions, IProgress{ImportProgress}?, CancellationToken)"/>
/// or the stream overload. Expected failures come back as a <see cref="Failure"/> whose code is one of
/// <see cref="ImportProblemCodes"/>: 400 for bad options or an unreadable file, 409 for a table that does not fit or
/// already exists, 422 when more rows were rejected than allowed. Anything else (the database is down) throws, and
/// is logged with its exception. Progress is reported synchronously, from the reading thread, once per chunk and
/// per phase: give an <see cref="IProgress{T}"/> that returns quickly.
/// </para>
/// </summary>
[FeatureSurface]
internal sealed partial class CsvImportService(IOptions<DatabaseOptions> database, TimeProvider clock, ILogger<CsvImportService> logger, ImportMetrics metrics)
{
    /// <summary>How many rejected rows the summary lists (the rejects file has all of them).</summary>
    public const int FirstRejectsKept = 20;

    /// <summary>Imports the file at <paramref name="path"/>; see the class's remarks.</summary>
    public async Task<Result<ImportSummary>> ImportAsync(string path, CsvImportOptions options, IProgress<ImportProgress>? progress, CancellationToken cancellationToken)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return new Failure(StatusCodes.Status400BadRequest, ImportProblemCodes.InvalidFile, $"The file '{path}' cannot be opened: {ex.Message}");
        }

        await using (file)
        {
            long? length = file.CanSeek ? file.Length : null;
            return await ImportAsync(file, length, options, progress, cancellationToken);
        }
    }

    /// <summary>Imports the CSV read from <paramref name="stream"/> (<paramref name="length"/>, when known, makes the progress show an ETA).</summary>
    public Task<Result<ImportSummary>> ImportAsync(Stream stream, long? length, CsvImportOptions options, IProgress<ImportProgress>? progress,
        CancellationToken cancellationToken) => ImportAsync(stream, length, options, progress, null, cancellationToken);

    /// <summary>
    /// As the other stream overload, with a <paramref name="hook"/> that writes the caller's own record of the import
    /// in the data transaction (the job's outcome in <c>imports</c>), so that it commits with the rows or not at all.
    /// </summary>
    public async Task<Result<ImportSummary>> ImportAsync(Stream stream, long? length, CsvImportOptions options, IProgress<ImportProgress>? progress,
        ImportCommitHook? hook, CancellationToken cancellationToken)
    {
        var run = new ImportRun(Guid.CreateVersion7(), options, clock, progress) { TotalBytes = length };
        var table = Identifiers.Normalize(options.Table, "");
        try
        {
            var result = await RunAsync(run, table, stream, hook, cancellationToken);
            if (result.Succeeded)
            {
                var s = result.Value;
                LogImported(run.Id, s.Table, s.Mode, s.DryRun, s.RowsRead, s.RowsLoaded, s.RowsRejected, s.Elapsed.TotalSeconds, s.RowsPerSecond);
                metrics.Ended("succeeded", s.Mode, s.Elapsed, s.RowsLoaded, s.RowsRejected, s.DryRun);
            }
            else
            {
                LogRefused(run.Id, table, result.Failure.Code, result.Failure.Detail, run.RowsRead, run.RowsRejected);
                metrics.Ended("refused", options.Mode, run.Elapsed, 0, run.RowsRejected, options.DryRun);
            }

            return result;
        }
        catch (Exception ex)
        {
            LogFailed(ex, run.Id, table, run.RowsRead, run.RowsRejected);
            metrics.Ended("failed", options.Mode, run.Elapsed, 0, run.RowsRejected, options.DryRun);
            throw;
        }
    }

    private async Task<Result<ImportSummary>> RunAsync(ImportRun run, string table, Stream stream, ImportCommitHook? hook, CancellationToken cancellationToken)
    {
        var options = run.Options;
        if (OptionErrors(options, table) is { } invalid)
        {
            return invalid;
        }

        Encoding encoding;
        try
        {
            encoding = CsvSource.ResolveEncoding(options.Encoding);
        }
        catch (ArgumentException ex)
        {
            return InvalidOptions(ex.Message, "encoding");
        }

        await using var target = CreateTarget(run.Id);
        var displayName = target.DisplayName(table);
        using var counting = new CsvSource.Counting(stream);
        run.Counter = counting;
        try
        {
            using var text = CsvSource.OpenText(counting, encoding, options.MaxRecordChars, options.Quoted);
            if (text.FirstLine.Length == 0 && text.Peek() < 0 && counting.BytesRead <= 3)
            {
                return InvalidFile("The file is empty: a CSV import needs a header row and at least one data row.");
            }

            using var reader = CsvSource.Reader(text, options.Delimiter, options.Quoted, text.FirstLine);
            var headers = reader.Header.ColNames;
            if (headers.Count == 0 || headers.All(string.IsNullOrWhiteSpace))
            {
                return InvalidFile("The file has no header row: its first line must name the columns.");
            }

            var existing = await target.DescribeAsync(table, cancellationToken);
            if (existing is not null && options.Mode == ImportMode.Create)
            {
                return new Failure(StatusCodes.Status409Conflict, ImportProblemCodes.Conflict,
                    $"The table {displayName} already exists; use --mode append, replace or upsert to load into it.");
            }

            // The generated key keeps clear of the file's own columns.
            var names = Identifiers.Columns(headers, []);
            var generatedKey = options.Key is null ? (names.Contains("id") ? "import_id" : "id") : null;
            var columnsResult = ResolveColumns(options, headers, names);
            if (!columnsResult.Succeeded)
            {
                return columnsResult.Failure;
            }

            var resolved = columnsResult.Value;
            var sample = ReadSample(reader, options.SampleRows);
            var plan = Plan(options, table, displayName, names, headers, resolved, sample, existing, generatedKey);
            if (!plan.Succeeded)
            {
                return plan.Failure;
            }

            var rules = Rules.Create(plan.Value, resolved, options);
            if (!rules.Succeeded)
            {
                return rules.Failure;
            }

            if (!options.DryRun)
            {
                await target.BeginAsync(plan.Value, cancellationToken);
            }

            using (var rejects = options.RejectsPath is { } path ? RejectsFile.Create(path) : null)
            {
                var aborted = Load(run, reader, sample, rules.Value, options.DryRun ? null : target, rejects, cancellationToken);
                if (aborted is not null)
                {
                    return aborted;
                }
            }

            if (run.RowsRead == 0)
            {
                return InvalidFile("The file has a header but no data rows; nothing was imported.");
            }

            if (run.RowsRead == run.RowsRejected)
            {
                return RejectLimit($"All {run.RowsRead} rows were rejected (see the rejects); nothing was imported.", run);
            }

            if (options.MaxRejectRatio is { } ratio && (double)run.RowsRejected / run.RowsRead > ratio)
            {
                return RejectLimit($"{run.RowsRejected} of {run.RowsRead} rows were rejected, more than the allowed ratio {ratio:0.####}; nothing was imported.", run);
            }

            var created = existing is null && !options.DryRun;
            ImportSummary Summary(long loaded) => new(run.Id, displayName, created, options.DryRun, options.Mode, plan.Value.Columns, plan.Value.Key,
                run.RowsRead, loaded, run.RowsRejected, run.ByReason, run.FirstRejects, run.Elapsed);

            long loaded;
            if (options.DryRun)
            {
                loaded = run.RowsRead - run.RowsRejected;
            }
            else
            {
                run.Report(ImportPhase.Committing);
                ImportCommitting? committing = null;
                if (hook is not null)
                {
                    await hook.ReadyAsync(cancellationToken);
                    committing = (rows, transaction, token) => hook.CommittingAsync(Summary(rows), transaction, token);
                }

                try
                {
                    loaded = await target.CommitAsync(plan.Value, committing, cancellationToken);
                }
                catch (ImportKeyConflictException ex)
                {
                    return new Failure(StatusCodes.Status409Conflict, ImportProblemCodes.Conflict, ex.Message);
                }
                catch (ImportTableConflictException ex)
                {
                    return new Failure(StatusCodes.Status409Conflict, ImportProblemCodes.Conflict, ex.Message);
                }
            }

            run.Report(ImportPhase.Done);
            return Summary(loaded);
        }
        catch (ImportFileException ex)
        {
            return InvalidFile(ex.Message);
        }
        catch (DecoderFallbackException ex)
        {
            return InvalidFile($"The file is not valid {encoding.WebName} (byte {ex.Index} of a block near byte {counting.BytesRead:N0} cannot be decoded); " +
                "name its encoding with --encoding (latin1, windows-1252, utf-16...).");
        }
        catch (InvalidDataException ex)
        {
            return InvalidFile($"The file cannot be read: {ex.Message}");
        }
    }

    private ImportTarget CreateTarget(Guid id) => database.Value.ProviderKind == DatabaseProvider.Postgres
        ? new PostgresImportTarget(database.Value.ConnectionString, id)
        : new SqliteImportTarget(database.Value.ConnectionString);

    private static Failure? OptionErrors(CsvImportOptions options, string table)
    {
        if (table.Length == 0)
        {
            return InvalidOptions($"The table name '{options.Table}' has no letter or digit to make a name from.", "table");
        }

        if (options.Mode == ImportMode.Upsert && string.IsNullOrWhiteSpace(options.Key))
        {
            return InvalidOptions("Upsert needs a key column (--key) to match rows by.", "key");
        }

        if (options.MaxRejects is < 0)
        {
            return InvalidOptions("The maximum reject count must be 0 or more.", "max_rejects");
        }

        if (options.MaxRejectRatio is < 0 or > 1)
        {
            return InvalidOptions("The maximum reject ratio must be between 0 and 1.", "max_reject_ratio");
        }

        if (options.MaxRecordChars < 16 || options.SampleRows < 1 || options.ChunkRows < 1)
        {
            return InvalidOptions("The maximum record length must be at least 16 characters, and the sample and chunk sizes at least 1 row.", "max_record_chars");
        }

        if (options.Delimiter is { } delimiter && !CsvSource.IsDelimiter(delimiter))
        {
            return InvalidOptions($"'{delimiter}' (U+{(int)delimiter:X4}) cannot be a delimiter: use a printable ASCII character other than the quote, or tab.", "delimiter");
        }

        return null;
    }

    private static Result<ResolvedColumnOptions> ResolveColumns(CsvImportOptions options, IReadOnlyList<string> headers, IReadOnlyList<string> names)
    {
        var unknown = new List<string>();
        int Find(string name)
        {
            var index = IndexOf(name, headers, names);
            if (index < 0)
            {
                unknown.Add(name);
            }

            return index;
        }

        int? key = options.Key is { } k ? Find(k) : null;
        var required = options.Required.Select(Find).Where(i => i >= 0).ToHashSet();
        var types = new Dictionary<int, ImportColumnType>();
        foreach (var (name, type) in options.Types)
        {
            if (Find(name) is var i and >= 0)
            {
                types[i] = type;
            }
        }

        foreach (var name in options.Booleans)
        {
            if (Find(name) is var i and >= 0)
            {
                types[i] = ImportColumnType.Boolean;
            }
        }

        var defaults = new Dictionary<int, string>();
        foreach (var (name, value) in options.Defaults)
        {
            if (Find(name) is var i and >= 0)
            {
                defaults[i] = value;
            }
        }

        if (unknown.Count > 0)
        {
            return InvalidOptions(
                $"The file has no column {string.Join(", ", unknown.Distinct().Select(u => $"'{u}'"))}; its columns are {string.Join(", ", names)}.", "columns");
        }

        return new ResolvedColumnOptions(key, required, types, defaults);
    }

    private static int IndexOf(string name, IReadOnlyList<string> headers, IReadOnlyList<string> names)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name || headers[i].Trim() == name.Trim())
            {
                return i;
            }
        }

        var normalized = Identifiers.Normalize(name, "");
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == normalized)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The first rows of the file, kept (bounded) to decide the column types, then loaded like the others.</summary>
    internal sealed record SampleRow(long Line, string[] Fields, string Raw);

    private static List<SampleRow> ReadSample(SepReader reader, int count)
    {
        var rows = new List<SampleRow>(Math.Min(count, 10_000));
        while (rows.Count < count && reader.MoveNext())
        {
            var row = reader.Current;
            var fields = new string[row.ColCount];
            for (var i = 0; i < fields.Length; i++)
            {
                fields[i] = row[i].ToString();
            }

            rows.Add(new SampleRow(row.LineNumberFrom, fields, row.Span.ToString()));
        }

        return rows;
    }

    private static Result<LoadPlan> Plan(CsvImportOptions options, string table, string displayName, IReadOnlyList<string> names, IReadOnlyList<string> headers,
        ResolvedColumnOptions resolved, List<SampleRow> sample, IReadOnlyList<ExistingColumn>? existing, string? generatedKey)
    {
        var columns = new List<ImportColumn>(names.Count);
        for (var i = 0; i < names.Count; i++)
        {
            ImportColumnType type;
            if (resolved.Types.TryGetValue(i, out var declared))
            {
                type = declared;
            }
            else if (existing?.FirstOrDefault(c => c.Name == names[i]) is { Type: { } current })
            {
                type = current;
            }
            else
            {
                var inference = new TypeInference();
                foreach (var row in sample)
                {
                    if (i < row.Fields.Length && row.Fields.Length == names.Count)
                    {
                        var value = options.Trim ? row.Fields[i].AsSpan().Trim() : row.Fields[i].AsSpan();
                        if (!Rules.IsNull(value, options.NullValues))
                        {
                            inference.Observe(value);
                        }
                    }
                }

                type = inference.Type;
            }

            columns.Add(new ImportColumn(names[i], headers[i], type));
        }

        var key = resolved.Key is { } k ? names[k] : generatedKey!;
        if (existing is null)
        {
            return new LoadPlan(table, columns, key, generatedKey is not null, options.Mode, Exists: false);
        }

        // The file must fit the table: every column of the file in the table with the same type, every column of
        // the table that needs a value in the file, and the same key.
        foreach (var column in columns)
        {
            var match = existing.FirstOrDefault(c => c.Name == column.Name);
            if (match is null)
            {
                return Mismatch($"The file's column '{column.Header}' ({column.Name}) is not in the table {displayName}, whose columns are {string.Join(", ", existing.Select(c => c.Name))}.", column.Name);
            }

            if (match.Type != column.Type)
            {
                return Mismatch($"The column {column.Name} is {ImportValues.Describe(column.Type)} in this import but {match.DeclaredType} in the table {displayName}.", column.Name);
            }
        }

        foreach (var column in existing.Where(c => c.NotNull && !c.HasDefault && !names.Contains(c.Name)))
        {
            return Mismatch($"The table {displayName} needs a value in its column {column.Name}, which the file does not have.", column.Name);
        }

        var primaryKey = existing.Where(c => c.PrimaryKey).Select(c => c.Name).ToList();
        if (primaryKey.Count != 1 || (resolved.Key is not null && primaryKey[0] != key))
        {
            return Mismatch($"The table {displayName} has the key {string.Join(", ", primaryKey)}, not {key}.", key);
        }

        var isGenerated = resolved.Key is null;
        if (isGenerated)
        {
            key = primaryKey[0];
            if (names.Contains(key))
            {
                return Mismatch($"The table {displayName} has the key {key}, which is in the file: name it with --key {key}.", key);
            }
        }

        return new LoadPlan(table, columns, key, isGenerated, options.Mode, Exists: true);
    }

    private static Failure Mismatch(string detail, string column) =>
        Failure.Of(StatusCodes.Status409Conflict, ImportProblemCodes.SchemaMismatch, detail, column);

    private static Failure InvalidOptions(string detail, string field) =>
        Failure.Of(StatusCodes.Status400BadRequest, ImportProblemCodes.InvalidOptions, detail, field);

    private static Failure InvalidFile(string detail) => Failure.Of(StatusCodes.Status400BadRequest, ImportProblemCodes.InvalidFile, detail, "file");

    private static Failure RejectLimit(string detail, ImportRun run) =>
        new(StatusCodes.Status422UnprocessableEntity, ImportProblemCodes.RejectLimit,
            $"{detail} Reasons: {string.Join(", ", run.ByReason.Select(r => $"{r.Key} {r.Value}"))}.");

    /// <summary>
    /// The read loop: synchronous, because Sep's rows are ref structs. Cleans each row, writes it to the stage (or
    /// the rejects), reports and logs once per chunk. Returns the failure that aborts the import, if any.
    /// </summary>
    private Failure? Load(ImportRun run, SepReader reader, List<SampleRow> sample, Rules rules, ImportTarget? target, RejectsFile? rejects,
        CancellationToken cancellationToken)
    {
        var values = new ImportValue[rules.Count];
        var chunk = run.Options.ChunkRows;
        run.Report(ImportPhase.Reading);
        foreach (var row in sample)
        {
            var reject = rules.Clean(row.Fields, values);
            if (Accept(run, reject, row.Line, row.Raw, values, target, rejects) is { } aborted)
            {
                return aborted;
            }

            if (run.RowsRead % chunk == 0)
            {
                Chunk(run, cancellationToken);
            }
        }

        while (reader.MoveNext())
        {
            var row = reader.Current;
            var reject = rules.Clean(row, values);
            if (Accept(run, reject, row.LineNumberFrom, reject is null ? null : row.Span.ToString(), values, target, rejects) is { } aborted)
            {
                return aborted;
            }

            if (run.RowsRead % chunk == 0)
            {
                Chunk(run, cancellationToken);
            }
        }

        if (run.RowsRead % chunk != 0)
        {
            Chunk(run, cancellationToken);
        }

        return null;
    }

    private void Chunk(ImportRun run, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        run.Chunks++;
        LogChunk(run.Id, run.Chunks, run.RowsRead, run.RowsRejected, run.Counter?.BytesRead ?? 0);
        run.Report(ImportPhase.Reading);
    }

    private static Failure? Accept(ImportRun run, RowReject? reject, long line, string? raw, ReadOnlySpan<ImportValue> values, ImportTarget? target, RejectsFile? rejects)
    {
        run.RowsRead++;
        if (reject is null)
        {
            target?.Write(values, line);
            return null;
        }

        run.Reject(new ImportReject(line, reject.Value.Column, reject.Value.Reason, reject.Value.Detail));
        rejects?.Write(line, reject.Value.Column, reject.Value.Reason, raw ?? "");
        if (run.Options.MaxRejects is { } max && run.RowsRejected > max)
        {
            return RejectLimit($"More than {max} rows were rejected (the limit); the import stopped at line {line} and nothing was imported.", run);
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Import {ImportId} into {Table} ({Mode}, dry run {DryRun}) done: {RowsRead} rows read, {RowsLoaded} loaded, {RowsRejected} rejected in {Seconds:0.###} s ({RowsPerSecond:0} rows/s)")]
    private partial void LogImported(Guid importId, string table, ImportMode mode, bool dryRun, long rowsRead, long rowsLoaded, long rowsRejected, double seconds, double rowsPerSecond);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {ImportId} into {Table} refused ({Code}): {Detail} ({RowsRead} rows read, {RowsRejected} rejected)")]
    private partial void LogRefused(Guid importId, string table, string code, string detail, long rowsRead, long rowsRejected);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import {ImportId} into {Table} failed after {RowsRead} rows read, {RowsRejected} rejected; nothing was written")]
    private partial void LogFailed(Exception exception, Guid importId, string table, long rowsRead, long rowsRejected);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {ImportId} chunk {Chunk}: {RowsRead} rows read, {RowsRejected} rejected, {BytesRead} bytes read")]
    private partial void LogChunk(Guid importId, long chunk, long rowsRead, long rowsRejected, long bytesRead);
}

/// <summary>
/// What a caller that keeps its own record of an import (the job, in <c>imports</c>) does at the commit:
/// <see cref="ReadyAsync"/> once every row is read and the import is about to commit, outside any transaction (store
/// the rejects); <see cref="CommittingAsync"/> inside the data transaction, just before its COMMIT, with the summary:
/// what it writes there commits with the rows or not at all. Either may throw: the import then writes nothing.
/// </summary>
[FeatureSurface]
internal abstract class ImportCommitHook
{
    public virtual Task ReadyAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract Task CommittingAsync(ImportSummary summary, System.Data.Common.DbTransaction transaction, CancellationToken cancellationToken);
}

/// <summary>The counters of one running import, and its progress reports.</summary>
internal sealed class ImportRun(Guid id, CsvImportOptions options, TimeProvider clock, IProgress<ImportProgress>? progress)
{
    private readonly long _started = clock.GetTimestamp();
    private readonly Dictionary<string, long> _byReason = new(StringComparer.Ordinal);
    private readonly List<ImportReject> _first = [];

    public Guid Id { get; } = id;

    public CsvImportOptions Options { get; } = options;

    public long? TotalBytes { get; init; }

    public CsvSource.Counting? Counter { get; set; }

    public long RowsRead { get; set; }

    public long RowsRejected { get; private set; }

    public long Chunks { get; set; }

    public IReadOnlyDictionary<string, long> ByReason => _byReason;

    public IReadOnlyList<ImportReject> FirstRejects => _first;

    public TimeSpan Elapsed => clock.GetElapsedTime(_started);

    public void Reject(ImportReject reject)
    {
        RowsRejected++;
        _byReason[reject.Reason] = _byReason.GetValueOrDefault(reject.Reason) + 1;
        if (_first.Count < CsvImportService.FirstRejectsKept)
        {
            _first.Add(reject);
        }
    }

    public void Report(ImportPhase phase) =>
        progress?.Report(new ImportProgress(Id, phase, RowsRead, RowsRejected, Counter?.BytesRead ?? 0, TotalBytes, Elapsed));
}
