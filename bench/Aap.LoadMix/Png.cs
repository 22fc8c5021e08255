using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Aap.LoadMix;

/// <summary>
/// A tiny valid PNG (8 x 8 pixels, RGB) of random pixels: every proof is a different image, as the service refuses
/// the same screenshot for two of one user's completions and flags one sent by two users.
/// </summary>
internal static class Png
{
    private const int Side = 8;
    private static readonly uint[] CrcTable = MakeCrcTable();

    public static byte[] Random(Random random)
    {
        // Each row: the filter byte (0, none), then RGB per pixel.
        var raw = new byte[Side * (1 + Side * 3)];
        for (var row = 0; row < Side; row++)
        {
            random.NextBytes(raw.AsSpan(row * (1 + Side * 3) + 1, Side * 3));
        }

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(raw);
        }

        var header = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, Side);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), Side);
        header[8] = 8; // bits per sample
        header[9] = 2; // RGB; compression, filter and interlace methods stay 0
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(number, (uint)data.Length);
        png.Write(number);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc(typeAndData));
        png.Write(number);
    }

    private static uint Crc(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
