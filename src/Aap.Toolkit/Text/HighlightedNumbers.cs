using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Aap.Toolkit.Text;

/// <summary>Finds the numbers that an HTML page shows on a given background colour.</summary>
public static partial class HighlightedNumbers
{
    /// <summary>The colour that <see cref="Extract"/> looks for unless told otherwise.</summary>
    public const string DefaultColor = "orange";

    /// <summary>
    /// Returns the numbers written on a <paramref name="color"/> background in <paramref name="html"/>, in
    /// document order.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The page is parsed as a browser would parse it (unclosed and misnested tags included). An element is
    /// highlighted when its own <c>style</c> attribute gives it the colour through <c>background-color</c> or
    /// the <c>background</c> shorthand, in any case and spacing, with <c>!important</c> and other declarations
    /// around it. The colour may be a CSS name, hex (<c>#ffa500</c>, or a short form such as <c>#f80</c> for
    /// <c>#ff8800</c>), <c>rgb(255, 165, 0)</c> or <c>rgb(255 165 0)</c>; <c>hsl()</c> and the other colour
    /// functions are not understood. Colours are compared by value, so <c>orange</c> matches <c>#FFA500</c>;
    /// <c>#fa0</c> is <c>#ffaa00</c>, which is not orange.
    /// </para>
    /// <para>
    /// Only inline styles count: a background that comes from a stylesheet or a class is not seen, and an
    /// element without a highlighting <c>style</c> of its own contributes nothing, whatever its parent looks
    /// like through a stylesheet.
    /// </para>
    /// <para>
    /// The numbers of a highlighted element are the runs of ASCII digits in its text, nested markup included,
    /// as written (<c>007</c> stays <c>007</c>). A run ends where a text node ends, so markup between digits
    /// separates them (<c>6&lt;b&gt;48&lt;/b&gt;</c> gives 6 and 48), and a decimal point or a sign is not part
    /// of a number: <c>3.5</c> gives 3 and 5, as the <c>\d+</c> of <see cref="ExtractWithPattern"/> does. A
    /// highlighted element inside another counts once, with its parent; text inside a child that sets a
    /// background of another colour is left out.
    /// </para>
    /// </remarks>
    /// <param name="html">The page, or a fragment of one.</param>
    /// <param name="color">The background to look for: a CSS colour name, a hex colour or <c>rgb()</c>.</param>
    /// <returns>The numbers as strings, in the order they appear.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="html"/> or <paramref name="color"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="color"/> is not a colour, or is fully transparent.
    /// </exception>
    public static IReadOnlyList<string> Extract(string html, string color = DefaultColor)
    {
        ArgumentNullException.ThrowIfNull(html);
        var target = ParseTargetColor(color);

        using var document = new HtmlParser().ParseDocument(html);
        var numbers = new List<string>();
        IElement? highlighted = null;
        foreach (var element in document.QuerySelectorAll("[style]"))
        {
            // Elements come in document order, so one inside the last highlighted element comes right after it.
            if (highlighted?.Contains(element) == true || !IsHighlighted(element, target))
            {
                continue;
            }

            highlighted = element;
            AddNumbers(element, target, numbers);
        }

        return numbers;
    }

    /// <summary>
    /// Returns the numbers matched by the original regular expression,
    /// <c>(?&lt;=&lt;span style="background-color:orange"&gt;)(\d+)(?=&lt;\/span&gt;)</c>, kept to compare
    /// with <see cref="Extract"/>.
    /// </summary>
    /// <remarks>
    /// It finds a number only when the markup is written exactly so: a <c>span</c> whose only attribute is that
    /// style, in double quotes, lower case and without spaces, holding the digits and nothing else. Spaces, other
    /// attributes or declarations, another way of writing the colour, nested tags or upper case all hide the
    /// number from it.
    /// </remarks>
    /// <param name="html">The text to search.</param>
    /// <returns>The numbers as strings, in the order they appear.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="html"/> is null.</exception>
    /// <exception cref="RegexMatchTimeoutException">One match took longer than a second.</exception>
    public static IReadOnlyList<string> ExtractWithPattern(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        return SeedPattern().Matches(html).Select(match => match.Value).ToArray();
    }

    [GeneratedRegex("""(?<=<span style="background-color:orange">)(\d+)(?=<\/span>)""", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex SeedPattern();

    private static int ParseTargetColor(string color)
    {
        ArgumentNullException.ThrowIfNull(color);
        if (!CssColor.TryParse(color, out var target))
        {
            throw new ArgumentException($"'{color}' is not a CSS colour name, hex colour or rgb() colour.", nameof(color));
        }

        if (target == CssColor.Transparent)
        {
            throw new ArgumentException($"'{color}' is transparent, so nothing can be highlighted with it.", nameof(color));
        }

        return target;
    }

    private static bool IsHighlighted(IElement element, int target) =>
        InlineStyle.BackgroundColor(element.GetAttribute("style") ?? string.Empty) == target;

    // Walks the element's text nodes in document order, leaving out a child that paints another background
    // over it. A stack, not recursion: malformed pages can nest very deeply.
    private static void AddNumbers(IElement highlighted, int target, List<string> numbers)
    {
        var pending = new Stack<INode>();
        pending.Push(highlighted);
        while (pending.TryPop(out var node))
        {
            if (node is IText text)
            {
                AddDigitRuns(text.Data, numbers);
                continue;
            }

            if (node != highlighted && node is IElement element && PaintsOver(element, target))
            {
                continue;
            }

            var children = node.ChildNodes;
            for (var i = children.Length - 1; i >= 0; i--)
            {
                pending.Push(children[i]);
            }
        }
    }

    private static bool PaintsOver(IElement element, int target)
    {
        var style = element.GetAttribute("style");
        if (style is null)
        {
            return false;
        }

        var background = InlineStyle.BackgroundColor(style);
        return background != CssColor.Transparent && background != target;
    }

    private static void AddDigitRuns(string text, List<string> numbers)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var isDigit = i < text.Length && char.IsAsciiDigit(text[i]);
            if (isDigit && start < 0)
            {
                start = i;
            }
            else if (!isDigit && start >= 0)
            {
                numbers.Add(text[start..i]);
                start = -1;
            }
        }
    }
}
