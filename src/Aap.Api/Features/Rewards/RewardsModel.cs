using Aap.Api.Platform;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Settings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

[assembly: EntityConfiguration(typeof(Aap.Api.Features.Rewards.RewardsConfiguration))]

namespace Aap.Api.Features.Rewards;

/// <summary>Where a completion stands in review; part of <see cref="CompletionResponse"/>.</summary>
[FeatureSurface]
public enum CompletionStatus
{
    Pending,
    Approved,
    Rejected,
}

/// <summary>A user's claim to have completed an app's task, with a screenshot as proof (the seeds' "user task").</summary>
internal sealed class AppCompletion : ITimestamped
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public long AppId { get; set; }

    public long ScreenshotFileId { get; set; }

    /// <summary>Copied from the screenshot, so that reused proof is found with one indexed lookup.</summary>
    public required string ScreenshotSha256 { get; set; }

    public CompletionStatus Status { get; set; }

    /// <summary>The same image was already used by another user: accepted, but worth a look.</summary>
    public bool Flagged { get; set; }

    /// <summary>The app's points when the completion was made; what approval credits.</summary>
    public int Points { get; set; }

    public string? ReviewReason { get; set; }

    public long? ReviewedBy { get; set; }

    public DateTime? ReviewedAt { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}

/// <summary>One change of a balance. Append-only: a balance is the sum of its user's entries.</summary>
internal sealed class PointEntry
{
    public long Id { get; set; }

    public long UserId { get; set; }

    public long Amount { get; set; }

    /// <summary><c>completion</c>, <c>reversal</c>, <c>transfer_out</c> or <c>transfer_in</c>.</summary>
    public required string Reason { get; set; }

    public long? CompletionId { get; set; }

    public long? TransferId { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// How many completions of an app are in a status and the points they carry: kept by database triggers on every
/// change of <c>app_completions</c> (migration 0014), never written by AAP; the dashboard reads it instead of every
/// completion. A row may hold zero completions once its last one changed status or was deleted.
/// </summary>
internal sealed class CompletionTotal
{
    public long AppId { get; set; }

    public CompletionStatus Status { get; set; }

    public long Completions { get; set; }

    public long Points { get; set; }
}

/// <summary>
/// The number of completions created on one UTC day for one app, kept by database triggers on every change of
/// <c>app_completions</c> (migration 0018), never written by AAP; the dashboard's completions-per-day chart reads it
/// instead of counting the completions of each day. A row may hold zero once its completions were deleted.
/// </summary>
internal sealed class CompletionDay
{
    public DateOnly Day { get; set; }

    public long AppId { get; set; }

    public long Completions { get; set; }
}

/// <summary>
/// The points a user earned from completions, reversals deducted: what the all-time leaderboard ranks. Kept by
/// database triggers on every change of <c>point_ledger</c> (migration 0020), never written by AAP; transfers do not
/// count. A row may hold zero (or less, after SQL by hand) and is then off the board.
/// </summary>
internal sealed class PointEarning
{
    public long UserId { get; set; }

    public long Points { get; set; }
}

/// <summary>
/// One of 16 parts of two totals the database keeps with the ledger (migration 0020), never written by AAP, summed
/// on read: <see cref="Points"/>, of the sum of all balances (the dashboard's "points issued"; an entry of the ledger
/// changes the part of its user's id modulo 16), and <see cref="Ranked"/>, of the number of users on the leaderboard
/// (earnings above zero). Only the sums mean something. Parts, not one row, so that credits of different users do not
/// all wait for one row on PostgreSQL.
/// </summary>
internal sealed class PointTotals
{
    public short Slot { get; set; }

    public long Points { get; set; }

    public long Ranked { get; set; }
}

/// <summary>The cached sum of a user's ledger, changed only in the transaction that appends the entry.</summary>
internal sealed class PointBalance
{
    public long UserId { get; set; }

    public long Balance { get; set; }
}

/// <summary>Points sent from one user to another; the sender's idempotency key is kept for reference.</summary>
internal sealed class PointTransfer
{
    public long Id { get; set; }

    public long FromUserId { get; set; }

    public long ToUserId { get; set; }

    public long Amount { get; set; }

    public required string IdempotencyKey { get; set; }

    public DateTime CreatedAt { get; set; }
}

internal static class LedgerReasons
{
    public const string Completion = "completion";
    public const string Reversal = "reversal";
    public const string TransferOut = "transfer_out";
    public const string TransferIn = "transfer_in";
}

internal static class RewardsSettings
{
    public static readonly RuntimeSettingDefinition RequireReview =
        new("rewards.require_review", 0, 0, 1, "1: completions wait for an admin's approval before points are credited; 0: credited at once.");
}

internal sealed class RewardsConfiguration :
    IEntityTypeConfiguration<AppCompletion>, IEntityTypeConfiguration<CompletionTotal>, IEntityTypeConfiguration<CompletionDay>, IEntityTypeConfiguration<PointEntry>,
    IEntityTypeConfiguration<PointEarning>, IEntityTypeConfiguration<PointTotals>, IEntityTypeConfiguration<PointBalance>, IEntityTypeConfiguration<PointTransfer>
{
    public void Configure(EntityTypeBuilder<AppCompletion> completion)
    {
        completion.ToTable("app_completions");
        completion.Property(c => c.ScreenshotSha256).HasMaxLength(64);
        completion.Property(c => c.Status).HasConversion<string>().HasMaxLength(20);
        completion.Property(c => c.ReviewReason).HasMaxLength(500);
        // One completion per user and app, enforced by the database even under races.
        completion.HasIndex(c => new { c.UserId, c.AppId }).IsUnique();
        completion.HasIndex(c => new { c.Status, c.CreatedAt });
        // Per-app statistics read counts and points from this index alone (docs/database.md).
        completion.HasIndex(c => new { c.AppId, c.Status }).IncludeProperties(c => new { c.Points });
        completion.HasIndex(c => c.ScreenshotSha256);
        // The dashboard's completions per day, counted one day at a time (0014), and the admins' list by cursor (0021).
        completion.HasIndex(c => new { c.CreatedAt, c.Id });
    }

    public void Configure(EntityTypeBuilder<CompletionTotal> total)
    {
        total.ToTable("completion_totals");
        total.HasKey(t => new { t.AppId, t.Status });
        total.Property(t => t.Status).HasConversion<string>().HasMaxLength(20);
    }

    public void Configure(EntityTypeBuilder<CompletionDay> day)
    {
        day.ToTable("completion_days");
        day.HasKey(d => new { d.Day, d.AppId });
    }

    public void Configure(EntityTypeBuilder<PointEntry> entry)
    {
        entry.ToTable("point_ledger");
        entry.Property(e => e.Reason).HasMaxLength(20);
        // A user's ledger is read newest first by id.
        entry.HasIndex(e => new { e.UserId, e.Id });
        entry.HasIndex(e => new { e.Reason, e.CreatedAt });
        // A completion is credited once and reversed once, whatever retries and races do.
        entry.HasIndex(e => new { e.CompletionId, e.Reason }).IsUnique().HasFilter("completion_id IS NOT NULL");
        entry.HasIndex(e => e.TransferId);
    }

    public void Configure(EntityTypeBuilder<PointEarning> earning)
    {
        earning.ToTable("point_earnings");
        earning.HasKey(e => e.UserId);
        earning.Property(e => e.UserId).ValueGeneratedNever();
        // The leaderboard's order, so that a page is a range of the index (0020).
        earning.HasIndex(e => new { e.Points, e.UserId }).IsDescending(true, false).HasFilter("points > 0");
    }

    public void Configure(EntityTypeBuilder<PointTotals> slot)
    {
        slot.ToTable("point_totals");
        slot.HasKey(s => s.Slot);
        slot.Property(s => s.Slot).ValueGeneratedNever();
    }

    public void Configure(EntityTypeBuilder<PointBalance> balance)
    {
        balance.ToTable("point_balances");
        balance.HasKey(b => b.UserId);
        balance.Property(b => b.UserId).ValueGeneratedNever();
        balance.ToTable(t => t.HasCheckConstraint("ck_point_balances_not_negative", "balance >= 0"));
    }

    public void Configure(EntityTypeBuilder<PointTransfer> transfer)
    {
        transfer.ToTable("point_transfers");
        transfer.Property(t => t.IdempotencyKey).HasMaxLength(100);
        // Not unique: the key is the client's, kept for a day in idempotency_records (docs/api/rewards.md); after that
        // the same key may start a new transfer, as with Stripe.
        transfer.HasIndex(t => new { t.FromUserId, t.IdempotencyKey });
        transfer.HasIndex(t => new { t.FromUserId, t.CreatedAt, t.Id });
        transfer.HasIndex(t => new { t.ToUserId, t.CreatedAt, t.Id });
    }
}
