using System.Text;
using Aap.Api.Platform.Storage;
using static Aap.Api.Tests.Infrastructure.CraftedImages;

namespace Aap.Api.Tests.Platform.Storage;

/// <summary>
/// The upload scanner follows each image's structure: markup anywhere a browser or an image tool could read it is
/// found, bytes that only occur inside compressed pixel data are not, and the answer never depends on how the
/// upload was split into chunks.
/// </summary>
public sealed class ActiveContentScannerTests
{
    private static readonly int[] ChunkSizes = [1, 2, 3, 5, 7, 13, 14, 15, 64, 1000, 4096, 81920];

    private static readonly byte[] Marked = Filler(64, 30, "<svg");

    public static TheoryData<string, string, byte[], string?> Cases => new()
    {
        // Compressed pixel data is passed over.
        { "PNG with <SVG inside IDAT", "png", PngWithSvgInPixels(), null },
        { "crafted IDAT with <svg", "png", PngWithIdat(Marked), null },
        { "APNG fdAT with <svg", "png", PngWithChunk("fdAT", Marked), null },
        { "JPEG with <svg inside the scan", "jpeg", JpegWithSvgInScan(), null },
        { "JPEG scan with <svg after a restart marker", "jpeg", MinimalJpeg(scan: [0x11, 0xFF, 0xD3, .. Marked, 0xFF, 0x00, 0x22]), null },
        { "GIF image data with <svg", "gif", Gif(pixels: Marked), null },
        { "WebP VP8L data with <svg", "webp", Webp(("VP8L", Marked)), null },
        { "WebP animation frame with <svg", "webp", Webp(("VP8X", new byte[10]), ("ANMF", [.. new byte[16], .. Webp(("VP8 ", Marked))[12..]])), null },

        // Markers too long to turn up by chance are markup even inside pixel data.
        { "crafted IDAT with <script", "png", PngWithIdat(Filler(64, 30, "<script")), "<script" },
        { "JPEG scan with javascript:", "jpeg", MinimalJpeg(scan: [0x11, .. Filler(64, 20, "javascript:"), 0x22]), "javascript:" },
        { "GIF image data with <iframe", "gif", Gif(pixels: Filler(64, 30, "<iframe")), "<iframe" },
        { "WebP VP8L data with <!doctype html", "webp", Webp(("VP8L", Filler(64, 30, "<!doctype html"))), "<!doctype html" },

        // Everything else is searched.
        { "after PNG's IEND", "png", [.. Infrastructure.Images.Png, .. "<script>alert(1)</script>"u8], "<script" },
        { "in a PNG tEXt chunk", "png", PngWithChunk("tEXt", [.. "Comment\0"u8, .. "<html><body>"u8]), "<html" },
        { "in a PNG iTXt chunk", "png", PngWithChunk("iTXt", [.. "XML\0\0\0\0\0"u8, .. "<svg onload=x()>"u8]), "<svg" },
        { "IDAT ending in <sc and its CRC spelling ript", "png", PngWithIdat(Filler(64, 61, "<sc"), "ript"u8.ToArray()), "<script" },
        { "IDAT data starting with <svg", "png", PngWithIdat(Filler(64, 0, "<svg")), "<svg" },
        { "PNG chunk with a broken type, then <svg", "png", [.. Infrastructure.Images.Png[..33], 0, 0, 0, 4, 1, 2, 3, 4, .. Marked], "<svg" },
        { "PNG chunk longer than the file", "png", [.. Infrastructure.Images.Png[..33], 0x7F, 0, 0, 0, .. "IDAT"u8, .. Marked], "<svg" },
        { "after JPEG's EOI", "jpeg", [.. JpegWithSvgInScan(), .. "<html>"u8], "<html" },
        { "in a JPEG COM segment", "jpeg", MinimalJpeg(comment: [.. "<?php system($_GET[0]); ?>"u8]), "<?php" },
        { "JPEG scan ended by a comment with markup", "jpeg", MinimalJpeg(scan: [.. Filler(40, 0, "a"), 0xFF, 0xFE, 0, 8, .. "<svg>\0"u8]), "<svg" },
        { "JPEG scan never closed", "jpeg", MinimalJpeg(scan: Marked)[..^2], "<svg" },
        { "JPEG without a marker where one belongs", "jpeg", [0xFF, 0xD8, 0x00, .. Marked], "<svg" },
        { "in a GIF comment", "gif", Gif(comment: "<iframe src=x>"), "<iframe" },
        { "GIF image data never closed", "gif", Gif(pixels: Marked)[..^2], "<svg" },
        { "after GIF's trailer", "gif", [.. Gif(), .. "javascript:alert(1)"u8], "javascript:" },
        { "in a WebP XMP chunk", "webp", Webp(("VP8L", new byte[40]), ("XMP ", [.. "<x:xmpmeta><script>"u8])), "<script" },
        { "beyond the WebP RIFF size", "webp", [.. Webp(("VP8L", new byte[40])), .. "<body onload=x()>"u8], "<body" },
        { "WebP chunk larger than the RIFF", "webp", [.. "RIFF"u8, 30, 0, 0, 0, .. "WEBPVP8L"u8, 0, 1, 0, 0, .. Marked], "<svg" },

        // Other types are searched whole.
        { "PDF", "pdf", [.. "%PDF-1.4\n"u8, .. Marked], "<svg" },
        { "no type", "", Marked, "<svg" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_same_markup_is_found_however_the_upload_is_split(string why, string type, byte[] content, string? found)
    {
        foreach (var size in ChunkSizes)
        {
            var scanner = new ActiveContentScanner(FileTypes.Find(type));
            for (var at = 0; at < content.Length; at += size)
            {
                scanner.Scan(content.AsSpan(at, Math.Min(size, content.Length - at)));
            }

            scanner.Found.ShouldBe(found, $"{why}, in chunks of {size}");
        }
    }

    [Fact]
    public void A_marker_split_across_chunks_of_a_whole_scan_is_found_in_any_case()
    {
        var scanner = new ActiveContentScanner();

        scanner.Scan("%PDF-1.4 <sCr"u8);
        scanner.Found.ShouldBeNull();
        scanner.Scan("IpT>"u8);

        scanner.Found.ShouldBe("<script");
    }

    [Fact]
    public void Random_pixels_full_of_markup_are_passed_over_in_a_large_png()
    {
        // 2 MB of IDAT data with a marker every 1000 bytes: none is read as markup, and the marker after IEND is.
        var idat = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(new string('x', 500) + "<svg" + new string('x', 496), 2000)));
        byte[] png = [.. PngWithIdat(idat)];
        var scanner = new ActiveContentScanner(FileTypes.Find("png"));
        for (var at = 0; at < png.Length; at += 81920)
        {
            scanner.Scan(png.AsSpan(at, Math.Min(81920, png.Length - at)));
        }

        scanner.Found.ShouldBeNull();
        scanner.Scan("<svg"u8);
        scanner.Found.ShouldBe("<svg");
    }
}
