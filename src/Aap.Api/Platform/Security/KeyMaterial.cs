namespace Aap.Api.Platform.Security;

/// <summary>The one rule for a configured secret key (token signing, link signing): base64 of at least 32 bytes.</summary>
internal static class KeyMaterial
{
    public const int MinBytes = 32;

    /// <summary>The key's bytes, when <paramref name="base64"/> is base64 of at least <see cref="MinBytes"/> bytes.</summary>
    public static bool TryDecode(string? base64, out byte[] bytes)
    {
        bytes = [];
        try
        {
            bytes = Convert.FromBase64String(base64 ?? "");
            return bytes.Length >= MinBytes;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
