using System.Drawing;
using System.Globalization;

namespace Aap.Toolkit.Text;

/// <summary>
/// Reads a CSS colour value into one 32-bit ARGB number, so that colours written in different ways compare
/// equal: <c>orange</c>, <c>#FFA500</c>, <c>#ffa500ff</c>, <c>rgb(255, 165, 0)</c> and <c>rgb(255 165 0)</c>
/// are all the same value. (A short hex doubles each digit, so <c>#fa0</c> is <c>#ffaa00</c>, not orange.)
/// </summary>
/// <remarks>
/// Understood: the CSS named colours, hex in 3, 4, 6 or 8 digits, and <c>rgb()</c>/<c>rgba()</c> in the comma
/// and the space syntax, with numbers or percentages and an optional alpha. Not understood (so never equal to
/// anything): <c>hsl()</c>, <c>hwb()</c>, <c>currentcolor</c>, <c>var()</c> and the other colour functions.
/// </remarks>
internal static class CssColor
{
    /// <summary>The value of every fully transparent colour, whatever its red, green and blue.</summary>
    public const int Transparent = 0;

    public static bool TryParse(ReadOnlySpan<char> text, out int argb)
    {
        text = text.Trim();
        argb = Transparent;
        if (text.IsEmpty)
        {
            return false;
        }

        if (text[0] == '#')
        {
            return TryParseHex(text[1..], out argb);
        }

        return text[^1] == ')' ? TryParseRgbFunction(text, out argb) : TryParseName(text, out argb);
    }

    // The CSS named colours are the web colours System.Drawing knows, less its Windows system colours, plus
    // CSS's "grey" spellings, which System.Drawing knows only as "gray".
    private static bool TryParseName(ReadOnlySpan<char> name, out int argb)
    {
        argb = Transparent;
        if (name.Length > 32 || !IsAsciiLetters(name))
        {
            return false;
        }

        var color = Color.FromName(name.ToString().Replace("grey", "gray", StringComparison.OrdinalIgnoreCase));
        if (!color.IsKnownColor || color.IsSystemColor)
        {
            return false;
        }

        argb = Normalize(color.ToArgb());
        return true;
    }

    private static bool TryParseHex(ReadOnlySpan<char> digits, out int argb)
    {
        argb = Transparent;
        if (digits.Length is not (3 or 4 or 6 or 8)
            || !uint.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        var channels = digits.Length switch
        {
            3 => (R: Nibble(value, 2), G: Nibble(value, 1), B: Nibble(value, 0), A: 255),
            4 => (R: Nibble(value, 3), G: Nibble(value, 2), B: Nibble(value, 1), A: Nibble(value, 0)),
            6 => (R: Byte(value, 2), G: Byte(value, 1), B: Byte(value, 0), A: 255),
            _ => (R: Byte(value, 3), G: Byte(value, 2), B: Byte(value, 1), A: Byte(value, 0)),
        };
        argb = Pack(channels.A, channels.R, channels.G, channels.B);
        return true;

        // #fa0 is #ffaa00: each short digit stands for itself twice.
        static int Nibble(uint value, int index) => (int)((value >> (index * 4)) & 0xF) * 0x11;

        static int Byte(uint value, int index) => (int)((value >> (index * 8)) & 0xFF);
    }

    private static bool TryParseRgbFunction(ReadOnlySpan<char> text, out int argb)
    {
        argb = Transparent;
        var open = text.IndexOf('(');
        if (open < 0)
        {
            return false;
        }

        var name = text[..open].Trim();
        if (!name.Equals("rgb", StringComparison.OrdinalIgnoreCase)
            && !name.Equals("rgba", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // rgb(255, 165, 0, 0.5) and rgb(255 165 0 / 50%) both become four parts; a missing alpha is opaque.
        var arguments = text[(open + 1)..^1].ToString();
        var parts = arguments.Contains(',', StringComparison.Ordinal)
            ? arguments.Split(',', StringSplitOptions.TrimEntries)
            : arguments.Replace("/", " / ", StringComparison.Ordinal)
                .Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 5 && parts[3] == "/")
        {
            parts = [parts[0], parts[1], parts[2], parts[4]];
        }

        if (parts.Length is not (3 or 4)
            || !TryParseChannel(parts[0], out var r)
            || !TryParseChannel(parts[1], out var g)
            || !TryParseChannel(parts[2], out var b))
        {
            return false;
        }

        var a = 255;
        if (parts.Length == 4 && !TryParseAlpha(parts[3], out a))
        {
            return false;
        }

        argb = Pack(a, r, g, b);
        return true;
    }

    private static bool TryParseChannel(string text, out int channel) => TryParseUnit(text, 255, out channel);

    private static bool TryParseAlpha(string text, out int alpha) => TryParseUnit(text, 1, out alpha);

    // A channel is a number on a scale whose top is numberScale (255 for red, green and blue; 1 for alpha), or a
    // percentage; either is clamped and rounded to 0..255, as browsers do.
    private static bool TryParseUnit(string text, double numberScale, out int value)
    {
        value = 0;
        var isPercentage = text.EndsWith('%');
        var number = isPercentage ? text[..^1] : text;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed)
            || !double.IsFinite(parsed))
        {
            return false;
        }

        var fraction = parsed / (isPercentage ? 100 : numberScale);
        value = (int)Math.Round(Math.Clamp(fraction, 0, 1) * 255, MidpointRounding.AwayFromZero);
        return true;
    }

    private static int Pack(int a, int r, int g, int b) => Normalize((a << 24) | (r << 16) | (g << 8) | b);

    private static int Normalize(int argb) => (argb >>> 24) == 0 ? Transparent : argb;

    private static bool IsAsciiLetters(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }

        return true;
    }
}
