using System.Linq.Expressions;

namespace Aap.Api.Platform.Http;

/// <summary>One key of a listing's order: the member to sort by, and its direction.</summary>
internal sealed record SortKey<T>(Expression<Func<T, object?>> By, bool Descending);

/// <summary>
/// The <c>sort</c> query of a listing, in one syntax for every list: <c>sort=field</c> ascending, <c>sort=-field</c>
/// descending, several keys separated by commas (<c>sort=-priority,due_date</c>), each one of a dictionary of
/// allowed fields. Anything else is a 400 naming <c>sort</c> with the fields it may use.
/// </summary>
internal static class SortQuery
{
    /// <summary>The keys of <paramref name="sort"/> (or of <paramref name="defaultSort"/> when it is empty), or the failure that names the allowed fields.</summary>
    public static Result<IReadOnlyList<SortKey<T>>> Parse<T>(
        string? sort, string defaultSort, IReadOnlyDictionary<string, Expression<Func<T, object?>>> fields)
    {
        var keys = new List<SortKey<T>>();
        foreach (var part in (string.IsNullOrWhiteSpace(sort) ? defaultSort : sort).Split(',', StringSplitOptions.TrimEntries))
        {
            var descending = part.StartsWith('-');
            if (!fields.TryGetValue(descending ? part[1..] : part, out var by))
            {
                return Failure.Invalid("sort", $"Sort by one of {string.Join(", ", fields.Keys)}, with '-' for descending.");
            }

            keys.Add(new SortKey<T>(by, descending));
        }

        return keys;
    }

    /// <summary>
    /// The query in the order of <paramref name="keys"/>, ending with <paramref name="tieBreak"/> in the direction of the
    /// last key, so that pages never overlap or skip rows that sort equal.
    /// </summary>
    public static IOrderedQueryable<T> OrderBy<T, TTie>(this IQueryable<T> query, IReadOnlyList<SortKey<T>> keys, Expression<Func<T, TTie>> tieBreak)
    {
        IOrderedQueryable<T>? ordered = null;
        foreach (var key in keys)
        {
            ordered = ordered is null
                ? key.Descending ? query.OrderByDescending(key.By) : query.OrderBy(key.By)
                : key.Descending ? ordered.ThenByDescending(key.By) : ordered.ThenBy(key.By);
        }

        return ordered is null
            ? query.OrderBy(tieBreak)
            : keys[^1].Descending ? ordered.ThenByDescending(tieBreak) : ordered.ThenBy(tieBreak);
    }
}
