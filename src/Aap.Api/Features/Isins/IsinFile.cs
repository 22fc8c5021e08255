using System.IO.Compression;
using System.Text;

namespace Aap.Api.Features.Isins;

/// <summary>One row of the list: a valid ISIN and the LEI beside it (null when the file has no LEI column).</summary>
internal readonly record struct IsinRow(string Isin, string? Lei);

/// <summary>
/// Reads a downloaded ISIN file from its temporary file, row by row (memory stays flat whatever its size): a ZIP
/// holding one CSV, a gzip-compressed CSV, or a plain CSV, told apart by their first bytes. The CSV has a header
/// row with an <c>ISIN</c> column (any case) and, optionally, an <c>LEI</c> column. Valid rows are yielded; invalid
/// ones (a malformed ISIN or check digit, a missing field) are counted, and the first few kept for the log.
/// A corrupt or truncated archive throws <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class IsinFile(Stream file, long maxExpandedBytes)
{
    public const int SampleSize = 5;

    private readonly List<string> _samples = [];

    /// <summary>Data rows read (not counting the header).</summary>
    public long Rows { get; private set; }

    public long InvalidRows { get; private set; }

    /// <summary>The first invalid rows, as "line N: why".</summary>
    public IReadOnlyList<string> InvalidSamples => _samples;

    /// <summary>What the file was: zip, gzip or csv.</summary>
    public string Format { get; private set; } = "csv";

    public IEnumerable<IsinRow> ReadRows(CancellationToken cancellationToken)
    {
        file.Seek(0, SeekOrigin.Begin);
        Span<byte> magic = stackalloc byte[4];
        var read = file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        file.Seek(0, SeekOrigin.Begin);
        if (read == 0)
        {
            throw new InvalidDataException("The downloaded file is empty.");
        }

        if (read >= 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4)
        {
            Format = "zip";
            return ReadZip(cancellationToken);
        }

        if (read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            Format = "gzip";
            return ReadGzip(cancellationToken);
        }

        Format = "csv";
        return ReadCsv(new NonClosing(file), cancellationToken);
    }

    private IEnumerable<IsinRow> ReadZip(CancellationToken cancellationToken)
    {
        using var zip = new ZipArchive(new NonClosing(file), ZipArchiveMode.Read);
        var csvs = zip.Entries.Where(e => e.Length > 0 || e.CompressedLength > 0).Where(e => !e.FullName.EndsWith('/')).ToList();
        if (csvs.Count != 1)
        {
            throw new InvalidDataException($"The ZIP holds {csvs.Count} files; one CSV was expected.");
        }

        if (csvs[0].Length > maxExpandedBytes)
        {
            throw new InvalidDataException($"The CSV in the ZIP is {csvs[0].Length} bytes; Jobs:Isin:MaxExpandedBytes allows {maxExpandedBytes}.");
        }

        using var entry = csvs[0].Open();
        foreach (var row in ReadCsv(entry, cancellationToken))
        {
            yield return row;
        }
    }

    private IEnumerable<IsinRow> ReadGzip(CancellationToken cancellationToken)
    {
        using var gzip = new GZipStream(new NonClosing(file), CompressionMode.Decompress);
        foreach (var row in ReadCsv(gzip, cancellationToken))
        {
            yield return row;
        }
    }

    private IEnumerable<IsinRow> ReadCsv(Stream stream, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(new Limited(stream, maxExpandedBytes), new UTF8Encoding(false, throwOnInvalidBytes: false), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var header = reader.ReadLine() ?? throw new InvalidDataException("The CSV is empty: it has no header row.");
        var columns = Split(header);
        var isinColumn = columns.FindIndex(c => c.Equals("ISIN", StringComparison.OrdinalIgnoreCase));
        if (isinColumn < 0)
        {
            throw new InvalidDataException($"The CSV has no ISIN column (its header is '{Shorten(header)}').");
        }

        var leiColumn = columns.FindIndex(c => c.Equals("LEI", StringComparison.OrdinalIgnoreCase));
        var line = 1L;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if ((line & 0xFFFF) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            if (text.Length == 0)
            {
                continue;
            }

            Rows++;
            var fields = Split(text);
            if (fields.Count <= isinColumn)
            {
                Invalid(line, "no ISIN field");
                continue;
            }

            var isin = fields[isinColumn].Trim();
            if (IsinCode.Check(isin) is { } why)
            {
                Invalid(line, $"'{Shorten(isin)}': {why}");
                continue;
            }

            string? lei = null;
            if (leiColumn >= 0 && leiColumn < fields.Count && fields[leiColumn].Trim() is { Length: > 0 } value)
            {
                if (value.Length != 20)
                {
                    Invalid(line, $"the LEI '{Shorten(value)}' does not have 20 characters");
                    continue;
                }

                lei = value;
            }

            yield return new IsinRow(isin, lei);
        }
    }

    private void Invalid(long line, string why)
    {
        InvalidRows++;
        if (_samples.Count < SampleSize)
        {
            _samples.Add($"line {line}: {why}");
        }
    }

    /// <summary>Splits one CSV line on commas, honouring double quotes (<c>""</c> inside quotes is one quote).</summary>
    internal static List<string> Split(string line)
    {
        var fields = new List<string>(2);
        if (!line.Contains('"'))
        {
            foreach (var part in line.Split(','))
            {
                fields.Add(part);
            }

            return fields;
        }

        var current = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(current.ToString());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        fields.Add(current.ToString());
        return fields;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    /// <summary>The temporary file, read through archives that would otherwise close it.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Fails once more than the allowed number of bytes were read: a decompression bomb stops there.</summary>
    private sealed class Limited(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = inner.Read(buffer);
            _read += n;
            return _read > limit
                ? throw new InvalidDataException($"The CSV expands to more than Jobs:Isin:MaxExpandedBytes ({limit} bytes).")
                : n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
