namespace Aap.Api.Platform.Storage;

internal delegate bool MagicTest(ReadOnlySpan<byte> head);

/// <summary>A file type AAP can recognise from its leading bytes.</summary>
internal sealed record FileType(string Name, string ContentType, string[] Extensions, bool IsImage, MagicTest Matches);

/// <summary>
/// File types decided by content, never by name: the leading bytes ("magic numbers") say what a file is, and the
/// declared content type and the extension must agree with them.
/// </summary>
internal static class FileTypes
{
    public const int SniffLength = 16;

    public static readonly IReadOnlyList<FileType> All =
    [
        new("png", "image/png", [".png"], true, b => b.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])),
        new("jpeg", "image/jpeg", [".jpg", ".jpeg"], true, b => b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])),
        new("gif", "image/gif", [".gif"], true, b => b.StartsWith("GIF87a"u8) || b.StartsWith("GIF89a"u8)),
        new("webp", "image/webp", [".webp"], true, b => b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8)),
        new("pdf", "application/pdf", [".pdf"], false, b => b.StartsWith("%PDF-"u8)),
    ];

    public static FileType? Find(string name) => All.FirstOrDefault(t => t.Name == name);

    public static FileType? Sniff(ReadOnlySpan<byte> head)
    {
        foreach (var type in All)
        {
            if (type.Matches(head))
            {
                return type;
            }
        }

        return null;
    }
}

/// <summary>
/// Looks through a file, as it streams past, for markup a browser could run: a polyglot (valid image bytes followed
/// by, or carrying, HTML or script) must not be stored even though its first bytes are an image's.
/// </summary>
/// <remarks>
/// For PNG, JPEG, GIF and WebP the image's structure is followed and only its compressed pixel data is passed over
/// (PNG IDAT, JPEG entropy-coded data, GIF image sub-blocks, WebP VP8/VP8L/ALPH): those bytes are effectively random,
/// so a marker turns up in them by chance (about 1 in 500 one-megabyte images) and would refuse a real image on
/// every retry. Everything else is searched: signatures, chunk and segment headers, metadata and text, everything
/// after the image's end, and, once the structure stops making sense, the rest of the file. A marker that touches
/// searched bytes is found even if it begins or ends inside pixel data. Other types (PDF) are searched whole.
/// </remarks>
internal sealed class ActiveContentScanner(FileType? type = null)
{
    private static readonly byte[][] Markers =
        [.. new[] { "<script", "<html", "<svg", "<iframe", "<body", "<!doctype html", "javascript:", "<?php" }.Select(m => System.Text.Encoding.ASCII.GetBytes(m))];

    /// <summary>
    /// The markers of seven bytes or more: by chance in random bytes about once in 10^15 positions (`&lt;script`: a
    /// fixed `&lt;` and six letters of either case), so found in pixel data they are markup hidden there, not noise. The
    /// shorter ones (`&lt;svg` about once in 5·10^8) are searched outside pixel data only.
    /// </summary>
    private static readonly HashSet<byte[]> CertainMarkers = [.. Markers.Where(m => m.Length >= 7)];

    internal static readonly int Overlap = Markers.Max(m => m.Length) - 1;
    private readonly byte[] _tail = new byte[Overlap];
    private readonly ImageLayout? _layout = ImageLayout.For(type?.Name);
    private int _tailLength;
    private string? _found;
    private string? _foundInPixels;

    /// <summary>
    /// The first marker found, once the last chunk has been scanned. A file that ends inside pixel data (a chunk
    /// longer than the file, a scan or image never closed) did not have the structure it claimed: it gets the answer
    /// a search of every byte gives.
    /// </summary>
    public string? Found => _found ?? (_layout is { InPixels: true } ? _foundInPixels : null);

    public void Scan(ReadOnlySpan<byte> chunk)
    {
        while (_found is null && !chunk.IsEmpty)
        {
            var (length, searched) = _layout?.Next(chunk) ?? (chunk.Length, true);
            if (searched)
            {
                _found = Search(chunk[..length]);
            }
            else
            {
                // Pixel data: a marker long enough never to turn up there by chance is markup all the same.
                var (any, certain) = SearchPixels(chunk[..length]);
                _found = certain;
                _foundInPixels ??= any;
            }

            chunk = chunk[length..];
        }
    }

    private string? Search(ReadOnlySpan<byte> part)
    {
        // Search the bytes just before this part joined to it, so a marker split across chunks (or reaching in from
        // pixel data) is found.
        Span<byte> window = new byte[_tailLength + part.Length];
        _tail.AsSpan(0, _tailLength).CopyTo(window);
        part.CopyTo(window[_tailLength..]);
        Remember(part);
        foreach (var marker in Markers)
        {
            if (IndexOfIgnoreCase(window, marker) >= 0)
            {
                return System.Text.Encoding.ASCII.GetString(marker);
            }
        }

        return null;
    }

    /// <summary>
    /// Searches pixel data (with the bytes before it): the first marker of any kind, kept for a file that turns out to
    /// end inside its pixels, and the first of <see cref="CertainMarkers"/>, which refuses the file wherever it stands.
    /// </summary>
    private (string? Any, string? Certain) SearchPixels(ReadOnlySpan<byte> part)
    {
        Span<byte> window = new byte[_tailLength + part.Length];
        _tail.AsSpan(0, _tailLength).CopyTo(window);
        part.CopyTo(window[_tailLength..]);
        Remember(part);
        string? any = null;
        foreach (var marker in Markers)
        {
            if ((any is null || CertainMarkers.Contains(marker)) && IndexOfIgnoreCase(window, marker) >= 0)
            {
                var name = System.Text.Encoding.ASCII.GetString(marker);
                if (CertainMarkers.Contains(marker))
                {
                    return (any ?? name, name);
                }

                any ??= name;
            }
        }

        return (any, null);
    }

    /// <summary>Keeps the last <see cref="Overlap"/> bytes seen, searched or not.</summary>
    private void Remember(ReadOnlySpan<byte> part)
    {
        if (part.Length >= Overlap)
        {
            part[^Overlap..].CopyTo(_tail);
            _tailLength = Overlap;
            return;
        }

        var keep = Math.Min(_tailLength, Overlap - part.Length);
        _tail.AsSpan(_tailLength - keep, keep).CopyTo(_tail);
        part.CopyTo(_tail.AsSpan(keep));
        _tailLength = keep + part.Length;
    }

    private static int IndexOfIgnoreCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> needle)
    {
        for (var i = haystack.IndexOfAny((byte)needle[0], (byte)char.ToUpperInvariant((char)needle[0])); i >= 0 && i <= haystack.Length - needle.Length;)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(haystack.Slice(i, needle.Length), needle))
            {
                return i;
            }

            var next = haystack[(i + 1)..].IndexOfAny((byte)needle[0], (byte)char.ToUpperInvariant((char)needle[0]));
            i = next < 0 ? -1 : i + 1 + next;
        }

        return -1;
    }

    /// <summary>
    /// Follows an image's structure as it streams and says, run by run, which bytes to search. It only ever counts
    /// and reads small fixed fields, so it never holds more than a few bytes. Anything it does not understand ends
    /// the structure: the rest is searched.
    /// </summary>
    private abstract class ImageLayout
    {
        private readonly byte[] _field = new byte[32];
        private int _fieldLength;
        private int _fieldNeed;
        private long _run;
        private bool _runSearched;
        private bool _inPixels;
        private bool _whole;

        /// <summary>Pixel bytes still searched at the start of pixel data, so a marker reaching into it is found.</summary>
        private int _margin;

        /// <summary>Whether the bytes seen last are pixel data whose end has not come yet.</summary>
        public bool InPixels => !_whole && ((_run > 0 && !_runSearched) || _inPixels);

        /// <summary>How many bytes of the file have gone past.</summary>
        protected long Position { get; private set; }

        public static ImageLayout? For(string? type) => type switch
        {
            "png" => new PngLayout(),
            "jpeg" => new JpegLayout(),
            "gif" => new GifLayout(),
            "webp" => new WebpLayout(),
            _ => null,
        };

        /// <summary>Takes the leading run of <paramref name="data"/> that is all searched or all passed over.</summary>
        public (int Length, bool Searched) Next(ReadOnlySpan<byte> data)
        {
            int length;
            bool searched;
            if (_whole)
            {
                (length, searched) = (data.Length, true);
                Position += length;
            }
            else if (_fieldNeed > 0)
            {
                length = Math.Min(_fieldNeed - _fieldLength, data.Length);
                data[..length].CopyTo(_field.AsSpan(_fieldLength));
                _fieldLength += length;
                searched = true;
                Position += length;
                if (_fieldLength == _fieldNeed)
                {
                    var field = _field.AsSpan(0, _fieldNeed);
                    _fieldNeed = 0;
                    OnField(field);
                }
            }
            else if (_run > 0)
            {
                searched = _runSearched || _margin > 0;
                length = (int)Math.Min(_run, data.Length);
                if (!_runSearched && _margin > 0)
                {
                    length = Math.Min(length, _margin);
                    _margin -= length;
                }

                _run -= length;
                Position += length;
                if (_run == 0)
                {
                    OnRunEnd();
                }
            }
            else if (_inPixels)
            {
                searched = _margin > 0;
                length = Pixels(searched ? data[..Math.Min(_margin, data.Length)] : data);
                _margin = searched ? _margin - length : 0;
                Position += length;
            }
            else
            {
                // No step set: a layout bug must not turn into a blind spot.
                Whole();
                return Next(data);
            }

            return (length, searched);
        }

        /// <summary>Reads the next <paramref name="count"/> bytes (searched) into a field, then calls <see cref="OnField"/>.</summary>
        protected void Read(int count) => (_fieldNeed, _fieldLength) = (count, 0);

        /// <summary>The next <paramref name="length"/> bytes are searched, then <see cref="OnRunEnd"/> is called.</summary>
        protected void Searched(long length) => Run(length, true);

        /// <summary>The next <paramref name="length"/> bytes are compressed pixels, passed over after a margin.</summary>
        protected void PixelRun(long length) => Run(length, false);

        /// <summary>Pixel data whose end only <see cref="Pixels"/> can find.</summary>
        protected void PixelStream() => (_inPixels, _margin) = (true, Overlap);

        protected void EndPixelStream() => _inPixels = false;

        /// <summary>The structure is over or broken: search everything that follows.</summary>
        protected void Whole() => _whole = true;

        protected abstract void OnField(ReadOnlySpan<byte> field);

        protected abstract void OnRunEnd();

        /// <summary>Consumes at least one byte of pixel data, calling <see cref="EndPixelStream"/> at its end.</summary>
        protected virtual int Pixels(ReadOnlySpan<byte> data)
        {
            Whole();
            return 0;
        }

        private void Run(long length, bool searched)
        {
            (_run, _runSearched) = (length, searched);
            _margin = searched ? 0 : Overlap;
            if (length <= 0)
            {
                _run = 0;
                OnRunEnd();
            }
        }

        protected static bool IsLetters(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                if (!char.IsAsciiLetter((char)b))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Signature, then chunks (length, type, data, CRC) up to IEND; IDAT and APNG fdAT data are pixels.</summary>
    private sealed class PngLayout : ImageLayout
    {
        private enum Step { Signature, Header, Crc }

        private Step _step;
        private bool _end;

        public PngLayout() => Read(8);

        protected override void OnField(ReadOnlySpan<byte> field)
        {
            switch (_step)
            {
                case Step.Signature:
                    _step = Step.Header;
                    Read(8);
                    break;
                case Step.Header:
                    var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(field);
                    var kind = field[4..8];
                    if (length > int.MaxValue || !IsLetters(kind))
                    {
                        Whole();
                        return;
                    }

                    _end = kind.SequenceEqual("IEND"u8);
                    if (kind.SequenceEqual("IDAT"u8) || kind.SequenceEqual("fdAT"u8))
                    {
                        PixelRun(length);
                    }
                    else
                    {
                        Searched(length);
                    }

                    break;
                case Step.Crc:
                    if (_end)
                    {
                        Whole();
                        return;
                    }

                    _step = Step.Header;
                    Read(8);
                    break;
            }
        }

        protected override void OnRunEnd()
        {
            _step = Step.Crc;
            Read(4);
        }
    }

    /// <summary>
    /// SOI, then marker segments up to EOI; after each SOS the entropy-coded data (up to the next marker other than
    /// RSTn or a stuffed 0xFF00) is pixels.
    /// </summary>
    private sealed class JpegLayout : ImageLayout
    {
        private enum Step { Start, Prefix, Code, Length }

        private Step _step;
        private byte _code;
        private bool _afterFf;

        public JpegLayout() => Read(2);

        protected override void OnField(ReadOnlySpan<byte> field)
        {
            switch (_step)
            {
                case Step.Start:
                    if (field[0] != 0xFF || field[1] != 0xD8)
                    {
                        Whole();
                        return;
                    }

                    ExpectMarker();
                    break;
                case Step.Prefix:
                    if (field[0] != 0xFF)
                    {
                        Whole();
                        return;
                    }

                    _step = Step.Code;
                    Read(1);
                    break;
                case Step.Code:
                    OnMarker(field[0]);
                    break;
                case Step.Length:
                    var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(field);
                    if (length < 2)
                    {
                        Whole();
                        return;
                    }

                    Searched(length - 2);
                    break;
            }
        }

        protected override void OnRunEnd()
        {
            if (_code == 0xDA)
            {
                _afterFf = false;
                PixelStream();
            }
            else
            {
                ExpectMarker();
            }
        }

        protected override int Pixels(ReadOnlySpan<byte> data)
        {
            for (var i = 0; i < data.Length; i++)
            {
                if (!_afterFf)
                {
                    var ff = data[i..].IndexOf((byte)0xFF);
                    if (ff < 0)
                    {
                        return data.Length;
                    }

                    i += ff;
                    _afterFf = true;
                    continue;
                }

                var b = data[i];
                if (b == 0xFF)
                {
                    continue;
                }

                _afterFf = false;
                if (b != 0x00 && b is not (>= 0xD0 and <= 0xD7))
                {
                    EndPixelStream();
                    OnMarker(b);
                    return i + 1;
                }
            }

            return data.Length;
        }

        private void ExpectMarker()
        {
            _step = Step.Prefix;
            Read(1);
        }

        private void OnMarker(byte code)
        {
            _code = code;
            switch (code)
            {
                case 0xFF:
                    // A fill byte before the marker code.
                    _step = Step.Code;
                    Read(1);
                    break;
                case 0xD9:
                    Whole();
                    break;
                case 0x01 or 0xD8 or (>= 0xD0 and <= 0xD7):
                    ExpectMarker();
                    break;
                default:
                    _step = Step.Length;
                    Read(2);
                    break;
            }
        }
    }

    /// <summary>
    /// Header, screen descriptor and colour tables, then extensions (all searched) and images, whose LZW sub-blocks
    /// are pixels, up to the trailer 0x3B.
    /// </summary>
    private sealed class GifLayout : ImageLayout
    {
        private enum Step { Screen, Table, Block, Label, SubBlockSize, Descriptor, CodeSize }

        private Step _step;
        private Step _afterTable;
        private int _subBlock;

        public GifLayout() => Read(13);

        protected override void OnField(ReadOnlySpan<byte> field)
        {
            switch (_step)
            {
                case Step.Screen:
                    ColourTable(field[10], Step.Block);
                    break;
                case Step.Block:
                    switch (field[0])
                    {
                        case 0x21:
                            Next(Step.Label, 1);
                            break;
                        case 0x2C:
                            Next(Step.Descriptor, 9);
                            break;
                        default:
                            // The trailer 0x3B, or something that is not GIF: search the rest.
                            Whole();
                            break;
                    }

                    break;
                case Step.Label:
                    Next(Step.SubBlockSize, 1);
                    break;
                case Step.SubBlockSize:
                    if (field[0] == 0)
                    {
                        Next(Step.Block, 1);
                    }
                    else
                    {
                        Searched(field[0]);
                    }

                    break;
                case Step.Descriptor:
                    ColourTable(field[8], Step.CodeSize);
                    break;
                case Step.CodeSize:
                    _subBlock = 0;
                    PixelStream();
                    break;
            }
        }

        protected override void OnRunEnd()
        {
            if (_step == Step.SubBlockSize)
            {
                Read(1);
            }
            else
            {
                Next(_afterTable, 1);
            }
        }

        protected override int Pixels(ReadOnlySpan<byte> data)
        {
            // Sub-blocks: a size byte, then that many bytes; a size of 0 ends the image data.
            var at = 0;
            while (at < data.Length)
            {
                if (_subBlock > 0)
                {
                    var take = Math.Min(_subBlock, data.Length - at);
                    _subBlock -= take;
                    at += take;
                    continue;
                }

                _subBlock = data[at++];
                if (_subBlock == 0)
                {
                    EndPixelStream();
                    Next(Step.Block, 1);
                    return at;
                }
            }

            return at;
        }

        private void ColourTable(byte flags, Step after)
        {
            if ((flags & 0x80) == 0)
            {
                Next(after, 1);
                return;
            }

            (_step, _afterTable) = (Step.Table, after);
            Searched(3 << ((flags & 7) + 1));
        }

        private void Next(Step step, int count)
        {
            _step = step;
            Read(count);
        }
    }

    /// <summary>
    /// RIFF header, then chunks (including those nested in ANMF frames) up to the RIFF size; VP8, VP8L and ALPH data
    /// are pixels.
    /// </summary>
    private sealed class WebpLayout : ImageLayout
    {
        private enum Step { Riff, Header, Frame }

        private Step _step;
        private long _end;

        public WebpLayout() => Read(12);

        protected override void OnField(ReadOnlySpan<byte> field)
        {
            switch (_step)
            {
                case Step.Riff:
                    _end = 8L + System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(field[4..8]);
                    NextChunk();
                    break;
                case Step.Header:
                    var kind = field[..4];
                    var size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(field[4..8]);
                    var padded = size + (size & 1);
                    if (Position + padded > _end)
                    {
                        Whole();
                    }
                    else if (kind.SequenceEqual("ANMF"u8))
                    {
                        // A frame: a 16-byte frame header, then the frame's own chunks.
                        _step = Step.Frame;
                        Read(16);
                    }
                    else if (kind.SequenceEqual("VP8 "u8) || kind.SequenceEqual("VP8L"u8) || kind.SequenceEqual("ALPH"u8))
                    {
                        PixelRun(padded);
                    }
                    else
                    {
                        Searched(padded);
                    }

                    break;
                case Step.Frame:
                    NextChunk();
                    break;
            }
        }

        protected override void OnRunEnd() => NextChunk();

        private void NextChunk()
        {
            if (Position >= _end)
            {
                Whole();
                return;
            }

            _step = Step.Header;
            Read(8);
        }
    }
}
