using System.Security.Claims;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

/// <summary>The points economy: the caller's balance and ledger, transfers between users, the leaderboard, per-app statistics.</summary>
internal static class PointsEndpoints
{
    private const string TransferRoute = RewardsService.TransferRoute;

    public static IEndpointRouteBuilder MapPointsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var me = endpoints.MapGroup("/api/v1/me").WithTags("Points").RequireAuthorization().ProducesProblem(401);
        me.MapGet("/points", MyPoints).WithName("GetMyPoints").WithSummary("The caller's balance.");
        me.MapGet("/points/ledger", MyLedger).WithName("ListMyLedger").ProducesProblem(400).PagesByKeyset<LedgerEntryResponse>()
            .WithSummary("Every change of the caller's balance, newest first; by page number or by cursor.");

        endpoints.MapPost(TransferRoute, Transfer).WithName("TransferPoints").WithTags("Points").RequireAuthorization()
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(409).ProducesProblem(422)
            .WithSummary("Send points to a user (to: username or email). Idempotency-Key header required: the same request again returns the first outcome; the key with another body is a 422, while the first still runs a 409.");
        endpoints.MapGet(TransferRoute, MyTransfers).WithName("ListMyTransfers").WithTags("Points").RequireAuthorization()
            .ProducesProblem(400).ProducesProblem(401).PagesByKeyset<TransferListItem>()
            .WithSummary("The caller's sent and received transfers, newest first, by page number or by cursor; direction=sent or received keeps one side.");
        endpoints.MapGet("/api/v1/leaderboard", Leaderboard).WithName("Leaderboard").WithTags("Points").ProducesProblem(400)
            .WithSummary("Top users by points earned from completions in the period (week, month or all). All time is live; a week or a month is computed now and then and kept by each node (at most 30 s behind another node's completions, about 2 s behind its own).");
        endpoints.MapGet("/api/v1/admin/stats/apps", AppStats).WithName("AppStats").WithTags("Admin: rewards").RequireAuthorization(Policies.Admin)
            .ProducesProblem(401).ProducesProblem(403)
            .WithSummary("Per app: completions by status and points awarded, apps without any included.");
        return endpoints;
    }

    internal static async Task<Ok<Envelope<BalanceResponse>>> MyPoints(ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken) =>
        TypedResults.Ok(new Envelope<BalanceResponse>(new BalanceResponse(await rewards.BalanceAsync(caller.UserId()!.Value, cancellationToken))));

    internal static async Task<Results<Ok<KeysetEnvelope<LedgerEntryResponse>>, Ok<PagedEnvelope<LedgerEntryResponse>>, ProblemHttpResult>> MyLedger(
        [AsParameters] PageQuery paging, ClaimsPrincipal caller, AppDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        var me = caller.UserId()!.Value;
        var entries = db.Set<PointEntry>().AsNoTracking().Where(e => e.UserId == me);
        if (keyset is not null)
        {
            // The ledger's own order is its id (entries are appended), read on ix_point_ledger_user_id_id.
            return Keyset.Ok(context, await entries.ToKeysetPageAsync(keyset, e => e.Id, LedgerEntryResponse.Projection, e => e.Id, cancellationToken));
        }

        return await entries.OrderByDescending(e => e.Id).Select(LedgerEntryResponse.Projection).ToPageAsync(paging, context, cancellationToken);
    }

    internal static async Task<Results<Ok<KeysetEnvelope<TransferListItem>>, Ok<PagedEnvelope<TransferListItem>>, ProblemHttpResult>> MyTransfers(
        [AsParameters] PageQuery paging, string? direction, ClaimsPrincipal caller, AppDbContext db, AccountService accounts, HttpContext context,
        CancellationToken cancellationToken)
    {
        var me = caller.UserId()!.Value;
        var side = direction?.Trim().ToLowerInvariant();
        if (side is not (null or "" or "sent" or "received"))
        {
            return Problems.Validation("direction", "Use sent or received, or leave direction out for both.");
        }

        if (Keyset.TryRead(context, paging, out var keyset) is { } badCursor)
        {
            return badCursor.ToProblem();
        }

        var transfers = db.Set<PointTransfer>().AsNoTracking();
        transfers = side switch
        {
            "sent" => transfers.Where(t => t.FromUserId == me),
            "received" => transfers.Where(t => t.ToUserId == me),
            _ => transfers.Where(t => t.FromUserId == me || t.ToUserId == me),
        };
        System.Linq.Expressions.Expression<Func<PointTransfer, TransferListItem>> projection = t =>
            new TransferListItem(t.Id, t.FromUserId == me ? "sent" : "received", t.FromUserId, null, t.ToUserId, null, t.Amount, t.CreatedAt);
        if (keyset is not null)
        {
            var slice = await transfers.ToKeysetPageAsync(keyset, t => t.CreatedAt, t => t.Id, projection, t => new KeysetPosition(t.CreatedAt, t.Id), cancellationToken);
            return Keyset.Ok(context, slice with { Data = await NamedAsync(slice.Data, accounts, cancellationToken) });
        }

        var page = (await transfers.OrderByDescending(t => t.CreatedAt).ThenByDescending(t => t.Id).Select(projection)
            .ToPageAsync(paging, context, cancellationToken)).Value!;
        return TypedResults.Ok(page with { Data = await NamedAsync(page.Data, accounts, cancellationToken) });
    }

    /// <summary>The transfers with the names their senders and receivers are shown under.</summary>
    private static async Task<IReadOnlyList<TransferListItem>> NamedAsync(IReadOnlyList<TransferListItem> transfers, AccountService accounts, CancellationToken cancellationToken)
    {
        var names = await accounts.DisplayNamesAsync([.. transfers.SelectMany(t => new[] { t.From, t.To }).Distinct()], cancellationToken);
        return [.. transfers.Select(t => t with { FromName = names.GetValueOrDefault(t.From), ToName = names.GetValueOrDefault(t.To) })];
    }

    internal static async Task<Results<Created<Envelope<TransferResponse>>, Ok<Envelope<TransferResponse>>, ProblemHttpResult>> Transfer(
        TransferRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal caller,
        RewardsService rewards, IdempotencyStore idempotency, HttpContext context, CancellationToken cancellationToken)
    {
        var attempt = await rewards.SendPointsAsync(caller.UserId()!.Value, request.To, request.Amount, idempotencyKey, idempotency, cancellationToken);
        if (attempt.Replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        if (!attempt.Outcome.Succeeded)
        {
            return attempt.Outcome.Failure.ToProblem();
        }

        var body = new Envelope<TransferResponse>(attempt.Outcome.Value);
        return attempt.Replayed ? TypedResults.Ok(body) : TypedResults.Created("/api/v1/me/points/ledger", body);
    }

    internal static async Task<Results<Ok<Envelope<IReadOnlyList<LeaderboardEntry>>>, ProblemHttpResult>> Leaderboard(
        string? period, int? size, Leaderboards leaderboards, AppDbContext db, AccountService accounts, CancellationToken cancellationToken)
    {
        period ??= "all";
        if (!leaderboards.Knows(period))
        {
            return Problems.Validation("period", "Use week, month or all.");
        }

        if (size is < 1 or > Leaderboards.Kept)
        {
            return Problems.Validation("size", "The size is 1 to 100.");
        }

        return TypedResults.Ok(new Envelope<IReadOnlyList<LeaderboardEntry>>(await leaderboards.TopAsync(period, size ?? 10, db, accounts, cancellationToken)));
    }

    internal static async Task<Ok<Envelope<IReadOnlyList<AppStatsResponse>>>> AppStats(AppsCatalog catalog, AppDbContext db, CancellationToken cancellationToken)
    {
        var counts = await db.Set<AppCompletion>().AsNoTracking()
            .GroupBy(c => new { c.AppId, c.Status })
            .Select(g => new { g.Key.AppId, g.Key.Status, Count = g.Count(), Points = g.Sum(c => (long)c.Points) })
            .ToListAsync(cancellationToken);
        var byApp = counts.ToLookup(c => c.AppId);
        var stats = (await catalog.AllAsync(cancellationToken)).Select(app =>
        {
            var mine = byApp[app.Id].ToList();
            int Count(CompletionStatus status) => mine.Where(c => c.Status == status).Sum(c => c.Count);
            return new AppStatsResponse(app.Id, app.Name, Count(CompletionStatus.Pending), Count(CompletionStatus.Approved), Count(CompletionStatus.Rejected),
                mine.Where(c => c.Status == CompletionStatus.Approved).Sum(c => c.Points));
        }).ToList();
        return TypedResults.Ok(new Envelope<IReadOnlyList<AppStatsResponse>>(stats));
    }
}
