using System.IO.Compression;
using System.Text;
using nietras.SeparatedValues;

namespace Aap.Api.Features.Imports;

/// <summary>Why the file cannot be imported at all (as opposed to a rejected row): becomes a 400 failure.</summary>
internal sealed class ImportFileException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Opens a CSV/TSV stream for Sep: gzip told by its magic bytes (1f 8b), the text decoded as UTF-8 (a byte order
/// mark wins; invalid bytes are an error, not replacement characters) or the declared encoding, and every record
/// measured before Sep buffers it, so that a huge line is refused while memory stays flat.
/// </summary>
internal static class CsvSource
{
    static CsvSource() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Detected separators, in order of preference on a tie (a tab is rarely in a header by accident).</summary>
    private static readonly char[] Delimiters = ['\t', ',', ';', '|'];

    public static Encoding ResolveEncoding(string? name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Replace("-", "", StringComparison.Ordinal).Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        }

        try
        {
            return Encoding.GetEncoding(name.Trim(), EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            // NotSupportedException: a name the runtime knows but refuses to decode (utf-7).
            throw new ArgumentException($"Unknown encoding '{name}' (try utf-8, latin1, windows-1252 or utf-16).", ex);
        }
    }

    /// <summary>
    /// Whether <paramref name="c"/> can separate fields: tab, or a printable ASCII character other than the quote (the
    /// CSV reader takes U+001F to U+007E and tab; a quote or a line break would make the rows ambiguous).
    /// </summary>
    public static bool IsDelimiter(char c) => c == '\t' || (c is >= '\u001F' and <= '~' && c != '"');

    /// <summary>The delimiter an import option names: one such character, or <c>tab</c> (also <c>\t</c>); null for anything else.</summary>
    public static char? ParseDelimiter(string text) => text switch
    {
        "tab" or "\\t" or "\t" => '\t',
        { Length: 1 } when IsDelimiter(text[0]) => text[0],
        _ => null,
    };

    /// <summary>A stream that counts the bytes read from the file itself (compressed bytes for gzip), for progress.</summary>
    public sealed class Counting(Stream inner) : ForwardOnly(inner)
    {
        private long _read;

        public long BytesRead => Interlocked.Read(ref _read);

        public override int Read(byte[] buffer, int offset, int count) => Add(Inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Add(Inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Add(await Inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Add(int read)
        {
            Interlocked.Add(ref _read, read);
            return read;
        }

        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    }

    /// <summary>
    /// The text of <paramref name="raw"/>: gunzipped when it starts with gzip's magic bytes, decoded, and guarded
    /// against records longer than <paramref name="maxRecordChars"/>.
    /// </summary>
    public static RecordGuard OpenText(Stream raw, Encoding encoding, int maxRecordChars, bool quoted)
    {
        var magic = new byte[2];
        var read = raw.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        Stream stream = new Prefixed(magic.AsMemory(0, read), raw);
        if (read == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            stream = new GZipStream(stream, CompressionMode.Decompress);
        }

        var text = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: true, bufferSize: 64 * 1024);
        return new RecordGuard(text, maxRecordChars, quoted);
    }

    /// <summary>Sep's reader over the guarded text: a header row, quotes unescaped, ragged rows left to the caller.</summary>
    public static SepReader Reader(TextReader text, char? delimiter, bool quoted, string firstLine)
    {
        var separator = delimiter ?? Detect(firstLine);
        return Sep.Reader(o => o with
        {
            Sep = new Sep(separator),
            HasHeader = true,
            Unescape = quoted,
            DisableQuotesParsing = !quoted,
            DisableColCountCheck = true,
            CultureInfo = System.Globalization.CultureInfo.InvariantCulture,
        }).From(text);
    }

    /// <summary>The delimiter that occurs most often in the header row outside quotes (tab before comma before semicolon on a tie; comma when none occurs).</summary>
    public static char Detect(string header)
    {
        var best = ',';
        var bestCount = 0;
        foreach (var candidate in Delimiters)
        {
            var count = 0;
            var inQuotes = false;
            foreach (var c in header)
            {
                if (c == '"')
                {
                    inQuotes = !inQuotes;
                }
                else if (c == candidate && !inQuotes)
                {
                    count++;
                }
            }

            if (count > bestCount)
            {
                best = candidate;
                bestCount = count;
            }
        }

        return best;
    }

    /// <summary>A stream read once from start to end over <paramref name="inner"/>, which it disposes.</summary>
    public abstract class ForwardOnly(Stream inner) : Stream
    {
        /// <summary>The stream read from.</summary>
        protected Stream Inner { get; } = inner;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Bytes already read (the magic bytes), then the rest of the stream: works on streams that cannot seek.</summary>
    private sealed class Prefixed(ReadOnlyMemory<byte> prefix, Stream rest) : ForwardOnly(rest)
    {
        private ReadOnlyMemory<byte> _prefix = prefix;

        public override int Read(Span<byte> buffer)
        {
            if (!_prefix.IsEmpty)
            {
                var n = Math.Min(buffer.Length, _prefix.Length);
                _prefix.Span[..n].CopyTo(buffer);
                _prefix = _prefix[n..];
                return n;
            }

            return Inner.Read(buffer);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    }
}

/// <summary>
/// Passes text through to Sep while it counts the characters of the current record (a line, or the lines of a
/// quoted field: a newline inside quotes does not end it). A record longer than the limit throws
/// <see cref="ImportFileException"/> before Sep has to buffer it, so a single 2 GB line costs no more memory than a
/// short one. Also keeps the header line, read ahead, for delimiter detection.
/// </summary>
internal sealed class RecordGuard : TextReader
{
    private readonly TextReader _inner;
    private readonly int _max;
    private readonly bool _quoted;
    private long _current;
    private long _line = 1;
    private long _recordStart = 1;
    private bool _inQuotes;
    private char[] _pending = [];
    private int _pendingAt;

    public RecordGuard(TextReader inner, int maxRecordChars, bool quoted)
    {
        _inner = inner;
        _max = maxRecordChars;
        _quoted = quoted;
        FirstLine = ReadFirstLine();
    }

    /// <summary>The header line as read ahead (up to its newline), for delimiter detection.</summary>
    public string FirstLine { get; }

    private string ReadFirstLine()
    {
        var buffer = new StringBuilder();
        var chunk = new char[4096];
        while (true)
        {
            var n = _inner.Read(chunk, 0, chunk.Length);
            if (n == 0)
            {
                break;
            }

            buffer.Append(chunk, 0, n);
            if (chunk.AsSpan(0, n).IndexOf('\n') >= 0)
            {
                break;
            }

            if (buffer.Length > _max)
            {
                throw TooLong();
            }
        }

        _pending = buffer.ToString().ToCharArray();
        var text = new string(_pending);
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return (end >= 0 ? text[..end] : text).TrimEnd('\r');
    }

    public override int Read(Span<char> buffer)
    {
        int n;
        if (_pendingAt < _pending.Length)
        {
            n = Math.Min(buffer.Length, _pending.Length - _pendingAt);
            _pending.AsSpan(_pendingAt, n).CopyTo(buffer);
            _pendingAt += n;
        }
        else
        {
            n = _inner.Read(buffer);
        }

        Measure(buffer[..n]);
        return n;
    }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Peek() => -1;

    public override int Read()
    {
        Span<char> one = stackalloc char[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    private void Measure(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            var at = _quoted ? text.IndexOfAny('"', '\n') : text.IndexOf('\n');
            if (at < 0)
            {
                _current += text.Length;
                break;
            }

            _current += at + 1;
            if (text[at] == '"')
            {
                _inQuotes = !_inQuotes;
            }
            else
            {
                _line++;
                if (!_inQuotes)
                {
                    _current = 0;
                    _recordStart = _line;
                }
            }

            text = text[(at + 1)..];
        }

        if (_current > _max)
        {
            throw TooLong();
        }
    }

    private ImportFileException TooLong() => new(
        $"The record that starts on line {_recordStart} is longer than {_max:N0} characters (the import's maximum record length); " +
        "the file is refused. A quote that is never closed makes the rest of the file one record.");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
