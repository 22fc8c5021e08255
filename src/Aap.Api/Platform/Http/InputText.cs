using System.Globalization;

namespace Aap.Api.Platform.Http;

/// <summary>Checks on free text that clients send, shared by every feature that stores names.</summary>
internal static class InputText
{
    /// <summary>Control characters, and format characters: zero-width spaces and joiners, bidi overrides and isolates, BOM.</summary>
    public static bool HasHiddenCharacters(string value) =>
        value.Any(c => char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format);
}
