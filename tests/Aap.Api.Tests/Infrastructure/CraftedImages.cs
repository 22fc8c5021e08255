using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>
/// Images built byte by byte for the upload scanner: markup hidden in the places a browser could read it, and
/// markup bytes that only occur inside compressed pixel data, where they mean nothing.
/// </summary>
public static class CraftedImages
{
    /// <summary>A real 32x32 PNG, stored uncompressed, one of whose pixels is the bytes <c>&lt;SVG</c> in the middle of its IDAT data.</summary>
    public static byte[] PngWithSvgInPixels()
    {
        using var image = new Image<Rgba32>(32, 32, new Rgba32(10, 20, 30, 255));
        image[16, 16] = new Rgba32((byte)'<', (byte)'S', (byte)'V', (byte)'G');
        using var output = new MemoryStream();
        image.SaveAsPng(output, new PngEncoder
        {
            ColorType = PngColorType.RgbWithAlpha,
            CompressionLevel = PngCompressionLevel.NoCompression,
            FilterMethod = PngFilterMethod.None,
        });
        var png = output.ToArray();
        Encoding.ASCII.GetString(png).ShouldContain("<SVG");
        return png;
    }

    /// <summary>A real 64x64 JPEG whose entropy-coded scan data has <c>&lt;svg</c> written into its middle.</summary>
    public static byte[] JpegWithSvgInScan()
    {
        var noise = new Random(7);
        using var image = new Image<Rgba32>(64, 64);
        for (var y = 0; y < 64; y++)
        {
            for (var x = 0; x < 64; x++)
            {
                image[x, y] = new Rgba32((byte)noise.Next(256), (byte)noise.Next(256), (byte)noise.Next(256));
            }
        }

        using var output = new MemoryStream();
        image.SaveAsJpeg(output, new JpegEncoder { Quality = 90 });
        var jpeg = output.ToArray();
        var sos = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        var start = sos + 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(sos + 2));
        var end = jpeg.AsSpan().LastIndexOf([(byte)0xFF, (byte)0xD9]);
        var at = (start + end) / 2;
        while (jpeg[at - 1] == 0xFF)
        {
            at++;
        }

        "<svg"u8.CopyTo(jpeg.AsSpan(at));
        return jpeg;
    }

    /// <summary>A minimal JPEG (SOI, a quantisation table, a frame, a Huffman table, a scan, EOI), readable by the scanner's rules.</summary>
    public static byte[] MinimalJpeg(byte[]? scan = null, byte[]? comment = null) =>
    [
        0xFF, 0xD8,
        .. comment is null ? [] : Segment(0xFE, comment),
        .. Segment(0xDB, [0x00, .. Enumerable.Repeat((byte)1, 64)]),
        .. Segment(0xC0, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
        .. Segment(0xC4, [0x00, 1, .. new byte[15], 0]),
        .. Segment(0xDA, [1, 1, 0x00, 0, 63, 0]),
        .. scan ?? [0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78],
        0xFF, 0xD9,
    ];

    /// <summary><see cref="Images.Png"/> with a chunk of <paramref name="type"/> inserted after IHDR.</summary>
    public static byte[] PngWithChunk(string type, byte[] data) => [.. Images.Png[..33], .. Chunk(type, data), .. Images.Png[33..]];

    /// <summary>A PNG signature, IHDR, one IDAT chunk holding <paramref name="idat"/> and IEND (the IDAT need not inflate).</summary>
    public static byte[] PngWithIdat(byte[] idat, byte[]? idatCrc = null)
    {
        byte[] chunk = [.. Chunk("IDAT", idat)];
        if (idatCrc is not null)
        {
            idatCrc.CopyTo(chunk, chunk.Length - 4);
        }

        return [.. Images.Png[..33], .. chunk, .. Chunk("IEND", [])];
    }

    /// <summary>A 1x1 GIF89a, with a comment extension when given, and <paramref name="pixels"/> as its one image sub-block.</summary>
    public static byte[] Gif(byte[]? pixels = null, string? comment = null) =>
    [
        .. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF,
        .. comment is null ? [] : (byte[])[0x21, 0xFE, (byte)comment.Length, .. Encoding.ASCII.GetBytes(comment), 0],
        0x21, 0xF9, 4, 0, 0, 0, 0, 0,
        0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0,
        2, .. pixels is null ? [2, 0x44, 0x01] : (byte[])[(byte)pixels.Length, .. pixels], 0,
        0x3B,
    ];

    /// <summary>A WebP whose RIFF holds <paramref name="chunks"/> (fourcc, data).</summary>
    public static byte[] Webp(params (string Kind, byte[] Data)[] chunks)
    {
        byte[] body = [.. "WEBP"u8, .. chunks.SelectMany(c => RiffChunk(c.Kind, c.Data))];
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)body.Length);
        return [.. "RIFF"u8, .. size, .. body];
    }

    /// <summary><paramref name="image"/> followed by random hex (which can spell no markup), so its bytes and hash are its own.</summary>
    public static byte[] Unique(byte[] image) => [.. image, .. Encoding.ASCII.GetBytes(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)))];

    /// <summary><paramref name="size"/> bytes of filler (no markup) with <paramref name="text"/> at <paramref name="at"/>.</summary>
    public static byte[] Filler(int size, int at, string text)
    {
        var bytes = Enumerable.Range(0, size).Select(i => (byte)('a' + (i % 3))).ToArray();
        Encoding.ASCII.GetBytes(text).CopyTo(bytes, at);
        return bytes;
    }

    private static byte[] Segment(byte code, byte[] data)
    {
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)(data.Length + 2));
        return [0xFF, code, .. length, .. data];
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        return [.. length, .. typed, .. crc];
    }

    private static byte[] RiffChunk(string kind, byte[] data)
    {
        var size = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)data.Length);
        return [.. Encoding.ASCII.GetBytes(kind), .. size, .. data, .. data.Length % 2 == 1 ? (byte[])[0] : []];
    }

    /// <summary>The CRC-32 PNG puts after each chunk.</summary>
    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
