using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Persistence;

/// <summary>
/// Counts per UTC day in one query: one range count per day (<c>count(*) WHERE t &gt;= day AND t &lt; day + 1</c>),
/// joined with <c>UNION ALL</c>. Each reads one range of an index on the timestamp and nothing else, where grouping
/// by the timestamp's date computes the date of every row in the period first (on SQLite a string function per row:
/// about 1.5 s for half a million rows); one query rather than one per day, since each round trip costs more than
/// its count under load.
/// </summary>
internal static class DailyCounts
{
    /// <summary>
    /// The count of each day from <paramref name="since"/>'s date to <paramref name="until"/>'s, both included, of
    /// the rows of <paramref name="source"/> by <paramref name="timestamp"/>; days without any are left out.
    /// </summary>
    public static async Task<IReadOnlyDictionary<DateOnly, int>> CountAsync<T>(
        IQueryable<T> source, Expression<Func<T, DateTime>> timestamp, DateTime since, DateTime until, CancellationToken cancellationToken)
    {
        var first = DateOnly.FromDateTime(since);
        var days = DateOnly.FromDateTime(until).DayNumber - first.DayNumber + 1;
        IQueryable<DayCount>? query = null;
        for (var index = 0; index < days; index++)
        {
            // Read through a closure, so that EF Core sends the bounds as parameters and compiles the query once.
            var day = new DayRange(index, first.AddDays(index).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
            var bounds = Expression.Constant(day);
            var inDay = Expression.Lambda<Func<T, bool>>(
                Expression.AndAlso(
                    Expression.GreaterThanOrEqual(timestamp.Body, Expression.Property(bounds, nameof(DayRange.Start))),
                    Expression.LessThan(timestamp.Body, Expression.Property(bounds, nameof(DayRange.End)))),
                timestamp.Parameters);
            var count = source.Where(inDay).GroupBy(_ => 1).Select(g => new DayCount { Index = day.Index, Count = g.Count() });
            query = query is null ? count : query.Concat(count);
        }

        if (query is null)
        {
            return new Dictionary<DateOnly, int>();
        }

        var rows = await query.ToListAsync(cancellationToken);
        return rows.Where(r => r.Count > 0).ToDictionary(r => first.AddDays(r.Index), r => r.Count);
    }

    private sealed class DayRange(int index, DateTime start)
    {
        public int Index { get; } = index;

        public DateTime Start { get; } = start;

        public DateTime End { get; } = start.AddDays(1);
    }

    private sealed class DayCount
    {
        public int Index { get; init; }

        public int Count { get; init; }
    }
}
