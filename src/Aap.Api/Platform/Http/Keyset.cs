using System.Buffers.Binary;
using System.Globalization;
using System.Linq.Expressions;
using System.Security.Cryptography;
using System.Text;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Platform.Http;

/// <summary>
/// Where a keyset page ends: the sort key values of its last row (<see cref="At"/> is null in a list ordered by id
/// alone; <see cref="Id"/> is its id, whole number or text, as text).
/// </summary>
internal readonly record struct KeysetPosition(DateTime? At, string Id)
{
    public KeysetPosition(DateTime? at, long id)
        : this(at, id.ToString(CultureInfo.InvariantCulture))
    {
    }
}

/// <summary>
/// A request to read one page by keyset: how many rows, and after which row (none on the first page). Made by
/// <see cref="Keyset.TryRead"/> from the request's <c>cursor</c>; it also writes the cursor of the next page.
/// </summary>
internal sealed class KeysetRequest
{
    private readonly IDataProtector _protector;
    private readonly byte[] _scope;

    internal KeysetRequest(int size, KeysetPosition? after, IDataProtector protector, byte[] scope)
    {
        Size = size;
        After = after;
        _protector = protector;
        _scope = scope;
    }

    public int Size { get; }

    public KeysetPosition? After { get; }

    /// <summary>The opaque cursor that continues after <paramref name="last"/>, bound to this list and its filters.</summary>
    public string CursorAfter(KeysetPosition last)
    {
        var id = Encoding.UTF8.GetBytes(last.Id);
        var payload = new byte[Keyset.HeaderLength + id.Length];
        payload[0] = Keyset.Version;
        _scope.CopyTo(payload, 1);
        payload[1 + Keyset.ScopeLength] = last.At is null ? (byte)0 : (byte)1;
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(2 + Keyset.ScopeLength), last.At?.Ticks ?? 0);
        id.CopyTo(payload, Keyset.HeaderLength);
        return SealedCursor.Seal(_protector, payload);
    }
}

/// <summary>
/// Keyset (cursor) paging, beside the page numbers of <see cref="Paging"/>: a list is read by keyset when the request
/// carries <c>cursor</c> (empty for the first page). A page then holds no total (the COUNT is what makes deep pages
/// slow): <c>{"data": [...], "meta": {"size", "next_cursor"}}</c> and a <c>Link: rel="next"</c> header. The cursor is
/// the sort key of the last row returned and a hash of the route, the caller and every other query parameter
/// (filters and sort), sealed with Data Protection: it is opaque, a changed or foreign one is refused, and one replayed
/// with other filters is a 400 rather than the wrong rows.
/// </summary>
internal static class Keyset
{
    public const string Parameter = "cursor";

    public const byte Version = 1;

    public const int ScopeLength = 16;

    /// <summary>Version, scope, whether the position has a time, its ticks; the id (UTF-8) follows.</summary>
    public const int HeaderLength = 1 + ScopeLength + 1 + 8;

    /// <summary>The longest id a cursor carries (a job run's id is text; the others are whole numbers).</summary>
    public const int MaxIdLength = 100;

    /// <summary>Longer than any cursor this server writes; a longer value is refused before it is decoded.</summary>
    public const int MaxCursorLength = 512;

    public const string Description =
        "Keyset paging: send cursor= (empty) for the first page, then the meta.next_cursor of each page (also in the Link header, rel=\"next\") " +
        "until it is null. Pages carry no total. The cursor is bound to the route and to the other query parameters (filters, sort): " +
        "change them and start again. Not with page.";

    private const string Purpose = "Aap.Platform.Http.Keyset.v1";

    private const string NotOurs =
        "This cursor is not one this list gave out, or the filters or sort changed since: start again with an empty cursor (cursor=).";

    /// <summary>The query parameters that do not change which rows a list holds, so they are left out of a cursor's scope.</summary>
    private static readonly HashSet<string> Unscoped = new(StringComparer.OrdinalIgnoreCase) { Parameter, "page", "size", "per_page" };

    /// <summary>
    /// Whether the request reads a keyset page: null (and <paramref name="keyset"/> null) in page-number mode; the
    /// failure naming <c>cursor</c> when it is malformed, foreign, tampered with, replayed with other filters, or sent
    /// with <c>page</c>.
    /// </summary>
    public static Failure? TryRead(HttpContext context, PageQuery paging, out KeysetRequest? keyset)
    {
        keyset = null;
        if (!context.Request.Query.TryGetValue(Parameter, out var values))
        {
            return null;
        }

        if (values.Count != 1)
        {
            return Failure.Invalid(Parameter, "Send one cursor.");
        }

        if (paging.Page is not null)
        {
            return Failure.Invalid(Parameter, "Use cursor or page, not both.");
        }

        var protector = context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);
        var scope = Scope(context);
        var cursor = values[0];
        if (string.IsNullOrEmpty(cursor))
        {
            keyset = new KeysetRequest(paging.PageSize, null, protector, scope);
            return null;
        }

        if (Decode(cursor, protector, scope) is not { } after)
        {
            return Failure.Invalid(Parameter, NotOurs);
        }

        keyset = new KeysetRequest(paging.PageSize, after, protector, scope);
        return null;
    }

    /// <summary>The failure of a list that pages by keyset in its default order only, asked for another.</summary>
    public static Failure SortNotSupported(string supported) =>
        Failure.Invalid("sort", $"Cursor paging supports sort={supported} (the default) only; use page numbers for other orders.");

    /// <summary>
    /// One page of <paramref name="query"/> (filtered, not yet ordered), newest first: by <paramref name="at"/>
    /// descending, then <paramref name="id"/> descending, after the position the request's cursor names. The
    /// position is a range on the same keys (<c>at &lt;= A AND (at &lt; A OR id &lt; I)</c>), so an index on
    /// (filters..., at, id) finds the page's first row without reading the rows before it.
    /// </summary>
    public static Task<KeysetEnvelope<TRow>> ToKeysetPageAsync<TEntity, TRow>(
        this IQueryable<TEntity> query, KeysetRequest keyset,
        Expression<Func<TEntity, DateTime>> at, Expression<Func<TEntity, long>> id,
        Expression<Func<TEntity, TRow>> projection, Func<TRow, KeysetPosition> positionOf, CancellationToken cancellationToken) =>
        keyset.After switch
        {
            null => ReadAsync(query.OrderByDescending(at).ThenByDescending(id), keyset, projection, positionOf, cancellationToken),
            { At: { } afterAt } when long.TryParse(keyset.After.Value.Id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var afterId) =>
                ReadAsync(query.Where(Before(at, id, afterAt, afterId, Expression.LessThan)).OrderByDescending(at).ThenByDescending(id), keyset, projection, positionOf, cancellationToken),
            _ => Task.FromResult(Empty<TRow>(keyset)),
        };

    /// <summary>The same, for a list whose id is text or a GUID (compared as the database orders it).</summary>
    public static Task<KeysetEnvelope<TRow>> ToKeysetPageAsync<TEntity, TRow, TId>(
        this IQueryable<TEntity> query, KeysetRequest keyset,
        Expression<Func<TEntity, DateTime>> at, Expression<Func<TEntity, TId>> id,
        Expression<Func<TEntity, TRow>> projection, Func<TRow, KeysetPosition> positionOf, CancellationToken cancellationToken)
        where TId : IComparable<TId>, IParsable<TId> =>
        keyset.After switch
        {
            null => ReadAsync(query.OrderByDescending(at).ThenByDescending(id), keyset, projection, positionOf, cancellationToken),
            { At: { } afterAt } when TId.TryParse(keyset.After.Value.Id, CultureInfo.InvariantCulture, out var afterId) => ReadAsync(
                query.Where(Before(at, id, afterAt, afterId, CompareLessThan<TId>)).OrderByDescending(at).ThenByDescending(id), keyset, projection, positionOf, cancellationToken),
            _ => Task.FromResult(Empty<TRow>(keyset)),
        };

    /// <summary>One page of <paramref name="query"/> (filtered, not yet ordered), by <paramref name="id"/> descending, after the cursor's position.</summary>
    public static Task<KeysetEnvelope<TRow>> ToKeysetPageAsync<TEntity, TRow>(
        this IQueryable<TEntity> query, KeysetRequest keyset, Expression<Func<TEntity, long>> id,
        Expression<Func<TEntity, TRow>> projection, Func<TRow, long> idOf, CancellationToken cancellationToken) =>
        keyset.After switch
        {
            null => ReadAsync(query.OrderByDescending(id), keyset, projection, row => new KeysetPosition(null, idOf(row)), cancellationToken),
            { At: null } when long.TryParse(keyset.After.Value.Id, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var afterId) =>
                ReadAsync(query.Where(Below(id, afterId)).OrderByDescending(id), keyset, projection, row => new KeysetPosition(null, idOf(row)), cancellationToken),
            _ => Task.FromResult(Empty<TRow>(keyset)),
        };

    /// <summary>
    /// One page of <paramref name="query"/> (filtered, not yet ordered) by its text key <paramref name="key"/> ascending,
    /// after the cursor's position (<c>key &gt; K</c>, compared as the database orders the column): a range on the key's
    /// index, however deep the page.
    /// </summary>
    public static Task<KeysetEnvelope<TRow>> ToAscendingKeysetPageAsync<TEntity, TRow>(
        this IQueryable<TEntity> query, KeysetRequest keyset, Expression<Func<TEntity, string>> key,
        Expression<Func<TEntity, TRow>> projection, Func<TRow, string> keyOf, CancellationToken cancellationToken) =>
        keyset.After switch
        {
            null => ReadAsync(query.OrderBy(key), keyset, projection, row => new KeysetPosition(null, keyOf(row)), cancellationToken),
            { At: null } after => ReadAsync(
                query.Where(Above(key, after.Id)).OrderBy(key), keyset, projection, row => new KeysetPosition(null, keyOf(row)), cancellationToken),
            _ => Task.FromResult(Empty<TRow>(keyset)),
        };

    /// <summary>The keyset page as a 200, with its <c>Link</c> header.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.Ok<KeysetEnvelope<TRow>> Ok<TRow>(HttpContext context, KeysetEnvelope<TRow> page)
    {
        WriteLink(context, page.Meta);
        return TypedResults.Ok(page);
    }

    /// <summary>Writes the RFC 8288 <c>Link</c> header of a keyset page: rel="next" while there is one.</summary>
    public static void WriteLink(HttpContext context, KeysetMeta meta)
    {
        if (meta.NextCursor is null)
        {
            return;
        }

        var request = context.Request;
        var query = request.Query
            .Where(q => q.Key is not (Parameter or "size" or "per_page" or "page"))
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
            .Append(new(Parameter, meta.NextCursor))
            .Append(new("size", meta.Size.ToString(CultureInfo.InvariantCulture)));
        context.Response.Headers.Link = $"<{request.PathBase}{request.Path}{QueryString.Create(query)}>; rel=\"next\"";
    }

    /// <summary>
    /// What a cursor is bound to: the route, the caller and every query parameter that selects or orders rows, so a
    /// cursor never continues a list other than the one that gave it out.
    /// </summary>
    private static byte[] Scope(HttpContext context)
    {
        var text = new StringBuilder()
            .Append(context.Request.PathBase.Value).Append(context.Request.Path.Value).Append('\n')
            .Append(context.User.UserId()?.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (key, values) in context.Request.Query.Where(q => !Unscoped.Contains(q.Key)).OrderBy(q => q.Key.ToLowerInvariant(), StringComparer.Ordinal))
        {
            foreach (var value in values)
            {
                text.Append(key.ToLowerInvariant()).Append('=').Append(value).Append('\n');
            }
        }

        return SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))[..ScopeLength];
    }

    private static KeysetPosition? Decode(string cursor, IDataProtector protector, byte[] scope)
    {
        if (SealedCursor.Open(protector, cursor, MaxCursorLength) is not { } payload)
        {
            return null;
        }

        if (payload.Length <= HeaderLength || payload.Length > HeaderLength + MaxIdLength || payload[0] != Version ||
            !payload.AsSpan(1, ScopeLength).SequenceEqual(scope) || payload[1 + ScopeLength] > 1)
        {
            return null;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(2 + ScopeLength));
        if (ticks is < 0 || ticks > DateTime.MaxValue.Ticks)
        {
            return null;
        }

        DateTime? at = payload[1 + ScopeLength] == 1 ? new DateTime(ticks, DateTimeKind.Utc) : null;
        return new KeysetPosition(at, Encoding.UTF8.GetString(payload.AsSpan(HeaderLength)));
    }

    private static async Task<KeysetEnvelope<TRow>> ReadAsync<TEntity, TRow>(
        IOrderedQueryable<TEntity> ordered, KeysetRequest keyset, Expression<Func<TEntity, TRow>> projection, Func<TRow, KeysetPosition> positionOf,
        CancellationToken cancellationToken)
    {
        // One row more than the page tells whether there is a next page, without counting.
        var rows = await ordered.Select(projection).Take(keyset.Size + 1).ToListAsync(cancellationToken);
        var more = rows.Count > keyset.Size;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return new KeysetEnvelope<TRow>(rows, new KeysetMeta(keyset.Size, more ? keyset.CursorAfter(positionOf(rows[^1])) : null));
    }

    /// <summary>The answer to a cursor of another order than the list's: it cannot come from this list (its scope would not match), so nothing follows it.</summary>
    private static KeysetEnvelope<TRow> Empty<TRow>(KeysetRequest keyset) => new([], new KeysetMeta(keyset.Size, null));

    /// <summary><c>at &lt;= A AND (at &lt; A OR id &lt; I)</c>, with A and I as parameters.</summary>
    private static Expression<Func<T, bool>> Before<T, TId>(
        Expression<Func<T, DateTime>> at, Expression<Func<T, TId>> id, DateTime afterAt, TId afterId, Func<Expression, Expression, BinaryExpression> lessThan)
    {
        var row = at.Parameters[0];
        var atOf = at.Body;
        var idOf = new Rebind(id.Parameters[0], row).Visit(id.Body);
        var bound = Expression.Constant(new Bound<TId>(afterAt, afterId));
        var a = Expression.Property(bound, nameof(Bound<TId>.At));
        var i = Expression.Property(bound, nameof(Bound<TId>.Id));
        var body = Expression.AndAlso(
            Expression.LessThanOrEqual(atOf, a),
            Expression.OrElse(Expression.LessThan(atOf, a), lessThan(idOf, i)));
        return Expression.Lambda<Func<T, bool>>(body, row);
    }

    private static Expression<Func<T, bool>> Below<T>(Expression<Func<T, long>> id, long afterId)
    {
        var bound = Expression.Constant(new Bound<long>(default, afterId));
        return Expression.Lambda<Func<T, bool>>(Expression.LessThan(id.Body, Expression.Property(bound, nameof(Bound<long>.Id))), id.Parameters[0]);
    }

    /// <summary><c>key &gt; K</c> on a text key, with K as a parameter.</summary>
    private static Expression<Func<T, bool>> Above<T>(Expression<Func<T, string>> key, string afterKey)
    {
        var bound = Expression.Constant(new Bound<string>(default, afterKey));
        return Expression.Lambda<Func<T, bool>>(
            Expression.GreaterThan(ComparedTo<string>(key.Body, Expression.Property(bound, nameof(Bound<string>.Id))), Expression.Constant(0)), key.Parameters[0]);
    }

    /// <summary><c>x.CompareTo(y) &lt; 0</c>, which EF translates to <c>x &lt; y</c> in the column's own order (text, uuid).</summary>
    private static BinaryExpression CompareLessThan<TId>(Expression x, Expression y)
        where TId : IComparable<TId> =>
        Expression.LessThan(ComparedTo<TId>(x, y), Expression.Constant(0));

    /// <summary><c>x.CompareTo(y)</c>: compared with zero, EF translates it to the column's own comparison.</summary>
    private static MethodCallExpression ComparedTo<TId>(Expression x, Expression y)
        where TId : IComparable<TId> =>
        Expression.Call(x, typeof(TId).GetMethod(nameof(IComparable<TId>.CompareTo), [typeof(TId)])!, y);

    /// <summary>The position as members of an object, so that EF sends them as parameters (one cached plan), not constants.</summary>
    private sealed class Bound<TId>(DateTime at, TId id)
    {
        public DateTime At { get; } = at;

        public TId Id { get; } = id;
    }

    private sealed class Rebind(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
