using System.Globalization;
using System.Text;

namespace Aap.Api.Features.Imports;

/// <summary>
/// Turns header text into safe identifiers: lower-case snake_case of ASCII letters, digits and underscores, never
/// empty, never starting with a digit or an underscore, never a reserved word or a system column, at most 50
/// characters, unique in the file. The SQL still quotes them (<see cref="ImportSql"/>): the normalisation is what
/// makes a name predictable for users, the quoting is what keeps SQL safe.
/// </summary>
internal static class Identifiers
{
    public const int MaxLength = 50;

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "between", "both", "by", "case", "cast", "check", "collate",
        "column", "constraint", "create", "cross", "current_date", "current_time", "current_timestamp", "current_user", "default",
        "deferrable", "delete", "desc", "distinct", "do", "drop", "else", "end", "except", "exists", "false", "fetch", "for", "foreign",
        "from", "full", "grant", "group", "having", "in", "index", "initially", "inner", "insert", "intersect", "into", "is", "join",
        "key", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural", "not", "null", "offset", "on",
        "only", "or", "order", "outer", "placing", "primary", "references", "returning", "right", "rowid", "select", "session_user",
        "set", "some", "symmetric", "table", "then", "to", "trailing", "true", "union", "unique", "update", "user", "using", "values",
        "variadic", "when", "where", "window", "with", "oid", "ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "oid", "_rowid_",
    };

    /// <summary>The snake_case form of <paramref name="text"/>, or <paramref name="fallback"/> when nothing of it is left.</summary>
    public static string Normalize(string text, string fallback)
    {
        var builder = new StringBuilder(text.Length);
        var previous = '_';
        var decomposed = text.Trim().Normalize(NormalizationForm.FormD);
        for (var i = 0; i < decomposed.Length; i++)
        {
            var c = decomposed[i];
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue; // é -> e
            }

            // camelCase and PascalCase split at the case change: "FirstName" -> first_name.
            if (char.IsAsciiLetterUpper(c) && builder.Length > 0 && (char.IsAsciiLetterLower(previous) || char.IsAsciiDigit(previous)))
            {
                builder.Append('_');
            }

            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
                previous = c;
            }
            else if (builder.Length > 0 && builder[^1] != '_')
            {
                builder.Append('_');
                previous = '_';
            }
        }

        var name = builder.ToString().Trim('_');
        if (name.Length == 0)
        {
            // An empty fallback asks the caller to refuse the name (a table name with no letter or digit).
            if (fallback.Length == 0)
            {
                return "";
            }

            name = fallback;
        }

        if (char.IsAsciiDigit(name[0]))
        {
            name = "c_" + name;
        }

        if (name.Length > MaxLength)
        {
            name = name[..MaxLength].TrimEnd('_');
        }

        return Reserved.Contains(name) ? name + "_" : name;
    }

    /// <summary>The normalised names of a header row, made unique with <c>_2</c>, <c>_3</c>... suffixes.</summary>
    public static IReadOnlyList<string> Columns(IReadOnlyList<string> headers, IReadOnlyCollection<string> taken)
    {
        var used = new HashSet<string>(taken, StringComparer.Ordinal);
        var names = new List<string>(headers.Count);
        for (var i = 0; i < headers.Count; i++)
        {
            var name = Normalize(headers[i], $"column_{i + 1}");
            var unique = name;
            for (var n = 2; !used.Add(unique); n++)
            {
                unique = $"{name}_{n}";
            }

            names.Add(unique);
        }

        return names;
    }
}

/// <summary>A parsed field: null, or the value of its column's type.</summary>
internal struct ImportValue
{
    public bool IsNull;
    public long Long;
    public decimal Decimal;
    public bool Bool;
    public DateOnly Date;
    public DateTime Timestamp;

    /// <summary>A text value: the field's characters, kept by <see cref="Rules"/> for the current row only (a default's own string otherwise).</summary>
    public ReadOnlyMemory<char> Text;
}

/// <summary>
/// The cleaning rules of one field: culture-invariant numbers (a dot for decimals, no thousands separators, no
/// leading zeros in inferred numbers), booleans from true/false, yes/no, y/n, 1/0, t/f (any case), ISO dates
/// (<c>2024-03-01</c>) and timestamps (<c>2024-03-01T09:30:00</c>, a space instead of the T, seconds and fraction
/// optional, <c>Z</c> or an offset; none is read as UTC; a date alone is its midnight).
/// </summary>
internal static class ImportValues
{
    private const NumberStyles Integers = NumberStyles.AllowLeadingSign;
    private const NumberStyles Decimals = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd HH:mmK", "yyyy-MM-dd",
    ];

    public static bool TryParse(ReadOnlySpan<char> text, ImportColumnType type, ref ImportValue value)
    {
        value.IsNull = false;
        switch (type)
        {
            case ImportColumnType.Integer:
                return int.TryParse(text, Integers, CultureInfo.InvariantCulture, out var i) && Set(ref value.Long, i);
            case ImportColumnType.Bigint:
                return long.TryParse(text, Integers, CultureInfo.InvariantCulture, out value.Long);
            case ImportColumnType.Decimal:
                return decimal.TryParse(text, Decimals, CultureInfo.InvariantCulture, out value.Decimal);
            case ImportColumnType.Boolean:
                return TryBoolean(text, out value.Bool);
            case ImportColumnType.Date:
                return TryIsoDate(text, out value.Date) || DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out value.Date);
            case ImportColumnType.Timestamp:
                return TryTimestamp(text, out value.Timestamp);
            default:
                value.Text = text.ToString().AsMemory();
                return true;
        }
    }

    private static bool Set(ref long target, long value)
    {
        target = value;
        return true;
    }

    public static bool TryBoolean(ReadOnlySpan<char> text, out bool value)
    {
        if (IsAny(text, "true", "t", "yes", "y", "1"))
        {
            value = true;
            return true;
        }

        value = false;
        return IsAny(text, "false", "f", "no", "n", "0");
    }

    public static bool TryTimestamp(ReadOnlySpan<char> text, out DateTime value)
    {
        if (TryIsoTimestamp(text, out value))
        {
            return true;
        }

        if (DateTimeOffset.TryParseExact(text, TimestampFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = parsed.UtcDateTime;
            return true;
        }

        value = default;
        return false;
    }

    /// <summary>
    /// The common shapes read without the general parser (which cost more than the rest of a row): <c>yyyy-MM-dd</c>
    /// exactly. Anything else goes to <see cref="DateOnly.TryParseExact(ReadOnlySpan{char}, ReadOnlySpan{char}, IFormatProvider?, DateTimeStyles, out DateOnly)"/>, whose rules stay the reference.
    /// </summary>
    private static bool TryIsoDate(ReadOnlySpan<char> text, out DateOnly value)
    {
        value = default;
        if (text.Length != 10 || text[4] != '-' || text[7] != '-' || !Digits(text[..4], out var year) || !Digits(text.Slice(5, 2), out var month) ||
            !Digits(text.Slice(8, 2), out var day) || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        value = new DateOnly(year, month, day);
        return true;
    }

    /// <summary>
    /// <c>yyyy-MM-ddTHH:mm:ss</c> (or a space for the T), an optional fraction of 1 to 7 digits, then <c>Z</c> or
    /// nothing (both UTC), read without the general parser; any other shape (an offset, no seconds, a date alone)
    /// goes to it.
    /// </summary>
    private static bool TryIsoTimestamp(ReadOnlySpan<char> text, out DateTime value)
    {
        value = default;
        if (text.Length < 19 || !TryIsoDate(text[..10], out var date) || text[10] is not ('T' or ' ') || text[13] != ':' || text[16] != ':' ||
            !Digits(text.Slice(11, 2), out var hour) || !Digits(text.Slice(14, 2), out var minute) || !Digits(text.Slice(17, 2), out var second) ||
            hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var rest = text[19..];
        long fraction = 0;
        if (!rest.IsEmpty && rest[0] == '.')
        {
            var digits = 0;
            rest = rest[1..];
            while (!rest.IsEmpty && char.IsAsciiDigit(rest[0]))
            {
                if (++digits > 7)
                {
                    return false;
                }

                fraction = (fraction * 10) + (rest[0] - '0');
                rest = rest[1..];
            }

            if (digits == 0)
            {
                return false;
            }

            for (var i = digits; i < 7; i++)
            {
                fraction *= 10;
            }
        }

        if (!(rest.IsEmpty || (rest.Length == 1 && rest[0] == 'Z')))
        {
            return false;
        }

        value = new DateTime(date, new TimeOnly(hour, minute, second), DateTimeKind.Utc).AddTicks(fraction);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    /// <summary>A UTC timestamp as <c>yyyy-MM-dd HH:mm:ss.FFFFFFF</c> (the fraction without trailing zeros, and without its point when zero); returns the length.</summary>
    public static int FormatTimestamp(DateTime value, Span<char> destination)
    {
        value.TryFormat(destination, out var length, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var fraction = (int)(value.Ticks % TimeSpan.TicksPerSecond);
        if (fraction == 0)
        {
            return length;
        }

        destination[length++] = '.';
        for (var divisor = 1_000_000; divisor > 0 && fraction > 0; divisor /= 10)
        {
            destination[length++] = (char)('0' + (fraction / divisor));
            fraction %= divisor;
        }

        return length;
    }

    private static bool IsAny(ReadOnlySpan<char> text, string a, string b, string c, string d, string e) =>
        text.Equals(a, StringComparison.OrdinalIgnoreCase) || text.Equals(b, StringComparison.OrdinalIgnoreCase) ||
        text.Equals(c, StringComparison.OrdinalIgnoreCase) || text.Equals(d, StringComparison.OrdinalIgnoreCase) ||
        text.Equals(e, StringComparison.Ordinal);

    /// <summary>The reason code a value that does not parse is rejected with.</summary>
    public static string InvalidReason(ImportColumnType type) => "invalid_" + type.ToString().ToLowerInvariant();

    /// <summary>Text for the log and the rejects file: the value as the database would show it.</summary>
    public static string Describe(ImportColumnType type) => type.ToString().ToLowerInvariant();
}

/// <summary>
/// Decides a column's type from the sampled values that are not null: the narrowest of integer, bigint, decimal,
/// boolean (words only: 1/0 columns stay integers unless declared boolean), date, timestamp, else text. A number
/// with a leading zero (<c>007</c>, a code rather than a quantity) makes the column text. A column with no value
/// in the sample is text.
/// </summary>
internal sealed class TypeInference
{
    private bool _seen;
    private bool _integer = true;
    private bool _bigint = true;
    private bool _decimal = true;
    private bool _boolean = true;
    private bool _date = true;
    private bool _timestamp = true;

    public void Observe(ReadOnlySpan<char> text)
    {
        _seen = true;
        var leadingZero = text.Length > 1 && (text[0] == '0' || (text.Length > 2 && text[0] is '-' or '+' && text[1] == '0')) &&
            text.IndexOf('.') != (text[0] is '-' or '+' ? 2 : 1);
        var value = default(ImportValue);
        _integer &= !leadingZero && ImportValues.TryParse(text, ImportColumnType.Integer, ref value);
        _bigint &= !leadingZero && ImportValues.TryParse(text, ImportColumnType.Bigint, ref value);
        _decimal &= !leadingZero && ImportValues.TryParse(text, ImportColumnType.Decimal, ref value) && !text.ContainsAny('e', 'E');
        _boolean &= ImportValues.TryBoolean(text, out _) && !text.SequenceEqual("1") && !text.SequenceEqual("0");
        _date &= ImportValues.TryParse(text, ImportColumnType.Date, ref value);
        _timestamp &= ImportValues.TryParse(text, ImportColumnType.Timestamp, ref value);
    }

    public ImportColumnType Type =>
        !_seen ? ImportColumnType.Text
        : _integer ? ImportColumnType.Integer
        : _bigint ? ImportColumnType.Bigint
        : _decimal ? ImportColumnType.Decimal
        : _boolean ? ImportColumnType.Boolean
        : _date ? ImportColumnType.Date
        : _timestamp ? ImportColumnType.Timestamp
        : ImportColumnType.Text;
}
