namespace Aap.Toolkit.Text;

/// <summary>Reads the background colour that an element's own <c>style</c> attribute gives it.</summary>
internal static class InlineStyle
{
    private const string ImportantKeyword = "important";

    /// <summary>
    /// Returns the background colour declared by <paramref name="style"/> (the text of a <c>style</c>
    /// attribute), or <see cref="CssColor.Transparent"/> when it declares none.
    /// </summary>
    /// <remarks>
    /// Both <c>background-color</c> and the <c>background</c> shorthand count. As in CSS, the last declaration
    /// wins unless an earlier one is <c>!important</c> and the later one is not, and a <c>background</c>
    /// shorthand without a colour resets the colour to transparent. A value that is not a colour this project
    /// understands (<c>inherit</c>, <c>var(--x)</c>, <c>hsl(...)</c>) counts as transparent.
    /// </remarks>
    public static int BackgroundColor(string style)
    {
        var text = WithoutComments(style);
        var color = CssColor.Transparent;
        var colorIsImportant = false;
        foreach (var declarationRange in SplitTopLevel(text, ";"))
        {
            var declaration = text.AsSpan(declarationRange);
            var colon = declaration.IndexOf(':');
            if (colon < 0)
            {
                continue;
            }

            var property = declaration[..colon].Trim();
            var isShorthand = property.Equals("background", StringComparison.OrdinalIgnoreCase);
            if (!isShorthand && !property.Equals("background-color", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var value = WithoutImportant(declaration[(colon + 1)..], out var isImportant);
            if (isImportant || !colorIsImportant)
            {
                color = isShorthand ? ShorthandColor(value) : ColorOrTransparent(value);
                colorIsImportant |= isImportant;
            }
        }

        return color;
    }

    private static int ColorOrTransparent(ReadOnlySpan<char> value) =>
        CssColor.TryParse(value, out var argb) ? argb : CssColor.Transparent;

    // "background: url(a.png) no-repeat #fa0" gives its colour among images, positions and sizes; only a
    // colour parses as one, so the first token that does is the colour.
    private static int ShorthandColor(ReadOnlySpan<char> value)
    {
        var text = value.ToString();
        foreach (var token in SplitTopLevel(text, " \t\r\n\f,/"))
        {
            if (CssColor.TryParse(text.AsSpan(token), out var argb))
            {
                return argb;
            }
        }

        return CssColor.Transparent;
    }

    private static ReadOnlySpan<char> WithoutImportant(ReadOnlySpan<char> value, out bool isImportant)
    {
        isImportant = false;
        var trimmed = value.TrimEnd();
        if (!trimmed.EndsWith(ImportantKeyword, StringComparison.OrdinalIgnoreCase))
        {
            return trimmed;
        }

        var beforeKeyword = trimmed[..^ImportantKeyword.Length].TrimEnd();
        if (!beforeKeyword.EndsWith('!'))
        {
            return trimmed;
        }

        isImportant = true;
        return beforeKeyword[..^1];
    }

    private static string WithoutComments(string style)
    {
        var start = style.IndexOf("/*", StringComparison.Ordinal);
        if (start < 0)
        {
            return style;
        }

        var builder = new System.Text.StringBuilder(style.Length);
        var position = 0;
        while (start >= 0)
        {
            builder.Append(style, position, start - position).Append(' ');
            var end = style.IndexOf("*/", start + 2, StringComparison.Ordinal);
            position = end < 0 ? style.Length : end + 2;
            start = position < style.Length ? style.IndexOf("/*", position, StringComparison.Ordinal) : -1;
        }

        return builder.Append(style, position, style.Length - position).ToString();
    }

    // Splits on any of the separators, except inside quotes or parentheses, so that "rgb(255, 165, 0)" and
    // "url('a;b')" stay whole. Empty pieces are left out.
    private static List<Range> SplitTopLevel(string text, string separators)
    {
        var pieces = new List<Range>();
        var depth = 0;
        var quote = '\0';
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (depth == 0 && separators.Contains(c, StringComparison.Ordinal))
            {
                AddPiece(start, i);
                start = i + 1;
            }
        }

        AddPiece(start, text.Length);
        return pieces;

        void AddPiece(int from, int to)
        {
            if (to > from)
            {
                pieces.Add(from..to);
            }
        }
    }
}
