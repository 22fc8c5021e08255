using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>The points a user reads and sends, shared by the product API and the pages.</summary>
internal sealed partial class RewardsService
{
    /// <summary>The route a transfer's idempotency fingerprint names, whether it came through the API or a page: one key, one transfer.</summary>
    public const string TransferRoute = "/api/v1/points/transfers";

    /// <summary>One page of the user's ledger, newest first.</summary>
    public Task<PagedEnvelope<LedgerEntryResponse>> LedgerAsync(long userId, PageQuery paging, CancellationToken cancellationToken) =>
        db.Set<PointEntry>().AsNoTracking().Where(e => e.UserId == userId).OrderByDescending(e => e.Id)
            .Select(e => new LedgerEntryResponse(e.Id, e.Amount, e.Reason, e.CompletionId, e.TransferId, e.CreatedAt))
            .ToPageDataAsync(paging, cancellationToken);

    /// <summary>
    /// One page of the all-time leaderboard: users by points earned from completions (reversals deducted), ranked in
    /// the database; ties keep the older account first.
    /// </summary>
    public Task<PagedEnvelope<LeaderboardEntry>> LeaderboardPageAsync(PageQuery paging, CancellationToken cancellationToken) =>
        LeaderboardPageAsync(paging, null, cancellationToken);

    /// <summary>
    /// One page of the all-time leaderboard, read from <paramref name="seek"/>'s row when given (the row next to the
    /// page, which the page before or after it showed) instead of counting the rows before the page: what a link to the
    /// next or previous page carries. When the board has changed so that the rows before that row no longer fill the
    /// page, the page is read by its number.
    /// </summary>
    public async Task<PagedEnvelope<LeaderboardEntry>> LeaderboardPageAsync(PageQuery paging, LeaderboardSeek? seek, CancellationToken cancellationToken)
    {
        // The points per user are kept by the database with the ledger (point_earnings, 0020): a page is a range of
        // its index in this order, not a sum of the ledger; and the number of users on the board is kept beside it
        // (point_totals), so that the total is 16 rows, not a count of the index.
        var ranked = await db.Set<PointTotals>().AsNoTracking().SumAsync(t => (long?)t.Ranked, cancellationToken) ?? 0;
        var board = db.Set<PointEarning>().AsNoTracking().Where(e => e.Points > 0);
        var rows = seek is null ? null : await SeekAsync(board, seek, paging.PageSize, cancellationToken);
        if (rows is null || rows.Count == 0 || (seek!.Before && rows.Count < paging.PageSize))
        {
            rows = [.. (await board.OrderByDescending(e => e.Points).ThenBy(e => e.UserId)
                .Select(e => new BoardRow(e.UserId, e.Points)).ToPageDataAsync(paging, ranked, cancellationToken)).Data];
        }

        var names = await accounts.DisplayNamesAsync([.. rows.Select(t => t.UserId)], cancellationToken);
        var first = (paging.PageNumber - 1) * paging.PageSize;
        return new PagedEnvelope<LeaderboardEntry>(
            [.. rows.Select((t, i) => new LeaderboardEntry(first + i + 1, t.UserId, names.GetValueOrDefault(t.UserId) ?? "(deleted user)", t.Points))],
            PageMeta.Of(paging, ranked));
    }

    /// <summary>
    /// The <paramref name="size"/> rows of the board next to <paramref name="seek"/>'s row, in the board's order: first
    /// the rest of the row's ties (the same points, the ids after or before it), then the rows of fewer or more points.
    /// Two reads that each start at their place in the board's index, whatever the page's depth and however many users
    /// share the row's points (one condition over both would pass over the ties before the row: the order is
    /// descending on points and ascending on ids, so no row comparison says "after this row").
    /// </summary>
    private static async Task<List<BoardRow>> SeekAsync(IQueryable<PointEarning> board, LeaderboardSeek seek, int size, CancellationToken cancellationToken)
    {
        var (points, userId) = (seek.Points, seek.UserId);
        List<BoardRow> rows;
        if (!seek.Before)
        {
            // Ordered as the board's index is (the points are one value here), so that PostgreSQL reads that index
            // from the row rather than its primary key from the id, passing over every other user.
            rows = await board.Where(e => e.Points == points && e.UserId > userId).OrderByDescending(e => e.Points).ThenBy(e => e.UserId)
                .Take(size).Select(e => new BoardRow(e.UserId, e.Points)).ToListAsync(cancellationToken);
            if (rows.Count < size)
            {
                rows.AddRange(await board.Where(e => e.Points < points).OrderByDescending(e => e.Points).ThenBy(e => e.UserId)
                    .Take(size - rows.Count).Select(e => new BoardRow(e.UserId, e.Points)).ToListAsync(cancellationToken));
            }

            return rows;
        }

        // Nearest first, then turned round into the board's order.
        rows = await board.Where(e => e.Points == points && e.UserId < userId).OrderBy(e => e.Points).ThenByDescending(e => e.UserId)
            .Take(size).Select(e => new BoardRow(e.UserId, e.Points)).ToListAsync(cancellationToken);
        if (rows.Count < size)
        {
            rows.AddRange(await board.Where(e => e.Points > points).OrderBy(e => e.Points).ThenByDescending(e => e.UserId)
                .Take(size - rows.Count).Select(e => new BoardRow(e.UserId, e.Points)).ToListAsync(cancellationToken));
        }

        rows.Reverse();
        return rows;
    }

    private sealed record BoardRow(long UserId, long Points);

    /// <summary>
    /// Sends points to a user named by username or email, under the caller's idempotency key: the same key with the
    /// same request gets the first outcome back without running again (<see cref="TransferAttempt.Replayed"/>); the
    /// key with another request is a 422, while the first still runs a 409.
    /// </summary>
    public async Task<TransferAttempt> SendPointsAsync(long fromUserId, string? to, long? amount, string? idempotencyKey, IdempotencyStore idempotency, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var key = idempotencyKey?.Trim();
        if (string.IsNullOrEmpty(key) || key.Length > 100)
        {
            errors.Add("idempotency_key", "Send an Idempotency-Key header of 1 to 100 characters, new for each transfer.");
        }

        if (amount is not ( > 0 and <= 1_000_000_000))
        {
            errors.Add("amount", "The amount is a whole number of points above 0.");
        }

        var login = to?.Trim();
        if (string.IsNullOrEmpty(login))
        {
            errors.Add("to", "Name the recipient by username or email.");
        }

        if (errors.Count > 0)
        {
            return new TransferAttempt(Failure.Invalid(errors, "The transfer is not valid."), false);
        }

        var fingerprint = IdempotencyStore.Fingerprint(HttpMethods.Post, TransferRoute, fromUserId, idempotency.NormalizedBody(new TransferRequest(login, amount)));
        var start = await idempotency.BeginAsync(fromUserId, key!, fingerprint, cancellationToken);
        if (start.Refusal is { } refusal)
        {
            return new TransferAttempt(FailureOf(refusal), false);
        }

        if (start.Claim is not { } claim)
        {
            return start.ReplayStatus == StatusCodes.Status201Created
                ? new TransferAttempt(idempotency.Read<TransferResponse>(start.ReplayBody!), true)
                : new TransferAttempt(idempotency.Read<Failure>(start.ReplayBody!), true);
        }

        try
        {
            // The recipient is looked up on every path, and only judged after the balance (TransferAsync).
            var recipient = await accounts.FindByLoginAsync(login!, cancellationToken);
            if (recipient?.Id == fromUserId)
            {
                await idempotency.ReleaseAsync(claim);
                return new TransferAttempt(Failure.Invalid("to", "Points cannot be sent to yourself."), false);
            }

            return new TransferAttempt(
                await TransferAsync(fromUserId, recipient is { IsActive: true } ? recipient.Id : null, amount!.Value, claim, idempotency, cancellationToken), false);
        }
        catch
        {
            await idempotency.ReleaseAsync(claim);
            throw;
        }
    }

    private static Failure FailureOf(ProblemHttpResult problem) =>
        Failure.Of(problem.StatusCode, problem.ProblemDetails.Extensions.TryGetValue("code", out var code) ? code as string ?? ProblemCodes.ValidationFailed : ProblemCodes.ValidationFailed,
            problem.ProblemDetails.Detail ?? "The transfer was refused.", "idempotency_key");
}

/// <summary>What a transfer came to: the transfer or its refusal, and whether it is the stored outcome of an earlier request with the same key.</summary>
[Platform.FeatureSurface]
internal sealed record TransferAttempt(Result<TransferResponse> Outcome, bool Replayed);
