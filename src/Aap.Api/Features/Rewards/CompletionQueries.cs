using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>
/// The two reads every completion makes, compiled once, so that a completion does not pay for EF Core to take the
/// query's expression apart and look its translation up each time: whether the user completed the app already, and
/// who sent a proof with the same hash. One instance per application (a singleton), not per process: a compiled query
/// keeps the translation of the first database it ran on, and one process may host applications on different
/// databases (the tests do).
/// </summary>
internal sealed class CompletionQueries
{
    private readonly Func<AppDbContext, long, long, CancellationToken, Task<bool>> _completed =
        EF.CompileAsyncQuery((AppDbContext db, long userId, long appId, CancellationToken _) =>
            db.Set<AppCompletion>().Any(c => c.UserId == userId && c.AppId == appId));

    private readonly Func<AppDbContext, string, IAsyncEnumerable<long>> _proofSenders =
        EF.CompileAsyncQuery((AppDbContext db, string sha256) =>
            db.Set<AppCompletion>().Where(c => c.ScreenshotSha256 == sha256).Select(c => c.UserId));

    /// <summary>Whether the user has a completion of this app, whatever its status.</summary>
    public Task<bool> CompletedAsync(AppDbContext db, long userId, long appId, CancellationToken cancellationToken) =>
        _completed(db, userId, appId, cancellationToken);

    /// <summary>The users whose completions have a proof with this hash (the caller among them if they sent it before).</summary>
    public ValueTask<List<long>> ProofSendersAsync(AppDbContext db, string sha256, CancellationToken cancellationToken) =>
        _proofSenders(db, sha256).ToListAsync(cancellationToken);
}
