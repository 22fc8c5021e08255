using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aap.Api.Platform;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Imports;

/// <summary>
/// Imports started by admins (the API and the admin panel): an upload is stored in the file store and queued for
/// <see cref="ImportJob"/>, which runs <see cref="CsvImportService"/> on it; its state, progress and outcome are kept
/// in <c>imports</c>. Options are checked here, before anything is stored, with the same names as the command line.
/// </summary>
[FeatureSurface]
internal sealed partial class ImportAdminService(
    AppDbContext db, IFileStore store, IBackgroundJobs jobs, ImportCancellations cancellations, IOptions<ImportsOptions> options, TimeProvider clock,
    ILogger<ImportAdminService> logger)
{
    /// <summary>The form fields an import accepts: the command line's options, with <c>_</c> for <c>-</c>.</summary>
    public static readonly IReadOnlyList<string> Fields =
        ["file", "table", "key", "mode", "required", "bool", "default", "type", "null", "dry_run", "max_rejects", "max_reject_ratio", "delimiter", "encoding", "no_quotes", "no_trim"];

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public long MaxUploadBytes => options.Value.MaxUploadBytes;

    /// <summary>Checks the options, stores the spooled upload and queues the import; 400 naming each bad field, nothing stored then.</summary>
    public async Task<Result<ImportResponse>> StartAsync(long adminId, ImportUpload upload, CancellationToken cancellationToken)
    {
        var parsed = ParseOptions(upload);
        if (!parsed.Succeeded)
        {
            return parsed.Failure;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var id = Guid.CreateVersion7();
        var key = string.Create(CultureInfo.InvariantCulture, $"imports/{now:yyyy}/{now:MM}/{id:N}.upload");
        await store.PutAsync(key, upload.SpoolPath!, "text/csv", cancellationToken);
        var import = new DataImport
        {
            Id = id,
            CreatedBy = adminId,
            CreatedAt = now,
            FileName = Truncate(string.IsNullOrWhiteSpace(upload.FileName) ? "upload.csv" : upload.FileName, 255),
            FileKey = key,
            FileBytes = upload.FileBytes,
            TableName = Identifiers.Normalize(parsed.Value.Table, ""),
            Options = JsonSerializer.Serialize(parsed.Value, Json),
            State = ImportStates.Queued,
        };
        db.Add(import);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            await store.DeleteAsync(key, CancellationToken.None);
            throw;
        }

        LogQueued(id, adminId, import.TableName, upload.FileBytes);
        await jobs.EnqueueAsync(ImportJob.Name, cancellationToken);
        return ToResponse(import);
    }

    /// <summary>The form's options as <see cref="CsvImportOptions"/>, or a 400 naming every bad field.</summary>
    public static Result<CsvImportOptions> ParseOptions(ImportUpload upload)
    {
        var errors = new FieldErrors();
        foreach (var unknown in upload.Fields.Keys.Where(k => !Fields.Contains(k) && k != "__RequestVerificationToken"))
        {
            errors.Add(unknown, $"'{unknown}' is not an option of an import; the fields are {string.Join(", ", Fields)}.");
        }

        if (upload.SpoolPath is null)
        {
            errors.Add("file", "Send the CSV or TSV file (optionally gzip) in the field 'file'.");
        }
        else if (upload.FileBytes == 0)
        {
            errors.Add("file", "The file is empty: a CSV import needs a header row and at least one data row.");
        }

        var table = upload.Value("table");
        if (table is null)
        {
            errors.Add("table", "Name the target table.");
        }
        else if (Identifiers.Normalize(table, "").Length == 0)
        {
            errors.Add("table", $"The table name '{table}' has no letter or digit to make a name from.");
        }

        var mode = ImportMode.Create;
        if (upload.Value("mode") is { } modeText && !TryEnum(modeText, out mode))
        {
            errors.Add("mode", $"The mode must be create, append, replace or upsert, not '{modeText}'.");
        }

        var key = upload.Value("key");
        if (mode == ImportMode.Upsert && key is null)
        {
            errors.Add("key", "Upsert needs a key column to match rows by.");
        }

        var defaults = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in upload.Lines("default"))
        {
            if (Pair(line) is { } pair)
            {
                defaults[pair.Column] = pair.Value;
            }
            else
            {
                errors.Add("default", $"A default is COLUMN=VALUE, not '{line}'.");
            }
        }

        var types = new Dictionary<string, ImportColumnType>(StringComparer.Ordinal);
        foreach (var line in upload.Lines("type"))
        {
            if (Pair(line) is { } pair && TryEnum<ImportColumnType>(pair.Value, out var type))
            {
                types[pair.Column] = type;
            }
            else
            {
                errors.Add("type", $"A type is COLUMN=TYPE with integer, bigint, decimal, boolean, date, timestamp or text, not '{line}'.");
            }
        }

        var dryRun = Flag(upload, "dry_run", errors);
        var noQuotes = Flag(upload, "no_quotes", errors);
        var noTrim = Flag(upload, "no_trim", errors);
        long? maxRejects = null;
        if (upload.Value("max_rejects") is { } maxText)
        {
            if (long.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out var max))
            {
                maxRejects = max;
            }
            else
            {
                errors.Add("max_rejects", $"The maximum reject count is a whole number, 0 or more, not '{maxText}'.");
            }
        }

        double? maxRatio = null;
        if (upload.Value("max_reject_ratio") is { } ratioText)
        {
            if (double.TryParse(ratioText, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1)
            {
                maxRatio = ratio;
            }
            else
            {
                errors.Add("max_reject_ratio", $"The maximum reject ratio is a number between 0 and 1, not '{ratioText}'.");
            }
        }

        char? delimiter = null;
        if (upload.Fields.TryGetValue("delimiter", out var delimiters) && delimiters.FirstOrDefault(d => d.Length > 0) is { } delimiterText)
        {
            delimiter = CsvSource.ParseDelimiter(delimiterText);
            if (delimiter is null)
            {
                errors.Add("delimiter", $"The delimiter is one printable ASCII character other than the quote, or 'tab', not '{delimiterText}'.");
            }
        }

        var encoding = upload.Value("encoding");
        if (encoding is not null)
        {
            try
            {
                CsvSource.ResolveEncoding(encoding);
            }
            catch (ArgumentException)
            {
                errors.Add("encoding", $"'{encoding}' is not an encoding this service knows (utf-8, latin1, windows-1252, utf-16...).");
            }
        }

        if (errors.Count > 0)
        {
            return new Failure(StatusCodes.Status400BadRequest, ImportProblemCodes.InvalidOptions,
                $"The import was not started: {string.Join(" ", errors.SelectMany(e => e.Value))}", errors);
        }

        var nulls = upload.List("null");
        return new CsvImportOptions
        {
            Table = table!,
            Key = key,
            Mode = mode,
            Required = upload.List("required"),
            Booleans = upload.List("bool"),
            Defaults = defaults,
            Types = types,
            NullValues = nulls.Count > 0 ? nulls : new CsvImportOptions { Table = "_" }.NullValues,
            DryRun = dryRun,
            MaxRejects = maxRejects,
            MaxRejectRatio = maxRatio,
            Delimiter = delimiter,
            Encoding = encoding,
            Quoted = !noQuotes,
            Trim = !noTrim,
        };
    }

    public async Task<PagedEnvelope<ImportResponse>> ListAsync(PageQuery paging, CancellationToken cancellationToken)
    {
        var query = db.Set<DataImport>().AsNoTracking();
        var total = await query.LongCountAsync(cancellationToken);
        var page = await query.OrderByDescending(i => i.CreatedAt).ThenByDescending(i => i.Id)
            .Skip((paging.PageNumber - 1) * paging.PageSize).Take(paging.PageSize).ToListAsync(cancellationToken);
        return new PagedEnvelope<ImportResponse>([.. page.Select(ToResponse)],
            PageMeta.Of(paging, total));
    }

    /// <summary>The imports, newest first, one keyset page at a time (on ix_imports_created_at_id).</summary>
    public async Task<KeysetEnvelope<ImportResponse>> ListAsync(KeysetRequest keyset, CancellationToken cancellationToken)
    {
        var page = await db.Set<DataImport>().AsNoTracking()
            .ToKeysetPageAsync(keyset, i => i.CreatedAt, i => i.Id, i => i, i => new KeysetPosition(i.CreatedAt, i.Id.ToString()), cancellationToken);
        return new KeysetEnvelope<ImportResponse>([.. page.Data.Select(ToResponse)], page.Meta);
    }

    public async Task<Result<ImportResponse>> GetAsync(Guid id, CancellationToken cancellationToken) =>
        await db.Set<DataImport>().AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, cancellationToken) is { } import
            ? ToResponse(import)
            : Failure.NotFound("The import");

    /// <summary>
    /// Cancels an import: a queued one at once (its upload is removed), a running one by asking the node that runs
    /// it to stop (it does within a second, and rolls back: nothing of it is written). 409 once it has ended.
    /// </summary>
    public async Task<Result<ImportResponse>> CancelAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var set = db.Set<DataImport>();
        var queued = await set.Where(i => i.Id == id && i.State == ImportStates.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.State, ImportStates.Cancelled).SetProperty(i => i.CancelRequested, true)
                .SetProperty(i => i.FinishedAt, now), cancellationToken);
        var running = queued == 0 && await set.Where(i => i.Id == id && i.State == ImportStates.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.CancelRequested, true), cancellationToken) > 0;
        if (running)
        {
            cancellations.Cancel(id);
        }

        var import = await set.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, cancellationToken);
        if (import is null)
        {
            return Failure.NotFound("The import");
        }

        if (queued > 0)
        {
            await TryDeleteAsync(import.FileKey);
        }
        else if (!running)
        {
            return new Failure(StatusCodes.Status409Conflict, ImportAdminCodes.Finished,
                $"The import has already ended ({import.State}); there is nothing to cancel.");
        }

        LogCancelled(id, import.State);
        return ToResponse(import);
    }

    public async Task<Result<ImportRejectsFile>> OpenRejectsAsync(Guid id, CancellationToken cancellationToken)
    {
        var import = await db.Set<DataImport>().AsNoTracking().Where(i => i.Id == id)
            .Select(i => new { i.RejectsKey, i.TableName, i.State, i.FinishedAt, i.FilesExpiredAt }).SingleOrDefaultAsync(cancellationToken);
        if (import is null)
        {
            return Failure.NotFound("The import");
        }

        if (import is { RejectsKey: not null, FilesExpiredAt: { } removed })
        {
            return new Failure(StatusCodes.Status410Gone, ImportAdminCodes.FilesExpired,
                $"The rejects file was removed on {removed:yyyy-MM-dd}, {RetentionDays.After(import.FinishedAt, removed)} days after the import ended " +
                "(Imports:RetentionDays); the import's summary is kept.");
        }

        if (import.RejectsKey is null || await store.OpenAsync(import.RejectsKey, cancellationToken) is not { } content)
        {
            return new Failure(StatusCodes.Status404NotFound, ImportAdminCodes.NoRejects, ImportStates.IsActive(import.State)
                ? $"The import is {import.State}: its rejects file is written when it ends."
                : "The import rejected no rows: it has no rejects file.");
        }

        return new ImportRejectsFile(content.Content, content.Length, $"{import.TableName}-rejects.csv");
    }

    internal static ImportResponse ToResponse(DataImport i)
    {
        var options = JsonSerializer.Deserialize<CsvImportOptions>(i.Options, Json)!;
        return new ImportResponse(
            i.Id, i.State, i.FileName, i.FileBytes, i.TableName, options.Mode, options.DryRun, i.CreatedBy, i.CreatedAt, i.StartedAt, i.FinishedAt, i.CancelRequested,
            new ImportProgressResponse(i.RowsRead, i.RowsRejected, i.BytesRead,
                i.FileBytes > 0 ? Math.Round(Math.Min(100, 100.0 * i.BytesRead / i.FileBytes), 1) : null, i.ProgressAt),
            i.Summary is null ? null : JsonSerializer.Deserialize<ImportSummaryResponse>(i.Summary, Json),
            i.ErrorCode is null ? null : new ImportErrorResponse(i.ErrorCode, i.Error ?? ""),
            i.RejectsKey is not null && i.FilesExpiredAt is null,
            i.FilesExpiredAt);
    }

    private async Task TryDeleteAsync(string key)
    {
        try
        {
            await store.DeleteAsync(key, CancellationToken.None);
        }
        catch (StorageUnavailableException error)
        {
            LogUploadLeft(error, key);
        }
    }

    private static bool Flag(ImportUpload upload, string name, FieldErrors errors)
    {
        var text = upload.Value(name);
        switch (text?.ToLowerInvariant())
        {
            case null or "false" or "0" or "no" or "off":
                return false;
            case "true" or "1" or "yes" or "on":
                return true;
            default:
                errors.Add(name, $"'{name}' is true or false, not '{text}'.");
                return false;
        }
    }

    private static (string Column, string Value)? Pair(string text)
    {
        var at = text.IndexOf('=', StringComparison.Ordinal);
        return at <= 0 ? null : (text[..at].Trim(), text[(at + 1)..]);
    }

    private static bool TryEnum<T>(string text, out T value) where T : struct, Enum =>
        Enum.TryParse(text.Trim(), ignoreCase: true, out value) && Enum.IsDefined(value) && !text.Trim().All(char.IsAsciiDigit);

    internal static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {ImportId} queued by user {UserId} into {Table} ({FileBytes} bytes)")]
    private partial void LogQueued(Guid importId, long userId, string table, long fileBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {ImportId} cancelled (now {State})")]
    private partial void LogCancelled(Guid importId, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The upload {Key} of a cancelled import could not be removed")]
    private partial void LogUploadLeft(Exception error, string key);
}

/// <summary>
/// The imports running on this node, so that a cancel handled here stops its import at once; a cancel handled by
/// another node reaches it through the <c>cancel_requested</c> flag the job reads every second.
/// </summary>
internal sealed class ImportCancellations
{
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _running = new();

    public void Register(Guid id, CancellationTokenSource source) => _running[id] = source;

    public void Unregister(Guid id) => _running.TryRemove(id, out _);

    public void Cancel(Guid id)
    {
        if (_running.TryGetValue(id, out var source))
        {
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It ended meanwhile.
            }
        }
    }
}
