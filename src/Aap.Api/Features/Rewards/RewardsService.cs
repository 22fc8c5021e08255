using System.Data;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Features.Identity;
using Aap.Api.Platform;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Settings;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>
/// Completions, reviews and the points ledger. Every balance change is a ledger entry written in the same
/// transaction as the change; crediting is idempotent per completion (a conditional status update picks one
/// winner, and a unique index on (completion, reason) backs it up); a balance never goes below zero (conditional
/// debit, and a check constraint).
/// </summary>
[FeatureSurface]
internal sealed partial class RewardsService(
    AppDbContext db,
    AppsCatalog catalog,
    AccountService accounts,
    FileService files,
    RuntimeSettings settings,
    TimeProvider clock,
    AuditLog audit,
    RewardsMetrics metrics,
    Leaderboards leaderboards,
    CompletionQueries queries,
    ILogger<RewardsService> logger)
{
    /// <summary>The storage category screenshots are kept under: its accepted types (<c>Storage:Categories</c>) are the proofs'.</summary>
    public const string ScreenshotCategory = "screenshots";

    /// <summary>Completes an app's task with a screenshot as proof; the points are credited at once, or when an admin approves.</summary>
    public async Task<Result<CompletionResponse>> CompleteAsync(long userId, long appId, IFormFile? screenshot, CancellationToken cancellationToken)
    {
        var completed = await CountedCompleteAsync(userId, appId, screenshot, cancellationToken);
        return completed.Succeeded ? completed.Value.Response : completed.Failure;
    }

    /// <summary>
    /// <see cref="CompleteAsync"/>, answered as <see cref="DescribeAsync"/> describes completions, with the app's name
    /// the completion itself read.
    /// </summary>
    public async Task<Result<CompletionResponse>> CompleteDescribedAsync(long userId, long appId, IFormFile? screenshot, CancellationToken cancellationToken)
    {
        var completed = await CountedCompleteAsync(userId, appId, screenshot, cancellationToken);
        return completed.Succeeded
            ? (await DescribeAsync([completed.Value.Response with { AppName = completed.Value.AppName }], cancellationToken))[0]
            : completed.Failure;
    }

    private async Task<Result<NewCompletion>> CountedCompleteAsync(long userId, long appId, IFormFile? screenshot, CancellationToken cancellationToken)
    {
        var completed = await TryCompleteAsync(userId, appId, screenshot, cancellationToken);
        metrics.Completion(completed.Succeeded ? (completed.Value.Response.Status == CompletionStatus.Pending ? "pending" : "approved") : completed.Failure.Code);
        return completed;
    }

    private async Task<Result<NewCompletion>> TryCompleteAsync(long userId, long appId, IFormFile? screenshot, CancellationToken cancellationToken)
    {
        var app = await catalog.FindActiveAsync(appId, cancellationToken);
        if (app is null)
        {
            return Failure.NotFound($"App {appId}");
        }

        if (await queries.CompletedAsync(db, userId, appId, cancellationToken))
        {
            return AlreadyCompleted();
        }

        if (screenshot is null)
        {
            return Failure.Of(400, ProblemCodes.ValidationFailed, "Send the screenshot as multipart/form-data in a field named 'screenshot'.", "screenshot");
        }

        // Held until the completion commits: a completion that never does leaves a proof the purge removes.
        var upload = await files.UploadAsync(userId, screenshot, ScreenshotCategory, cancellationToken, held: true);
        if (!upload.Succeeded)
        {
            return upload.Failure.For("screenshot");
        }

        var file = upload.Value;

        // The same image as proof for two of one user's apps is refused; the same image from two users is accepted but flagged.
        var reuses = await queries.ProofSendersAsync(db, file.Sha256, cancellationToken);
        if (reuses.Contains(userId))
        {
            await files.DiscardAsync(file.Id, cancellationToken);
            return Failure.Of(409, RewardsCodes.DuplicateProof, "This screenshot is already the proof of another of your completions.", "screenshot");
        }

        // Proof another user already sent always waits for an admin, whatever the review setting: paying it at once
        // would pay for a copied screenshot.
        var requireReview = reuses.Count > 0 || await settings.GetAsync(RewardsSettings.RequireReview, cancellationToken) == 1;
        var now = clock.GetUtcNow().UtcDateTime;
        var completion = new AppCompletion
        {
            UserId = userId,
            AppId = appId,
            ScreenshotFileId = file.Id,
            ScreenshotSha256 = file.Sha256,
            Points = app.Points,
            Flagged = reuses.Count > 0,
            Status = requireReview ? CompletionStatus.Pending : CompletionStatus.Approved,
            ReviewedAt = requireReview ? null : now,
        };

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            db.Set<AppCompletion>().Add(completion);
            await files.KeepAsync(file.Id, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            if (!requireReview)
            {
                await CreditAsync(userId, completion.Points, LedgerReasons.Completion, completion.Id, null, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            if (!requireReview)
            {
                leaderboards.Changed();
            }
        }
        catch (DbUpdateException)
        {
            // Two completions of one app by one user raced; the unique index kept one.
            db.ChangeTracker.Clear();
            await files.DiscardAsync(file.Id, CancellationToken.None);
            return AlreadyCompleted();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The completion was refused (the database went away, say) after its proof was stored: take the proof
            // back at once if the database lets us; if not, the proof stays held (deleted, hidden) and the purge of
            // deleted files removes its object and row later.
            db.ChangeTracker.Clear();
            await TryDiscardAsync(file.Id);
            throw;
        }

        await files.QueueThumbnailAsync(file, cancellationToken);
        LogCompleted(userId, appId, completion.Status, completion.Flagged);
        return new NewCompletion(CompletionResponse.From(completion), app.Name);
    }

    private sealed record NewCompletion(CompletionResponse Response, string AppName);

    private static readonly IReadOnlyDictionary<long, string> NoNames = new Dictionary<long, string>();

    private async Task TryDiscardAsync(long fileId)
    {
        try
        {
            await files.DiscardAsync(fileId, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogProofKept(ex, fileId);
        }
    }

    /// <summary>Approves a pending completion and credits its points, once: approving again changes nothing.</summary>
    public async Task<Failure?> ApproveAsync(long completionId, long adminId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var won = await db.Set<AppCompletion>().Where(c => c.Id == completionId && c.Status == CompletionStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, CompletionStatus.Approved).SetProperty(c => c.ReviewedBy, adminId)
                .SetProperty(c => c.ReviewedAt, now).SetProperty(c => c.UpdatedAt, now), cancellationToken);
        if (won == 0)
        {
            var status = await db.Set<AppCompletion>().Where(c => c.Id == completionId).Select(c => (CompletionStatus?)c.Status).SingleOrDefaultAsync(cancellationToken);
            return status switch
            {
                null => Failure.NotFound($"Completion {completionId}"),
                CompletionStatus.Approved => null,
                _ => new Failure(409, RewardsCodes.AlreadyReviewed, "A rejected completion cannot be approved."),
            };
        }

        var completion = await db.Set<AppCompletion>().AsNoTracking().SingleAsync(c => c.Id == completionId, cancellationToken);
        await audit.RecordAsync(adminId, "completion.approved", "completion", Key(completionId),
            CompletionAuditSnapshot.Of(completion) with { Status = CompletionStatus.Pending, ReviewReason = null }, CompletionAuditSnapshot.Of(completion), cancellationToken);
        await CreditAsync(completion.UserId, completion.Points, LedgerReasons.Completion, completion.Id, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        leaderboards.Changed();
        metrics.Reviewed("approved");
        return null;
    }

    public async Task<Failure?> RejectAsync(long completionId, long adminId, string? reason, CancellationToken cancellationToken)
    {
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 500)
        {
            return Failure.Of(400, ProblemCodes.ValidationFailed, "A reason of 1 to 500 characters is required.", "reason");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var changed = await db.Set<AppCompletion>().Where(c => c.Id == completionId && c.Status == CompletionStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, CompletionStatus.Rejected).SetProperty(c => c.ReviewReason, reason)
                .SetProperty(c => c.ReviewedBy, adminId).SetProperty(c => c.ReviewedAt, now).SetProperty(c => c.UpdatedAt, now), cancellationToken);
        if (changed == 1)
        {
            var completion = await db.Set<AppCompletion>().AsNoTracking().SingleAsync(c => c.Id == completionId, cancellationToken);
            await audit.RecordAsync(adminId, "completion.rejected", "completion", Key(completionId),
                CompletionAuditSnapshot.Of(completion) with { Status = CompletionStatus.Pending, ReviewReason = null }, CompletionAuditSnapshot.Of(completion), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            metrics.Reviewed("rejected");
            return null;
        }

        return await db.Set<AppCompletion>().AnyAsync(c => c.Id == completionId, cancellationToken)
            ? new Failure(409, RewardsCodes.AlreadyReviewed, "Only a pending completion can be rejected.")
            : Failure.NotFound($"Completion {completionId}");
    }

    /// <summary>
    /// Removes a completion and takes back exactly the points it credited. The completion is deleted before the
    /// reversal is written (and the deletion undone with the transaction when the balance cannot cover it): the
    /// ledger's entry comes last, as in a credit, so that the lock it takes on point_totals (0020) is the last one of
    /// the transaction on PostgreSQL.
    /// </summary>
    public async Task<Failure?> DeleteCompletionAsync(long completionId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var completion = await db.Set<AppCompletion>().AsNoTracking().SingleOrDefaultAsync(c => c.Id == completionId, cancellationToken);
        if (completion is null)
        {
            return Failure.NotFound($"Completion {completionId}");
        }

        var credited = await db.Set<PointEntry>().Where(e => e.CompletionId == completionId && e.Reason == LedgerReasons.Completion).SumAsync(e => e.Amount, cancellationToken);
        await db.Set<AppCompletion>().Where(c => c.Id == completionId).ExecuteDeleteAsync(cancellationToken);
        if (credited > 0 && !await DebitAsync(completion.UserId, credited, LedgerReasons.Reversal, completionId, null, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            return new Failure(409, RewardsCodes.InsufficientPoints, "The user has already spent these points; the completion cannot be reversed.");
        }

        await audit.RecordAsync("completion.deleted", "completion", Key(completionId), CompletionAuditSnapshot.Of(completion) with { PointsReversed = credited }, null, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (credited > 0)
        {
            leaderboards.Changed();
        }

        return null;
    }

    /// <summary>
    /// Sends points to another user, atomically, and stores the outcome in the idempotency claim in the same
    /// transaction. The balance is checked before the recipient, and both paths run the same statements, so a
    /// caller who cannot cover the amount learns nothing about whether the recipient exists.
    /// </summary>
    public async Task<Result<TransferResponse>> TransferAsync(
        long fromUserId, long? toUserId, long amount, IdempotencyRecord claim, IdempotencyStore idempotency, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        Failure? refusal;
        await using (var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken))
        {
            await LockBalancesAsync(fromUserId, toUserId, cancellationToken);
            var debited = await db.Set<PointBalance>().Where(b => b.UserId == fromUserId && b.Balance >= amount)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.Balance, b => b.Balance - amount), cancellationToken);
            refusal = debited == 0
                ? Failure.Of(409, RewardsCodes.InsufficientPoints, "Your balance is too low for this transfer.", "amount")
                : toUserId is null ? UnknownRecipient() : null;
            if (refusal is null)
            {
                var transfer = new PointTransfer { FromUserId = fromUserId, ToUserId = toUserId!.Value, Amount = amount, IdempotencyKey = claim.IdempotencyKey, CreatedAt = now };
                db.Set<PointTransfer>().Add(transfer);
                await db.SaveChangesAsync(cancellationToken);
                await AppendAsync(fromUserId, -amount, LedgerReasons.TransferOut, null, transfer.Id, cancellationToken);
                await CreditAsync(toUserId.Value, amount, LedgerReasons.TransferIn, null, transfer.Id, cancellationToken);
                var response = TransferResponse.Of(transfer);
                await idempotency.CompleteAsync(claim, StatusCodes.Status201Created, response, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                metrics.Transferred(amount);
                return response;
            }

            await transaction.RollbackAsync(cancellationToken);
        }

        // A refusal is an outcome too: the same request with the same key gets it again, even if the balance has grown since.
        await idempotency.CompleteAsync(claim, refusal.Status, refusal, cancellationToken);
        return refusal;
    }

    /// <summary>
    /// On PostgreSQL, locks the sender's and the recipient's balances in the order of their user ids before either
    /// changes: two users sending each other points at once then wait for each other instead of deadlocking (each
    /// would hold its own balance and wait for the other's). One statement whether the recipient exists or not, as for
    /// the rest of a transfer. SQLite has one writer at a time, so nothing to order there.
    /// </summary>
    private async Task LockBalancesAsync(long fromUserId, long? toUserId, CancellationToken cancellationToken)
    {
        if (!db.Database.IsNpgsql())
        {
            return;
        }

        long[] users = toUserId is { } to && to != fromUserId ? [Math.Min(fromUserId, to), Math.Max(fromUserId, to)] : [fromUserId];
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"SELECT user_id FROM point_balances WHERE user_id = ANY({users}) ORDER BY user_id FOR UPDATE", cancellationToken);
    }

    /// <summary>The same words whether the name is unknown, inactive or never existed.</summary>
    public static Failure UnknownRecipient() => Failure.Of(400, ProblemCodes.ValidationFailed, "No active user has this username or email.", "to");

    /// <summary>A user's completions, newest first.</summary>
    public async Task<List<CompletionResponse>> CompletionsOfAsync(long userId, CancellationToken cancellationToken) =>
        await db.Set<AppCompletion>().AsNoTracking().Where(c => c.UserId == userId).OrderByDescending(c => c.Id)
            .Select(CompletionResponse.Projection).ToListAsync(cancellationToken);

    /// <summary>The user's completion of this app (there is at most one), or null when they have not completed it.</summary>
    public Task<CompletionResponse?> CompletionOfAsync(long userId, long appId, CancellationToken cancellationToken) =>
        db.Set<AppCompletion>().AsNoTracking().Where(c => c.UserId == userId && c.AppId == appId).Select(CompletionResponse.Projection).SingleOrDefaultAsync(cancellationToken)!;

    public Task<CompletionResponse?> FindCompletionAsync(long completionId, CancellationToken cancellationToken) =>
        db.Set<AppCompletion>().AsNoTracking().Where(c => c.Id == completionId).Select(CompletionResponse.Projection).SingleOrDefaultAsync(cancellationToken)!;

    /// <summary>One completion with the product API's details (<see cref="DescribeAsync"/>), or null.</summary>
    public async Task<CompletionResponse?> FindCompletionDetailsAsync(long completionId, CancellationToken cancellationToken) =>
        await FindCompletionAsync(completionId, cancellationToken) is { } found ? (await DescribeAsync([found], cancellationToken))[0] : null;

    /// <summary>
    /// Adds what the product API shows of completions: the user's display name, the app's name (a deleted app's too),
    /// and for a flagged completion the ids of other users' completions with the same screenshot (an empty list for
    /// one that is not flagged). Three queries at most, however many completions; an app's name already on a completion
    /// is kept, and not read again.
    /// </summary>
    public async Task<IReadOnlyList<CompletionResponse>> DescribeAsync(IReadOnlyList<CompletionResponse> completions, CancellationToken cancellationToken)
    {
        if (completions.Count == 0)
        {
            return completions;
        }

        var users = await accounts.DisplayNamesAsync([.. completions.Select(c => c.UserId).Distinct()], cancellationToken);
        var unnamed = completions.Where(c => c.AppName is null).Select(c => c.AppId).Distinct().ToList();
        var apps = unnamed.Count == 0 ? NoNames : await catalog.NamesAsync(unnamed, cancellationToken);
        var flagged = completions.Where(c => c.Flagged).Select(c => c.Id).ToList();
        var duplicates = flagged.Count == 0
            ? []
            : await (from c in db.Set<AppCompletion>().AsNoTracking()
                     where flagged.Contains(c.Id)
                     join other in db.Set<AppCompletion>().AsNoTracking() on c.ScreenshotSha256 equals other.ScreenshotSha256
                     where other.UserId != c.UserId
                     select new { c.Id, Other = other.Id }).ToListAsync(cancellationToken);
        var byCompletion = duplicates.ToLookup(d => d.Id, d => d.Other);
        return [.. completions.Select(c => c with
        {
            Username = users.GetValueOrDefault(c.UserId),
            AppName = c.AppName ?? apps.GetValueOrDefault(c.AppId),
            DuplicateOf = [.. byCompletion[c.Id].Order()],
        })];
    }

    /// <summary>
    /// The review queue: pending completions (flagged ones among them), oldest first, described
    /// (<see cref="DescribeAsync"/>); counted and paged in the database.
    /// </summary>
    public async Task<PagedEnvelope<CompletionResponse>> ReviewQueueAsync(PageQuery paging, CancellationToken cancellationToken)
    {
        var page = await db.Set<AppCompletion>().AsNoTracking().Where(c => c.Status == CompletionStatus.Pending)
            .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Select(CompletionResponse.Projection).ToPageDataAsync(paging, cancellationToken);
        return page with { Data = await DescribeAsync(page.Data, cancellationToken) };
    }

    /// <summary>The other completions whose proof is the same image as this one's (any user, any status), oldest first, described.</summary>
    public async Task<IReadOnlyList<CompletionResponse>> CompletionsSharingProofAsync(long completionId, CancellationToken cancellationToken)
    {
        var sharing = await (from c in db.Set<AppCompletion>().AsNoTracking()
                             where c.Id == completionId
                             join other in db.Set<AppCompletion>().AsNoTracking() on c.ScreenshotSha256 equals other.ScreenshotSha256
                             where other.Id != c.Id
                             orderby other.CreatedAt, other.Id
                             select other).Select(CompletionResponse.Projection).ToListAsync(cancellationToken);
        return await DescribeAsync(sharing, cancellationToken);
    }

    public Task<long> BalanceAsync(long userId, CancellationToken cancellationToken) =>
        db.Set<PointBalance>().Where(b => b.UserId == userId).Select(b => b.Balance).SingleOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Adds to the balance, then appends the entry: the balance's row is taken before the rows the ledger's triggers
    /// keep (the user's point_earnings, 0020), as in <see cref="DebitAsync"/>, so that a credit and a reversal of one
    /// user never wait for each other in a cycle on PostgreSQL. Both statements go in one command, one round trip to
    /// the database (every approved completion credits), executed in that order by both providers. They bypass the
    /// context, so what the transaction added to it before (an approval's audit record) is saved first.
    /// </summary>
    private async Task CreditAsync(long userId, long amount, string reason, long? completionId, long? transferId, CancellationToken cancellationToken)
    {
        if (db.ChangeTracker.HasChanges())
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        var at = clock.GetUtcNow().UtcDateTime;
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO point_balances (user_id, balance) VALUES ({userId}, {amount}) ON CONFLICT (user_id) DO UPDATE SET balance = point_balances.balance + excluded.balance;
            INSERT INTO point_ledger (user_id, amount, reason, completion_id, transfer_id, created_at) VALUES ({userId}, {amount}, {reason}, {completionId}, {transferId}, {at});
            """,
            cancellationToken);
        metrics.Credited(reason, amount);
    }

    /// <summary>Takes points if the balance covers them; false (and nothing written) when it does not.</summary>
    private async Task<bool> DebitAsync(long userId, long amount, string reason, long? completionId, long? transferId, CancellationToken cancellationToken)
    {
        var debited = await db.Set<PointBalance>().Where(b => b.UserId == userId && b.Balance >= amount)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.Balance, b => b.Balance - amount), cancellationToken);
        if (debited == 0)
        {
            return false;
        }

        await AppendAsync(userId, -amount, reason, completionId, transferId, cancellationToken);
        return true;
    }

    private async Task AppendAsync(long userId, long amount, string reason, long? completionId, long? transferId, CancellationToken cancellationToken)
    {
        db.Set<PointEntry>().Add(new PointEntry
        {
            UserId = userId,
            Amount = amount,
            Reason = reason,
            CompletionId = completionId,
            TransferId = transferId,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Key(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Failure AlreadyCompleted() =>
        new(409, RewardsCodes.AlreadyCompleted, "You have already completed this app.");

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} completed app {AppId}: {Status}, flagged {Flagged}")]
    private partial void LogCompleted(long userId, long appId, CompletionStatus status, bool flagged);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The proof of a refused completion (file {FileId}) could not be discarded now; it stays deleted until the purge removes it")]
    private partial void LogProofKept(Exception exception, long fileId);
}

/// <summary>What the audit log keeps of a completion (not the screenshot).</summary>
internal sealed record CompletionAuditSnapshot(long UserId, long AppId, CompletionStatus Status, int Points, string? ReviewReason, long? PointsReversed = null)
{
    public static CompletionAuditSnapshot Of(AppCompletion c) => new(c.UserId, c.AppId, c.Status, c.Points, c.ReviewReason);
}
