using System.Text.Json.Serialization;
using Aap.Api.Platform;

namespace Aap.Api.Features.Rewards;

internal static class RewardsCodes
{
    public const string AlreadyCompleted = "already_completed";
    public const string DuplicateProof = "duplicate_proof";
    public const string InsufficientPoints = "insufficient_points";
    public const string AlreadyReviewed = "already_reviewed";
}

public sealed record TransferRequest(string? To, long? Amount);

public sealed record RejectRequest(string? Reason);

/// <summary>
/// A completion as its owner and admins see it; <c>screenshot</c> is the proof's download path. The product API adds
/// <c>username</c>, <c>app_name</c> and <c>duplicate_of</c> (<see cref="RewardsService.DescribeAsync"/>); the seed
/// dialects leave them out, so their bodies keep the shape their documents give.
/// </summary>
[FeatureSurface]
internal sealed record CompletionResponse(
    long Id,
    long UserId,
    long AppId,
    CompletionStatus Status,
    bool Flagged,
    int Points,
    string Screenshot,
    string? ReviewReason,
    DateTime? ReviewedAt,
    DateTime CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Username = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AppName = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<long>? DuplicateOf = null)
{
    public static readonly System.Linq.Expressions.Expression<Func<AppCompletion, CompletionResponse>> Projection = c =>
        new CompletionResponse(c.Id, c.UserId, c.AppId, c.Status, c.Flagged, c.Points, "/api/v1/files/" + c.ScreenshotFileId, c.ReviewReason, c.ReviewedAt, c.CreatedAt, null, null, null);

    private static readonly Func<AppCompletion, CompletionResponse> FromEntity = Projection.Compile();

    public static CompletionResponse From(AppCompletion completion) => FromEntity(completion);
}

internal sealed record BalanceResponse(long Balance);

[FeatureSurface]
internal sealed record LedgerEntryResponse(long Id, long Amount, string Reason, long? CompletionId, long? TransferId, DateTime CreatedAt)
{
    public static readonly System.Linq.Expressions.Expression<Func<PointEntry, LedgerEntryResponse>> Projection = e =>
        new LedgerEntryResponse(e.Id, e.Amount, e.Reason, e.CompletionId, e.TransferId, e.CreatedAt);
}

[FeatureSurface]
internal sealed record TransferResponse(long Id, long From, long To, long Amount, DateTime CreatedAt)
{
    public static TransferResponse Of(PointTransfer t) => new(t.Id, t.FromUserId, t.ToUserId, t.Amount, t.CreatedAt);
}

/// <summary>A transfer the caller sent or received, with both users' display names (<c>direction</c>: sent or received).</summary>
internal sealed record TransferListItem(long Id, string Direction, long From, string? FromName, long To, string? ToName, long Amount, DateTime CreatedAt);

[FeatureSurface]
internal sealed record LeaderboardEntry(int Rank, long UserId, string Username, long Points);

/// <summary>
/// Where a page of the all-time leaderboard starts, as a row of the board's order (points descending, then the older
/// account) rather than a count of the rows before it: the page is the rows just after that row, or with
/// <see cref="Before"/> the rows just before it. Read from the board's index at that row, so a deep page costs what the
/// first one does; its ranks still follow the page's number.
/// </summary>
[FeatureSurface]
internal sealed record LeaderboardSeek(long Points, long UserId, bool Before);

internal sealed record AppStatsResponse(long AppId, string Name, int Pending, int Approved, int Rejected, long PointsAwarded);
