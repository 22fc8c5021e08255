using System.Diagnostics.Metrics;

namespace Aap.Api.Features.Rewards;

/// <summary>The meter <c>aap.rewards</c>: completions by outcome, reviews, points credited and transferred.</summary>
internal sealed class RewardsMetrics
{
    public const string MeterName = "aap.rewards";

    private readonly Counter<long> _completions;
    private readonly Counter<long> _reviews;
    private readonly Counter<long> _credited;
    private readonly Counter<long> _transferred;

    public RewardsMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _completions = meter.CreateCounter<long>("aap.rewards.completions", "{completion}",
            "Completions sent, by outcome: approved (credited at once), pending (waits for a review), or the refusal's problem code.");
        _reviews = meter.CreateCounter<long>("aap.rewards.reviews", "{review}", "Pending completions decided by an admin, by decision (approved, rejected).");
        _credited = meter.CreateCounter<long>("aap.rewards.points_credited", "{point}", "Points credited to balances, by ledger reason.");
        _transferred = meter.CreateCounter<long>("aap.rewards.points_transferred", "{point}", "Points moved between users by transfers.");
    }

    public void Completion(string outcome) => _completions.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Reviewed(string decision) => _reviews.Add(1, new KeyValuePair<string, object?>("decision", decision));

    public void Credited(string reason, long points) => _credited.Add(points, new KeyValuePair<string, object?>("reason", reason));

    public void Transferred(long points) => _transferred.Add(points);
}
