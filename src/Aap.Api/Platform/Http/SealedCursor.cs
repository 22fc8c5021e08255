using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace Aap.Api.Platform.Http;

/// <summary>
/// A cursor as a link carries it: bytes sealed with Data Protection (encrypted and authenticated under the key ring
/// every node shares) and written in base64url, so that it is opaque and a changed one is refused.
/// </summary>
internal static class SealedCursor
{
    public static string Seal(IDataProtector protector, byte[] payload) => WebEncoders.Base64UrlEncode(protector.Protect(payload));

    /// <summary>The bytes sealed in <paramref name="cursor"/>; null when it is longer than <paramref name="maxLength"/>, not base64url, changed, or sealed for another purpose or with a key that is gone.</summary>
    public static byte[]? Open(IDataProtector protector, string cursor, int maxLength)
    {
        if (cursor.Length > maxLength)
        {
            return null;
        }

        try
        {
            return protector.Unprotect(WebEncoders.Base64UrlDecode(cursor));
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }
    }
}
