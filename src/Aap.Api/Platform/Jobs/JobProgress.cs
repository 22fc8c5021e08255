using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Jobs;

/// <summary>
/// Lets a long job say how far it has come: <see cref="ReportAsync"/> with its items so far writes them to the run's
/// <c>items</c> in <c>job_runs</c>, which the admin API and page show while the run is in progress. A job may call it
/// as often as it likes: at most one write a second (<see cref="Interval"/>, on the application's clock) reaches the
/// database, and none once the run has finished (its final count is the job's result). One per run: scoped, and told
/// its run by the scheduler (or the command line) before the job starts; outside a recorded run it does nothing.
/// </summary>
internal sealed partial class JobProgress(IServiceScopeFactory scopes, TimeProvider clock, ILogger<JobProgress> logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private string? _run;
    private DateTimeOffset? _written;
    private long _items = -1;

    /// <summary>The run whose progress this scope reports (its row in <c>job_runs</c>).</summary>
    internal void Begin(string runId)
    {
        _run = runId;
        _written = null;
        _items = -1;
    }

    /// <summary>Records <paramref name="items"/> handled so far, unless a write happened less than a second ago.</summary>
    public async ValueTask ReportAsync(long items, CancellationToken cancellationToken)
    {
        if (_run is not { } run || items == _items)
        {
            return;
        }

        var now = clock.GetUtcNow();
        if (_written is { } last && now - last < Interval)
        {
            return;
        }

        _written = now;
        _items = items;
        try
        {
            // A connection of its own: the job's may be in the middle of a transaction or a COPY.
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await db.Set<JobRun>().Where(r => r.Id == run && r.Status == JobRunStatus.Running)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.Items, items), cancellationToken);
        }
        catch (System.Data.Common.DbException error)
        {
            // Progress is a courtesy to the reader of the page: a failed write must not fail the work.
            LogProgressFailed(error, run);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the progress of job run {Run}")]
    private partial void LogProgressFailed(Exception error, string run);
}
