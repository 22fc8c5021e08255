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
/// Looks through a whole file, as it streams past, for markup a browser could run: a polyglot (valid image
/// bytes followed by HTML or script) must not be stored even though its first bytes are an image's.
/// </summary>
internal sealed class ActiveContentScanner
{
    private static readonly byte[][] Markers =
        [.. new[] { "<script", "<html", "<svg", "<iframe", "<body", "<!doctype html", "javascript:", "<?php" }.Select(m => System.Text.Encoding.ASCII.GetBytes(m))];

    private static readonly int Overlap = Markers.Max(m => m.Length) - 1;
    private readonly byte[] _tail = new byte[Overlap];
    private int _tailLength;

    public string? Found { get; private set; }

    public void Scan(ReadOnlySpan<byte> chunk)
    {
        if (Found is not null || chunk.IsEmpty)
        {
            return;
        }

        // Search the end of the previous chunk joined to this one, so a marker split across chunks is found.
        Span<byte> window = new byte[_tailLength + chunk.Length];
        _tail.AsSpan(0, _tailLength).CopyTo(window);
        chunk.CopyTo(window[_tailLength..]);
        foreach (var marker in Markers)
        {
            if (IndexOfIgnoreCase(window, marker) >= 0)
            {
                Found = System.Text.Encoding.ASCII.GetString(marker);
                return;
            }
        }

        var keep = Math.Min(Overlap, window.Length);
        window[^keep..].CopyTo(_tail);
        _tailLength = keep;
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
}
