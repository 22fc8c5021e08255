using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Aap.Api.Features.Imports;

/// <summary>
/// Writes rows in PostgreSQL's binary COPY format (the <c>PGCOPY</c> header, then per row a field count and each
/// field as a length and its bytes, big-endian, then the trailer) into a buffer that is flushed to the COPY stream
/// when full. Every value is written straight from the parsed field: no per-value call into the driver, no boxing,
/// no per-row allocation (the driver's typed <c>NpgsqlBinaryImporter.Write</c> cost more than parsing the file).
/// The encodings are PostgreSQL's <c>*_send</c> formats, the ones Npgsql writes, infinities included: integer,
/// bigint, boolean, date (days since 2000-01-01), timestamp with time zone (microseconds since 2000-01-01 UTC),
/// numeric (base-10000 digits) and text (UTF-8).
/// </summary>
internal sealed class PgBinaryRows
{
    private const int BufferSize = 256 * 1024;

    /// <summary>The most bytes a field other than text takes (numeric: 8 + 2 per base-10000 digit, at most 16 digits).</summary>
    private const int MaxFixed = 64;

    private static readonly byte[] Header = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xff, (byte)'\r', (byte)'\n', 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly int PostgresEpochDay = new DateOnly(2000, 1, 1).DayNumber;
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream _stream;
    private readonly ImportColumnType[] _types;
    private readonly bool _line;
    private readonly short _fields;
    private byte[] _buffer = new byte[BufferSize];
    private int _at;

    public PgBinaryRows(Stream stream, IReadOnlyList<ImportColumn> columns, bool line)
    {
        _stream = stream;
        _types = [.. columns.Select(c => c.Type)];
        _line = line;
        _fields = (short)(columns.Count + (line ? 1 : 0));
        Header.CopyTo(_buffer, 0);
        _at = Header.Length;
    }

    /// <summary>The rows written so far.</summary>
    public long Rows { get; private set; }

    public void Write(ReadOnlySpan<ImportValue> values, long line)
    {
        Ensure(2 + 12);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_at), _fields);
        _at += 2;
        if (_line)
        {
            Int64(line);
        }

        for (var i = 0; i < values.Length; i++)
        {
            ref readonly var value = ref values[i];
            Ensure(4 + MaxFixed); // a text makes sure of its own length
            if (value.IsNull)
            {
                BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), -1);
                _at += 4;
                continue;
            }

            switch (_types[i])
            {
                case ImportColumnType.Integer:
                    BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 4);
                    BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at + 4), (int)value.Long);
                    _at += 8;
                    break;
                case ImportColumnType.Bigint:
                    Int64(value.Long);
                    break;
                case ImportColumnType.Decimal:
                    Numeric(value.Decimal);
                    break;
                case ImportColumnType.Boolean:
                    BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 1);
                    _buffer[_at + 4] = value.Bool ? (byte)1 : (byte)0;
                    _at += 5;
                    break;
                case ImportColumnType.Date:
                    BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 4);
                    BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at + 4), Days(value.Date));
                    _at += 8;
                    break;
                case ImportColumnType.Timestamp:
                    Int64(Microseconds(value.Timestamp));
                    break;
                default:
                    Text(value.Text.Span);
                    break;
            }
        }

        Rows++;
    }

    /// <summary>Writes the trailer and sends what is buffered; the caller then ends the COPY.</summary>
    public void Finish()
    {
        Ensure(2);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_at), -1);
        _at += 2;
        Flush();
    }

    private void Ensure(int bytes)
    {
        if (_buffer.Length - _at < bytes)
        {
            Flush();
            if (_buffer.Length < bytes)
            {
                _buffer = new byte[bytes];
            }
        }
    }

    private void Flush()
    {
        if (_at > 0)
        {
            _stream.Write(_buffer, 0, _at);
            _at = 0;
        }
    }

    private void Int64(long value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 8);
        BinaryPrimitives.WriteInt64BigEndian(_buffer.AsSpan(_at + 4), value);
        _at += 12;
    }

    private void Text(ReadOnlySpan<char> text)
    {
        var max = Utf8.GetMaxByteCount(text.Length);
        if (_buffer.Length - _at < 4 + max)
        {
            Ensure(4 + Utf8.GetByteCount(text));
        }

        var length = Utf8.GetBytes(text, _buffer.AsSpan(_at + 4));
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), length);
        _at += 4 + length;
    }

    /// <summary>Days since 2000-01-01; the smallest and largest dates are -infinity and infinity, as Npgsql sends them.</summary>
    internal static int Days(DateOnly date) =>
        date == DateOnly.MaxValue ? int.MaxValue : date == DateOnly.MinValue ? int.MinValue : date.DayNumber - PostgresEpochDay;

    /// <summary>Microseconds since 2000-01-01 UTC (ticks truncated); the smallest and largest instants are -infinity and infinity, as Npgsql sends them.</summary>
    internal static long Microseconds(DateTime timestamp) =>
        timestamp == DateTime.MaxValue ? long.MaxValue : timestamp == DateTime.MinValue ? long.MinValue : (timestamp.Ticks - PostgresEpochTicks) / 10;

    /// <summary>
    /// numeric's binary form: digit count, weight (of the first base-10000 digit), sign (0 or 0x4000), display
    /// scale, then the digits. Built from the decimal's invariant text, so the scale is the decimal's own.
    /// </summary>
    private void Numeric(decimal value)
    {
        Span<char> text = stackalloc char[40];
        value.TryFormat(text, out var length, default, CultureInfo.InvariantCulture);
        text = text[..length];
        var negative = text[0] == '-';
        if (negative)
        {
            text = text[1..];
        }

        var point = text.IndexOf('.');
        var integer = point < 0 ? text : text[..point];
        var fraction = point < 0 ? [] : text[(point + 1)..];
        var scale = fraction.Length;

        // Digits in groups of four aligned on the decimal point: the integer part padded on the left, the fraction on the right.
        var lead = (4 - (integer.Length % 4)) % 4;
        var integerGroups = (integer.Length + lead) / 4;
        var fractionGroups = (fraction.Length + 3) / 4;
        Span<short> digits = stackalloc short[16];
        var count = 0;
        var weight = integerGroups - 1;
        var started = false;
        for (var g = 0; g < integerGroups + fractionGroups; g++)
        {
            var group = 0;
            for (var d = 0; d < 4; d++)
            {
                var at = (g * 4) + d - lead; // index in the integer part, then beyond it into the fraction
                int digit;
                if (at < 0)
                {
                    digit = 0;
                }
                else if (at < integer.Length)
                {
                    digit = integer[at] - '0';
                }
                else
                {
                    var f = at - integer.Length;
                    digit = f < fraction.Length ? fraction[f] - '0' : 0;
                }

                group = (group * 10) + digit;
            }

            if (!started && group == 0)
            {
                weight--; // a leading zero group is not sent
                continue;
            }

            started = true;
            digits[count++] = (short)group;
        }

        while (count > 0 && digits[count - 1] == 0)
        {
            count--;
        }

        if (count == 0)
        {
            weight = 0;
            negative = false;
        }

        var size = 8 + (count * 2);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), size);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_at + 4), (short)count);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_at + 6), (short)weight);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_at + 8), negative ? (ushort)0x4000 : (ushort)0);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_at + 10), (short)scale);
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_at + 12 + (i * 2)), digits[i]);
        }

        _at += 4 + size;
    }
}
