using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Storage;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Aap.Api.Features.Imports;

/// <summary>
/// The queued job <c>csv-imports</c>: runs the imports admins uploaded, oldest first, one at a time on whichever node
/// takes the job. Each runs <see cref="CsvImportService"/> on the stored upload, read straight from the file store;
/// while it runs, its progress is written to its row at most once a second, and the row is checked for a cancel
/// requested through another node. Refused rows go to a rejects CSV stored beside the upload; the upload itself is
/// removed once the import has ended. An import is atomic: a cancel, a failure or a killed node leaves its table as
/// it was. A node shutting down puts its import back in the queue; a run finding an import "running" (its node died:
/// runs of this job never overlap) queues it again too.
/// </summary>
internal sealed partial class ImportJob(
    AppDbContext db, IFileStore store, CsvImportService importer, ImportCancellations cancellations, IServiceScopeFactory scopes, TimeProvider clock,
    ImportJobProbe probe, ILogger<ImportJob> logger) : IScheduledJob
{
    public const string Name = "csv-imports";

    /// <summary>How often a running import writes its progress and looks for a cancel made on another node.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    public async Task<long> RunAsync(CancellationToken cancellationToken)
    {
        var set = db.Set<DataImport>();
        var now = clock.GetUtcNow().UtcDateTime;
        await set.Where(i => i.State == ImportStates.Running && i.CancelRequested)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.State, ImportStates.Cancelled).SetProperty(i => i.FinishedAt, now), cancellationToken);
        var orphans = await set.Where(i => i.State == ImportStates.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.State, ImportStates.Queued).SetProperty(i => i.StartedAt, (DateTime?)null), cancellationToken);
        if (orphans > 0)
        {
            LogRequeued(orphans);
        }

        var done = 0L;
        var unexpected = new List<string>();
        while (true)
        {
            var next = await set.AsNoTracking().Where(i => i.State == ImportStates.Queued)
                .OrderBy(i => i.CreatedAt).ThenBy(i => i.Id).FirstOrDefaultAsync(cancellationToken);
            if (next is null)
            {
                break;
            }

            var started = clock.GetUtcNow().UtcDateTime;
            var claimed = await set.Where(i => i.Id == next.Id && i.State == ImportStates.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.State, ImportStates.Running).SetProperty(i => i.StartedAt, started)
                    .SetProperty(i => i.ProgressAt, started), cancellationToken);
            if (claimed == 0)
            {
                continue; // cancelled meanwhile
            }

            if (await RunOneAsync(next, cancellationToken) is { } error)
            {
                unexpected.Add($"import {next.Id} ({error})");
            }

            done++;
        }

        if (unexpected.Count > 0)
        {
            throw new InvalidOperationException($"{done} import(s) ended, {unexpected.Count} of them after an unexpected error: {string.Join("; ", unexpected)}.");
        }

        return done;
    }

    /// <summary>Runs one claimed import to its end; returns the message of an unexpected error, if one stopped it.</summary>
    private async Task<string?> RunOneAsync(DataImport import, CancellationToken cancellationToken)
    {
        var rejectsPath = Path.Combine(Path.GetTempPath(), $"aap-import-rejects-{import.Id:N}.csv");
        var options = JsonSerializer.Deserialize<CsvImportOptions>(import.Options, ImportAdminService.Json)! with { RejectsPath = rejectsPath };
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopWatching = new CancellationTokenSource();
        var progress = new LatestProgress();
        cancellations.Register(import.Id, cancel);
        var watching = WatchAsync(import.Id, progress, cancel, stopWatching.Token);
        var outcome = new Outcome(ImportStates.Failed);
        var recorder = new Recorder(this, import, progress, rejectsPath);
        string? unexpected = null;
        var shuttingDown = false;
        try
        {
            var stored = await store.OpenAsync(import.FileKey, cancel.Token);
            if (stored is null)
            {
                outcome = new Outcome(ImportStates.Failed, ErrorCode: ImportAdminCodes.Failed, Error: "The uploaded file is missing from the file store.");
            }
            else
            {
                await using var content = new WatchedStream(stored.Content, progress, cancel.Token);
                var result = await Task.Run(() => importer.ImportAsync(content, stored.Length, options, progress, recorder, cancel.Token), CancellationToken.None);
                outcome = result.Succeeded
                    ? new Outcome(ImportStates.Succeeded, result.Value)
                    : new Outcome(ImportStates.Failed, ErrorCode: result.Failure.Code, Error: result.Failure.Detail);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The node is shutting down: the import rolled back, and waits in the queue for the next run, here or elsewhere.
            shuttingDown = true;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            outcome = new Outcome(ImportStates.Cancelled);
        }
        catch (Exception error)
        {
            // Anything else, a cancellation nobody asked for included, ends this import as failed (nothing was written)
            // and lets the queue go on.
            LogUnexpected(error, import.Id);
            unexpected = error.Message.ReplaceLineEndings(" ");
            outcome = new Outcome(ImportStates.Failed, ErrorCode: ImportAdminCodes.Failed,
                Error: $"An unexpected error stopped the import and nothing was written: {unexpected}");
        }

        try
        {
            await StopWatchingAsync(stopWatching, watching, import.Id);
            if (shuttingDown)
            {
                await RequeueAsync(import.Id);
            }
            else
            {
                if (outcome.State == ImportStates.Succeeded && recorder.Recorded)
                {
                    await probe.CommittedAsync(import.Id);
                }

                await FinishAsync(import, outcome, progress, rejectsPath, recorder);
            }
        }
        finally
        {
            Cleanup(import.Id, rejectsPath);
        }

        if (shuttingDown)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        return unexpected;
    }

    /// <summary>Back in the queue after a shutdown, unless an admin asked for a cancel meanwhile: then it is cancelled.</summary>
    private async Task RequeueAsync(Guid id)
    {
        var set = db.Set<DataImport>();
        var now = clock.GetUtcNow().UtcDateTime;
        await set.Where(i => i.Id == id && i.State == ImportStates.Running && i.CancelRequested)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.State, ImportStates.Cancelled).SetProperty(i => i.FinishedAt, now), CancellationToken.None);
        await set.Where(i => i.Id == id && i.State == ImportStates.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.State, ImportStates.Queued).SetProperty(i => i.StartedAt, (DateTime?)null), CancellationToken.None);
    }

    /// <summary>
    /// Records how the import ended, unless the data transaction already did (a committed import records its outcome
    /// in that transaction: see <see cref="Recorder"/>), then removes the upload. The rejects are stored before the
    /// outcome is recorded, with it in one update (a reader never sees an ended import whose rejects are still to
    /// come). A file store that fails costs the rejects file (logged), never the record of the import.
    /// </summary>
    private async Task FinishAsync(DataImport import, Outcome outcome, LatestProgress progress, string rejectsPath, Recorder recorder)
    {
        if (!(outcome.State == ImportStates.Succeeded && recorder.Recorded))
        {
            var rejectsKey = recorder.RejectsKey;
            if (rejectsKey is null && outcome.State != ImportStates.Cancelled)
            {
                rejectsKey = await StoreRejectsAsync(import, rejectsPath);
            }

            if (await RecordAsync(db, import.Id, outcome, progress, rejectsKey, CancellationToken.None) == 0)
            {
                // Taken back meanwhile (queued again by a run that took this node for dead): its upload is still needed.
                LogNotOurs(import.Id, outcome.State);
                return;
            }
        }

        var rowsLoaded = outcome.Summary is { DryRun: false } loaded ? loaded.RowsLoaded : 0;
        LogEnded(import.Id, outcome.State, outcome.Summary?.RowsRead ?? progress.Latest?.RowsRead ?? 0, rowsLoaded,
            outcome.Summary?.RowsRejected ?? progress.Latest?.RowsRejected ?? 0);
        try
        {
            await store.DeleteAsync(import.FileKey, CancellationToken.None);
        }
        catch (StorageUnavailableException failure)
        {
            LogUploadLeft(failure, import.FileKey);
        }
    }

    /// <summary>Stores the rejects CSV beside the upload, when rows were rejected; returns its key (null when none, or when the store failed).</summary>
    private async Task<string?> StoreRejectsAsync(DataImport import, string rejectsPath)
    {
        if (!File.Exists(rejectsPath) || !File.ReadLines(rejectsPath).Skip(1).Any())
        {
            return null;
        }

        var key = Path.ChangeExtension(import.FileKey, ".rejects.csv");
        try
        {
            await store.DeleteAsync(key, CancellationToken.None);
            await store.PutAsync(key, rejectsPath, "text/csv", CancellationToken.None);
            return key;
        }
        catch (Exception failure)
        {
            LogRejectsLost(failure, import.Id);
            return null;
        }
    }

    /// <summary>Writes the outcome to the import's row, if it is still running; returns the rows updated (0 or 1).</summary>
    private Task<int> RecordAsync(AppDbContext context, Guid id, Outcome outcome, LatestProgress progress, string? rejectsKey, CancellationToken cancellationToken)
    {
        var summary = outcome.Summary is { } s ? JsonSerializer.Serialize(ImportSummaryResponse.From(s), ImportAdminService.Json) : null;
        var latest = progress.Latest;
        var rowsRead = outcome.Summary?.RowsRead ?? latest?.RowsRead ?? 0;
        var rowsRejected = outcome.Summary?.RowsRejected ?? latest?.RowsRejected ?? 0;
        var rowsLoaded = outcome.Summary is { DryRun: false } loaded ? loaded.RowsLoaded : 0;
        var bytesRead = progress.BytesRead;
        var error = outcome.Error is null ? null : ImportAdminService.Truncate(outcome.Error, DataImportConfiguration.ErrorLength);
        var finished = clock.GetUtcNow().UtcDateTime;
        return context.Set<DataImport>().Where(i => i.Id == id && i.State == ImportStates.Running)
            .ExecuteUpdateAsync(u => u.SetProperty(i => i.State, outcome.State).SetProperty(i => i.FinishedAt, finished).SetProperty(i => i.ProgressAt, finished)
                .SetProperty(i => i.RowsRead, rowsRead).SetProperty(i => i.RowsRejected, rowsRejected).SetProperty(i => i.RowsLoaded, rowsLoaded)
                .SetProperty(i => i.BytesRead, bytesRead).SetProperty(i => i.Summary, summary).SetProperty(i => i.ErrorCode, outcome.ErrorCode)
                .SetProperty(i => i.Error, error).SetProperty(i => i.RejectsKey, rejectsKey), cancellationToken);
    }

    /// <summary>
    /// Records a committed import's outcome in its data transaction, so that the rows and the record of them commit
    /// together: a node killed right after the COMMIT leaves an import that says "succeeded", which no later run takes
    /// for abandoned and loads again. The rejects are stored just before that transaction begins.
    /// </summary>
    private sealed class Recorder(ImportJob job, DataImport import, LatestProgress progress, string rejectsPath) : ImportCommitHook
    {
        public string? RejectsKey { get; private set; }

        /// <summary>Set once the outcome is written in the data transaction (it commits with it, or the import fails).</summary>
        public bool Recorded { get; private set; }

        public override async Task ReadyAsync(CancellationToken cancellationToken) => RejectsKey = await job.StoreRejectsAsync(import, rejectsPath);

        public override async Task CommittingAsync(ImportSummary summary, DbTransaction transaction, CancellationToken cancellationToken)
        {
            var connection = transaction.Connection ?? throw new InvalidOperationException("The import's transaction has no connection.");
            var options = new DbContextOptionsBuilder<AppDbContext>();
            if (connection is Microsoft.Data.Sqlite.SqliteConnection)
            {
                options.UseSqlite(connection);
            }
            else
            {
                UsePostgres(options, connection);
            }

            options.UseSnakeCaseNamingConvention();
            await using var context = new AppDbContext(options.Options);
            await context.Database.UseTransactionAsync(transaction, cancellationToken);
            if (await job.RecordAsync(context, import.Id, new Outcome(ImportStates.Succeeded, summary), progress, RejectsKey, cancellationToken) == 0)
            {
                // Not ours any more (cancelled, or taken back by another run): these rows must not commit.
                throw new InvalidOperationException($"The import {import.Id} is no longer running on this node; its rows were not committed.");
            }

            Recorded = true;
        }

        /// <summary>Apart, so that an import on SQLite does not load the PostgreSQL driver (<c>LoadedAssembliesTests</c>).</summary>
        private static void UsePostgres(DbContextOptionsBuilder<AppDbContext> options, DbConnection connection) =>
            options.UseNpgsql((NpgsqlConnection)connection);
    }

    /// <summary>
    /// Every <see cref="ProgressInterval"/>: writes the progress to the row and reads its cancel flag. Real time on
    /// purpose: it paces writes to the database, whatever clock the service is given.
    /// </summary>
    private async Task WatchAsync(Guid id, LatestProgress progress, CancellationTokenSource cancel, CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(failures == 0 ? ProgressInterval : ProgressInterval * Math.Min(1 << failures, 30), TimeProvider.System, stop);
                await using var scope = scopes.CreateAsyncScope();
                var rows = scope.ServiceProvider.GetRequiredService<AppDbContext>().Set<DataImport>();
                var latest = progress.Latest;
                var now = clock.GetUtcNow().UtcDateTime;
                await rows.Where(i => i.Id == id && i.State == ImportStates.Running)
                    .ExecuteUpdateAsync(s => s.SetProperty(i => i.RowsRead, latest == null ? 0 : latest.RowsRead)
                        .SetProperty(i => i.RowsRejected, latest == null ? 0 : latest.RowsRejected)
                        .SetProperty(i => i.BytesRead, progress.BytesRead).SetProperty(i => i.ProgressAt, now), stop);
                if (await rows.AnyAsync(i => i.Id == id && i.CancelRequested, stop))
                {
                    await cancel.CancelAsync();
                }

                failures = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error) when (error is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                // Progress is a courtesy: the import goes on, its end is recorded by the job itself, and the next
                // round (later, while the database keeps failing) writes the progress and reads a cancel again.
                if (failures++ == 0)
                {
                    LogWatchFailed(error, id);
                }
            }
        }
    }

    private async Task StopWatchingAsync(CancellationTokenSource stop, Task watching, Guid id)
    {
        await stop.CancelAsync();
        try
        {
            await watching;
        }
        catch (Exception error)
        {
            // The watcher only reports progress: whatever stopped it must not keep the import's end from being recorded.
            LogWatchFailed(error, id);
        }
    }

    private void Cleanup(Guid id, string rejectsPath)
    {
        cancellations.Unregister(id);
        try
        {
            File.Delete(rejectsPath);
        }
        catch (IOException)
        {
            // A temporary file; the system's cleaning takes it.
        }
    }

    private sealed record Outcome(string State, ImportSummary? Summary = null, string? ErrorCode = null, string? Error = null);

    /// <summary>The last progress report, and the bytes read from the store so far.</summary>
    private sealed class LatestProgress : IProgress<ImportProgress>
    {
        private ImportProgress? _latest;
        private long _bytes;

        public ImportProgress? Latest => Volatile.Read(ref _latest);

        public long BytesRead => Interlocked.Read(ref _bytes);

        public void Report(ImportProgress value) => Volatile.Write(ref _latest, value);

        public void Add(int bytes) => Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>The stored upload as the importer reads it: counted, and stopped at the next read once cancelled.</summary>
    private sealed class WatchedStream(Stream inner, LatestProgress progress, CancellationToken cancellationToken) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = inner.Read(buffer);
            progress.Add(read);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken token = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = await inner.ReadAsync(buffer, cancellationToken);
            progress.Add(read);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken token) =>
            ReadAsync(buffer.AsMemory(offset, count), token).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} import(s) left running by a node that stopped were queued again")]
    private partial void LogRequeued(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import {ImportId} stopped by an unexpected error; nothing was written")]
    private partial void LogUnexpected(Exception error, Guid importId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Import {ImportId} ended {State}: {RowsRead} rows read, {RowsLoaded} loaded, {RowsRejected} rejected")]
    private partial void LogEnded(Guid importId, string state, long rowsRead, long rowsLoaded, long rowsRejected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The upload {Key} of an ended import could not be removed")]
    private partial void LogUploadLeft(Exception error, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The rejects of import {ImportId} could not be stored; its outcome is recorded")]
    private partial void LogRejectsLost(Exception error, Guid importId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Import {ImportId} ended {State} here, but was no longer running on this node; its record is left as it is")]
    private partial void LogNotOurs(Guid importId, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write the progress of import {ImportId}; it goes on")]
    private partial void LogWatchFailed(Exception error, Guid importId);
}

/// <summary>
/// A seam for tests: called right after an import's data transaction has committed, before anything else the job
/// does for it (a node killed there is why the outcome is recorded in that transaction). Does nothing in the service.
/// </summary>
internal class ImportJobProbe
{
    public virtual Task CommittedAsync(Guid importId) => Task.CompletedTask;
}
