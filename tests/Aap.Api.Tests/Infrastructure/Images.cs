using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Aap.Api.Tests.Infrastructure;

/// <summary>Files the tests upload: real image and document bytes, and the multipart parts that carry them.</summary>
public static class Images
{
    /// <summary>A real 1x1 PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    /// <summary>A minimal well-formed PDF.</summary>
    public static readonly byte[] Pdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"u8.ToArray();

    /// <summary>A valid PNG whose bytes (and so whose SHA-256) no other test shares.</summary>
    public static byte[] Screenshot() => [.. Png, .. Encoding.ASCII.GetBytes(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)))];

    /// <summary>A file part of type <paramref name="type"/> (image/png unless told).</summary>
    public static ByteArrayContent Part(byte[] content, string type = "image/png")
    {
        var part = new ByteArrayContent(content);
        part.Headers.ContentType = new MediaTypeHeaderValue(type);
        return part;
    }
}
