namespace Aap.Api.Platform.Persistence;

/// <summary>
/// Counts per UTC day, one range count per day: <c>count(*) WHERE t &gt;= day AND t &lt; day + 1</c> reads the
/// range of an index on the timestamp and nothing else, where grouping by the timestamp's date computes the date of
/// every row in the period first (on SQLite a string function per row: about 1.5 s for half a million rows).
/// </summary>
internal static class DailyCounts
{
    /// <summary>
    /// The count of each day from <paramref name="since"/>'s date to <paramref name="until"/>'s, both included; days
    /// without any are left out. <paramref name="countBetween"/> counts the rows from a start, included, to an end, excluded.
    /// </summary>
    public static async Task<IReadOnlyDictionary<DateOnly, int>> CountAsync(
        DateTime since, DateTime until, Func<DateTime, DateTime, CancellationToken, Task<int>> countBetween, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<DateOnly, int>();
        for (var day = DateOnly.FromDateTime(since); day <= DateOnly.FromDateTime(until); day = day.AddDays(1))
        {
            var start = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            var count = await countBetween(start, start.AddDays(1), cancellationToken);
            if (count > 0)
            {
                counts[day] = count;
            }
        }

        return counts;
    }
}
