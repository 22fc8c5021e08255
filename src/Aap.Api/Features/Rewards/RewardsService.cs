using System.Data;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Files;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Settings;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

internal static class RewardsCodes
{
    public const string AlreadyCompleted = "already_completed";
    public const string DuplicateProof = "duplicate_proof";
    public const string InsufficientPoints = "insufficient_points";
    public const string AlreadyReviewed = "already_reviewed";
}

/// <summary>
/// Completions, reviews and the points ledger. Every balance change is a ledger entry written in the same
/// transaction as the change; crediting is idempotent per completion (a conditional status update picks one
/// winner, and a unique index on (completion, reason) backs it up); a balance never goes below zero (conditional
/// debit, and a check constraint).
/// </summary>
internal sealed partial class RewardsService(
    AppDbContext db,
    FileService files,
    RuntimeSettings settings,
    TimeProvider clock,
    ILogger<RewardsService> logger)
{
    public async Task<(AppCompletion? Completion, ServiceProblem? Error)> CompleteAsync(long userId, long appId, IFormFile? screenshot, CancellationToken cancellationToken)
    {
        var app = await db.Apps.AsNoTracking().Where(a => a.Id == appId && a.IsActive).Select(a => new { a.Id, a.Points }).SingleOrDefaultAsync(cancellationToken);
        if (app is null)
        {
            return (null, new ServiceProblem(404, ProblemCodes.NotFound, $"App {appId} was not found."));
        }

        if (await db.AppCompletions.AnyAsync(c => c.UserId == userId && c.AppId == appId, cancellationToken))
        {
            return (null, AlreadyCompleted());
        }

        if (screenshot is null)
        {
            return (null, new ServiceProblem(400, ProblemCodes.ValidationFailed, "Send the screenshot as multipart/form-data in a field named 'screenshot'.", "screenshot"));
        }

        var (file, rejection) = await files.UploadAsync(userId, screenshot, "screenshots", cancellationToken);
        if (rejection is not null)
        {
            return (null, rejection with { Field = "screenshot" });
        }

        // The same image as proof for two of one user's apps is refused; the same image from two users is accepted but flagged.
        var reuses = await db.AppCompletions.Where(c => c.ScreenshotSha256 == file!.Sha256).Select(c => c.UserId).ToListAsync(cancellationToken);
        if (reuses.Contains(userId))
        {
            await files.DiscardAsync(file!, cancellationToken);
            return (null, new ServiceProblem(409, RewardsCodes.DuplicateProof, "This screenshot is already the proof of another of your completions.", "screenshot"));
        }

        var requireReview = await settings.GetAsync(RewardsSettings.RequireReview, cancellationToken) == 1;
        var now = clock.GetUtcNow().UtcDateTime;
        var completion = new AppCompletion
        {
            UserId = userId,
            AppId = appId,
            ScreenshotFileId = file!.Id,
            ScreenshotSha256 = file.Sha256,
            Points = app.Points,
            Flagged = reuses.Count > 0,
            Status = requireReview ? CompletionStatus.Pending : CompletionStatus.Approved,
            ReviewedAt = requireReview ? null : now,
        };

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            db.AppCompletions.Add(completion);
            await db.SaveChangesAsync(cancellationToken);
            if (!requireReview)
            {
                await CreditAsync(userId, completion.Points, LedgerReasons.Completion, completion.Id, null, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two completions of one app by one user raced; the unique index kept one.
            db.ChangeTracker.Clear();
            await files.DiscardAsync(file, CancellationToken.None);
            return (null, AlreadyCompleted());
        }

        LogCompleted(userId, appId, completion.Status, completion.Flagged);
        return (completion, null);
    }

    /// <summary>Approves a pending completion and credits its points, once: approving again changes nothing.</summary>
    public async Task<ServiceProblem?> ApproveAsync(long completionId, long adminId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var won = await db.AppCompletions.Where(c => c.Id == completionId && c.Status == CompletionStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, CompletionStatus.Approved).SetProperty(c => c.ReviewedBy, adminId)
                .SetProperty(c => c.ReviewedAt, now).SetProperty(c => c.UpdatedAt, now), cancellationToken);
        if (won == 0)
        {
            var status = await db.AppCompletions.Where(c => c.Id == completionId).Select(c => (CompletionStatus?)c.Status).SingleOrDefaultAsync(cancellationToken);
            return status switch
            {
                null => new ServiceProblem(404, ProblemCodes.NotFound, $"Completion {completionId} was not found."),
                CompletionStatus.Approved => null,
                _ => new ServiceProblem(409, RewardsCodes.AlreadyReviewed, "A rejected completion cannot be approved."),
            };
        }

        var completion = await db.AppCompletions.AsNoTracking().SingleAsync(c => c.Id == completionId, cancellationToken);
        await CreditAsync(completion.UserId, completion.Points, LedgerReasons.Completion, completion.Id, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    public async Task<ServiceProblem?> RejectAsync(long completionId, long adminId, string? reason, CancellationToken cancellationToken)
    {
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 500)
        {
            return new ServiceProblem(400, ProblemCodes.ValidationFailed, "A reason of 1 to 500 characters is required.", "reason");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var changed = await db.AppCompletions.Where(c => c.Id == completionId && c.Status == CompletionStatus.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, CompletionStatus.Rejected).SetProperty(c => c.ReviewReason, reason)
                .SetProperty(c => c.ReviewedBy, adminId).SetProperty(c => c.ReviewedAt, now).SetProperty(c => c.UpdatedAt, now), cancellationToken);
        if (changed == 1)
        {
            return null;
        }

        return await db.AppCompletions.AnyAsync(c => c.Id == completionId, cancellationToken)
            ? new ServiceProblem(409, RewardsCodes.AlreadyReviewed, "Only a pending completion can be rejected.")
            : new ServiceProblem(404, ProblemCodes.NotFound, $"Completion {completionId} was not found.");
    }

    /// <summary>Removes a completion and takes back exactly the points it credited.</summary>
    public async Task<ServiceProblem?> DeleteCompletionAsync(long completionId, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var completion = await db.AppCompletions.AsNoTracking().SingleOrDefaultAsync(c => c.Id == completionId, cancellationToken);
        if (completion is null)
        {
            return new ServiceProblem(404, ProblemCodes.NotFound, $"Completion {completionId} was not found.");
        }

        var credited = await db.PointLedger.Where(e => e.CompletionId == completionId && e.Reason == LedgerReasons.Completion).SumAsync(e => e.Amount, cancellationToken);
        if (credited > 0 && !await DebitAsync(completion.UserId, credited, LedgerReasons.Reversal, completionId, null, cancellationToken))
        {
            return new ServiceProblem(409, RewardsCodes.InsufficientPoints, "The user has already spent these points; the completion cannot be reversed.");
        }

        await db.AppCompletions.Where(c => c.Id == completionId).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    /// <summary>Sends points to another user, atomically, once per idempotency key.</summary>
    public async Task<(PointTransfer? Transfer, bool Replayed, ServiceProblem? Error)> TransferAsync(
        long fromUserId, long toUserId, long amount, string key, CancellationToken cancellationToken)
    {
        if (await FindTransferAsync(fromUserId, key, cancellationToken) is { } earlier)
        {
            return (earlier, true, null);
        }

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            var transfer = new PointTransfer
            {
                FromUserId = fromUserId,
                ToUserId = toUserId,
                Amount = amount,
                IdempotencyKey = key,
                CreatedAt = clock.GetUtcNow().UtcDateTime,
            };
            db.PointTransfers.Add(transfer);
            await db.SaveChangesAsync(cancellationToken);
            if (!await DebitAsync(fromUserId, amount, LedgerReasons.TransferOut, null, transfer.Id, cancellationToken))
            {
                return (null, false, new ServiceProblem(409, RewardsCodes.InsufficientPoints, "Your balance is too low for this transfer.", "amount"));
            }

            await CreditAsync(toUserId, amount, LedgerReasons.TransferIn, null, transfer.Id, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return (transfer, false, null);
        }
        catch (DbUpdateException)
        {
            // The same key raced itself: the first one is the answer.
            db.ChangeTracker.Clear();
            return await FindTransferAsync(fromUserId, key, cancellationToken) is { } first
                ? (first, true, null)
                : throw new InvalidOperationException("A transfer failed to save and no earlier transfer holds its key.");
        }
    }

    /// <summary>The ids of the apps a user has completed (any status), as a query other queries can use.</summary>
    public IQueryable<long> CompletedAppIds(long userId) => db.AppCompletions.Where(c => c.UserId == userId).Select(c => c.AppId);

    /// <summary>Which of these apps the user has completed.</summary>
    public async Task<HashSet<long>> CompletedAmongAsync(long userId, IReadOnlyCollection<long> appIds, CancellationToken cancellationToken) =>
        [.. await CompletedAppIds(userId).Where(id => appIds.Contains(id)).ToListAsync(cancellationToken)];

    public Task<long> BalanceAsync(long userId, CancellationToken cancellationToken) =>
        db.PointBalances.Where(b => b.UserId == userId).Select(b => b.Balance).SingleOrDefaultAsync(cancellationToken);

    private Task<PointTransfer?> FindTransferAsync(long fromUserId, string key, CancellationToken cancellationToken) =>
        db.PointTransfers.AsNoTracking().SingleOrDefaultAsync(t => t.FromUserId == fromUserId && t.IdempotencyKey == key, cancellationToken);

    private async Task CreditAsync(long userId, long amount, string reason, long? completionId, long? transferId, CancellationToken cancellationToken)
    {
        await AppendAsync(userId, amount, reason, completionId, transferId, cancellationToken);
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO point_balances (user_id, balance) VALUES ({userId}, {amount}) ON CONFLICT (user_id) DO UPDATE SET balance = point_balances.balance + excluded.balance",
            cancellationToken);
    }

    /// <summary>Takes points if the balance covers them; false (and nothing written) when it does not.</summary>
    private async Task<bool> DebitAsync(long userId, long amount, string reason, long? completionId, long? transferId, CancellationToken cancellationToken)
    {
        var debited = await db.PointBalances.Where(b => b.UserId == userId && b.Balance >= amount)
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
        db.PointLedger.Add(new PointEntry
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

    private static ServiceProblem AlreadyCompleted() =>
        new(409, RewardsCodes.AlreadyCompleted, "You have already completed this app.");

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} completed app {AppId}: {Status}, flagged {Flagged}")]
    private partial void LogCompleted(long userId, long appId, CompletionStatus status, bool flagged);
}
