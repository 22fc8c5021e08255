using System.Security.Claims;
using Aap.Api.Features.Apps;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Rewards;

public sealed record TransferRequest(string? To, long? Amount);

public sealed record RejectRequest(string? Reason);

internal sealed record CompletionResponse(long Id, long UserId, long AppId, CompletionStatus Status, bool Flagged, int Points, string Screenshot, string? ReviewReason, DateTime? ReviewedAt, DateTime CreatedAt)
{
    public static readonly System.Linq.Expressions.Expression<Func<AppCompletion, CompletionResponse>> Projection = c =>
        new CompletionResponse(c.Id, c.UserId, c.AppId, c.Status, c.Flagged, c.Points, "/api/v1/files/" + c.ScreenshotFileId, c.ReviewReason, c.ReviewedAt, c.CreatedAt);

    private static readonly Func<AppCompletion, CompletionResponse> FromEntity = Projection.Compile();

    public static CompletionResponse From(AppCompletion completion) => FromEntity(completion);
}

internal sealed record BalanceResponse(long Balance);

internal sealed record LedgerEntryResponse(long Id, long Amount, string Reason, long? CompletionId, long? TransferId, DateTime CreatedAt);

internal sealed record TransferResponse(long Id, long From, long To, long Amount, DateTime CreatedAt)
{
    public static TransferResponse Of(PointTransfer t) => new(t.Id, t.FromUserId, t.ToUserId, t.Amount, t.CreatedAt);
}

internal sealed record LeaderboardEntry(int Rank, long UserId, string Username, long Points);

internal sealed record AppStatsResponse(long AppId, string Name, int Pending, int Approved, int Rejected, long PointsAwarded);

/// <summary>The points economy: completions with screenshot proof, reviews, balances, transfers, leaderboard, stats.</summary>
internal static class RewardsEndpoints
{
    private const string TransferRoute = "/api/v1/points/transfers";

    public static IServiceCollection AddRewardsFeature(this IServiceCollection services) =>
        services.AddScoped<RewardsService>()
            .AddScoped<Files.IFileReferences, CompletionProofs>()
            .AddSingleton(RewardsSettings.RequireReview)
            .AddScoped<Platform.Persistence.Seeding.ISeedContributor, RewardsSeed>();

    public static IEndpointRouteBuilder MapRewardsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/apps/{id}/completions", Complete).WithName("CompleteApp").WithTags("Rewards").RequireAuthorization().DisableAntiforgery()
            .AcceptsMultipartUpload().ProducesProblem(401).ProducesProblem(404).ProducesProblem(409).ProducesProblem(415)
            .WithSummary("Complete an app's task with a screenshot (multipart field 'screenshot'); points are credited at once or after review.");

        var me = endpoints.MapGroup("/api/v1/me").WithTags("Rewards").RequireAuthorization().ProducesProblem(401);
        me.MapGet("/completions", MyCompletions).WithName("ListMyCompletions").WithSummary("The caller's completions, newest first.");
        me.MapGet("/points", MyPoints).WithName("GetMyPoints").WithSummary("The caller's balance.");
        me.MapGet("/points/ledger", MyLedger).WithName("ListMyLedger").WithSummary("Every change of the caller's balance, newest first.");

        endpoints.MapPost(TransferRoute, Transfer).WithName("TransferPoints").WithTags("Rewards").RequireAuthorization()
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(409).ProducesProblem(422)
            .WithSummary("Send points to a user (to: username or email). Idempotency-Key header required: the same request again returns the first outcome; the key with another body is a 422, while the first still runs a 409.");
        endpoints.MapGet("/api/v1/leaderboard", Leaderboard).WithName("Leaderboard").WithTags("Rewards").ProducesProblem(400)
            .WithSummary("Top users by points earned from completions in the period (week, month or all).");

        var admin = endpoints.MapGroup("/api/v1/admin").WithTags("Admin: rewards").RequireAuthorization(Policies.Admin)
            .ProducesProblem(401).ProducesProblem(403);
        admin.MapGet("/completions", ListCompletions).WithName("ListCompletions").WithSummary("Completions; filters: status, user, app, flagged.");
        admin.MapGet("/completions/{id}", GetCompletion).WithName("GetCompletion").ProducesProblem(404);
        admin.MapPost("/completions/{id}/approve", Approve).WithName("ApproveCompletion").ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Approve and credit the points (once, however often it is called).");
        admin.MapPost("/completions/{id}/reject", Reject).WithName("RejectCompletion").ProducesProblem(400).ProducesProblem(404).ProducesProblem(409);
        admin.MapDelete("/completions/{id}", DeleteCompletion).WithName("DeleteCompletion").ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Remove a completion and take back exactly the points it credited.");
        admin.MapGet("/stats/apps", AppStats).WithName("AppStats").WithSummary("Per app: completions by status and points awarded, apps without any included.");
        return endpoints;
    }

    internal static async Task<Results<Created<Envelope<CompletionResponse>>, ProblemHttpResult>> Complete(
        long id, HttpContext context, ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken)
    {
        if (!context.Request.HasFormContentType)
        {
            return Problems.Create(415, ProblemCodes.UnsupportedMediaType, "Send the screenshot as multipart/form-data in a field named 'screenshot'.");
        }

        var form = await context.Request.ReadFormAsync(cancellationToken);
        var (completion, error) = await rewards.CompleteAsync(caller.UserId()!.Value, id, form.Files.GetFile("screenshot"), cancellationToken);
        return error is not null
            ? error.ToProblem()
            : TypedResults.Created($"/api/v1/me/completions", new Envelope<CompletionResponse>(CompletionResponse.From(completion!)));
    }

    internal static Task<Ok<PagedEnvelope<CompletionResponse>>> MyCompletions(
        [AsParameters] PageQuery paging, ClaimsPrincipal caller, AppDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        var me = caller.UserId()!.Value;
        return db.Set<AppCompletion>().AsNoTracking().Where(c => c.UserId == me).OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id)
            .Select(CompletionResponse.Projection).ToPageAsync(paging, context, cancellationToken);
    }

    internal static async Task<Ok<Envelope<BalanceResponse>>> MyPoints(ClaimsPrincipal caller, RewardsService rewards, CancellationToken cancellationToken) =>
        TypedResults.Ok(new Envelope<BalanceResponse>(new BalanceResponse(await rewards.BalanceAsync(caller.UserId()!.Value, cancellationToken))));

    internal static Task<Ok<PagedEnvelope<LedgerEntryResponse>>> MyLedger(
        [AsParameters] PageQuery paging, ClaimsPrincipal caller, AppDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        var me = caller.UserId()!.Value;
        return db.Set<PointEntry>().AsNoTracking().Where(e => e.UserId == me).OrderByDescending(e => e.Id)
            .Select(e => new LedgerEntryResponse(e.Id, e.Amount, e.Reason, e.CompletionId, e.TransferId, e.CreatedAt))
            .ToPageAsync(paging, context, cancellationToken);
    }

    internal static async Task<Results<Created<Envelope<TransferResponse>>, Ok<Envelope<TransferResponse>>, ProblemHttpResult>> Transfer(
        TransferRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal caller,
        RewardsService rewards, IdempotencyStore idempotency, UserManager<User> users, HttpContext context, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var key = idempotencyKey?.Trim();
        if (string.IsNullOrEmpty(key) || key.Length > 100)
        {
            errors.Add("idempotency_key", "Send an Idempotency-Key header of 1 to 100 characters, new for each transfer.");
        }

        if (request.Amount is not ( > 0 and <= 1_000_000_000))
        {
            errors.Add("amount", "The amount is a whole number of points above 0.");
        }

        var from = caller.UserId()!.Value;
        var login = request.To?.Trim();
        if (string.IsNullOrEmpty(login))
        {
            errors.Add("to", "Name the recipient by username or email.");
        }

        if (errors.Count > 0)
        {
            return Problems.Create(400, ProblemCodes.ValidationFailed, "The transfer is not valid.", errors);
        }

        var fingerprint = IdempotencyStore.Fingerprint(HttpMethods.Post, TransferRoute, from, idempotency.NormalizedBody(request with { To = login }));
        var start = await idempotency.BeginAsync(from, key!, fingerprint, cancellationToken);
        if (start.Refusal is { } refusal)
        {
            return refusal;
        }

        if (start.Claim is not { } claim)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
            return start.ReplayStatus == StatusCodes.Status201Created
                ? TypedResults.Ok(new Envelope<TransferResponse>(idempotency.Read<TransferResponse>(start.ReplayBody!)))
                : idempotency.Read<Failure>(start.ReplayBody!).ToProblem();
        }

        try
        {
            // The recipient is looked up on every path, and only judged after the balance (RewardsService.TransferAsync).
            var to = login!.Contains('@', StringComparison.Ordinal) ? await users.FindByEmailAsync(login) : await users.FindByNameAsync(login);
            if (to?.Id == from)
            {
                await idempotency.ReleaseAsync(claim);
                return Problems.Validation("to", "Points cannot be sent to yourself.");
            }

            var (transfer, error) = await rewards.TransferAsync(from, to is { IsActive: true } ? to.Id : null, request.Amount!.Value, claim, idempotency, cancellationToken);
            return error is not null
                ? error.ToProblem()
                : TypedResults.Created($"/api/v1/me/points/ledger", new Envelope<TransferResponse>(TransferResponse.Of(transfer!)));
        }
        catch
        {
            await idempotency.ReleaseAsync(claim);
            throw;
        }
    }

    internal static async Task<Results<Ok<Envelope<IReadOnlyList<LeaderboardEntry>>>, ProblemHttpResult>> Leaderboard(
        string? period, int? size, AppDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        DateTime? since = (period ?? "all") switch
        {
            "week" => now.AddDays(-7),
            "month" => now.AddMonths(-1),
            "all" => null,
            _ => DateTime.MinValue,
        };
        if (since == DateTime.MinValue)
        {
            return Problems.Validation("period", "Use week, month or all.");
        }

        if (size is < 1 or > 100)
        {
            return Problems.Validation("size", "The size is 1 to 100.");
        }

        var earned = db.Set<PointEntry>().Where(e => e.Reason == LedgerReasons.Completion || e.Reason == LedgerReasons.Reversal);
        if (since is { } start)
        {
            earned = earned.Where(e => e.CreatedAt >= start);
        }

        var top = await earned.GroupBy(e => e.UserId)
            .Select(g => new { UserId = g.Key, Points = g.Sum(e => e.Amount) })
            .Where(g => g.Points > 0)
            .OrderByDescending(g => g.Points).ThenBy(g => g.UserId)
            .Take(size ?? 10)
            .Join(db.Set<User>(), g => g.UserId, u => u.Id, (g, u) => new { g.UserId, g.Points, u.UserName, u.Email })
            .ToListAsync(cancellationToken);
        var ranked = top.OrderByDescending(t => t.Points).ThenBy(t => t.UserId)
            .Select((t, i) => new LeaderboardEntry(i + 1, t.UserId, t.UserName ?? t.Email!.Split('@')[0], t.Points)).ToList();
        return TypedResults.Ok(new Envelope<IReadOnlyList<LeaderboardEntry>>(ranked));
    }

    internal static async Task<Results<Ok<PagedEnvelope<CompletionResponse>>, ProblemHttpResult>> ListCompletions(
        [AsParameters] PageQuery paging, string? status, long? user, long? app, bool? flagged,
        AppDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        var query = db.Set<AppCompletion>().AsNoTracking();
        if (status is not null)
        {
            // The same spelling the responses use: pending, approved, rejected.
            if (WireEnum.Parse<CompletionStatus>(status) is { } parsed)
            {
                query = query.Where(c => c.Status == parsed);
            }
            else
            {
                return Problems.Validation("status", "Use pending, approved or rejected.");
            }
        }

        query = user is { } u ? query.Where(c => c.UserId == u) : query;
        query = app is { } a ? query.Where(c => c.AppId == a) : query;
        query = flagged is { } f ? query.Where(c => c.Flagged == f) : query;
        return await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Select(CompletionResponse.Projection).ToPageAsync(paging, context, cancellationToken);
    }

    internal static async Task<Results<Ok<Envelope<CompletionResponse>>, ProblemHttpResult>> GetCompletion(long id, AppDbContext db, CancellationToken cancellationToken) =>
        await db.Set<AppCompletion>().AsNoTracking().Where(c => c.Id == id).Select(CompletionResponse.Projection).SingleOrDefaultAsync(cancellationToken) is { } completion
            ? TypedResults.Ok(new Envelope<CompletionResponse>(completion))
            : Problems.NotFound($"Completion {id}");

    internal static async Task<Results<Ok<Envelope<CompletionResponse>>, ProblemHttpResult>> Approve(
        long id, ClaimsPrincipal caller, RewardsService rewards, AppDbContext db, CancellationToken cancellationToken) =>
        await rewards.ApproveAsync(id, caller.UserId()!.Value, cancellationToken) is { } error
            ? error.ToProblem()
            : await GetCompletion(id, db, cancellationToken);

    internal static async Task<Results<Ok<Envelope<CompletionResponse>>, ProblemHttpResult>> Reject(
        long id, RejectRequest request, ClaimsPrincipal caller, RewardsService rewards, AppDbContext db, CancellationToken cancellationToken) =>
        await rewards.RejectAsync(id, caller.UserId()!.Value, request.Reason, cancellationToken) is { } error
            ? error.ToProblem()
            : await GetCompletion(id, db, cancellationToken);

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteCompletion(long id, RewardsService rewards, CancellationToken cancellationToken) =>
        await rewards.DeleteCompletionAsync(id, cancellationToken) is { } error ? error.ToProblem() : TypedResults.NoContent();

    internal static async Task<Ok<Envelope<IReadOnlyList<AppStatsResponse>>>> AppStats(AppDbContext db, CancellationToken cancellationToken)
    {
        var stats = await db.Set<App>().AsNoTracking()
            .OrderBy(a => a.Id)
            .Select(a => new AppStatsResponse(
                a.Id,
                a.Name,
                db.Set<AppCompletion>().Count(c => c.AppId == a.Id && c.Status == CompletionStatus.Pending),
                db.Set<AppCompletion>().Count(c => c.AppId == a.Id && c.Status == CompletionStatus.Approved),
                db.Set<AppCompletion>().Count(c => c.AppId == a.Id && c.Status == CompletionStatus.Rejected),
                db.Set<AppCompletion>().Where(c => c.AppId == a.Id && c.Status == CompletionStatus.Approved).Sum(c => (long?)c.Points) ?? 0))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new Envelope<IReadOnlyList<AppStatsResponse>>(stats));
    }

}
