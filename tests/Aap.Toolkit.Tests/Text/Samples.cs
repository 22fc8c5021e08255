using System.Globalization;
using System.Text;

namespace Aap.Toolkit.Tests.Text;

internal static class Samples
{
    // The text the original regular expression was written for.
    public const string Orders =
        """{"orders":[{"id":1},{"id":2},{"id":3},{"id":4},{"id":5},{"id":6},{"id":7},{"id":8},{"id":9},{"id":10},{"id":11},{"id":648},{"id":649},{"id":650},{"id":651},{"id":652},{"id":653}],"errors":[{"code":3,"message":"[PHP Warning #2] count(): Parameter must be an array or an object that implements Countable (153)"}]}""";

    public static readonly string[] HighlightedIds = ["648", "649", "650", "651", "652", "653"];

    public const string Orange = "background-color:orange";

    // A reconstruction of the page the original meant: the same orders, some ids on an orange background,
    // marked up exactly as its pattern expects.
    public static string OrdersWithHighlightedIds() =>
        HighlightedIds.Aggregate(Orders, (text, id) => text.Replace(
            $$"""{"id":{{id}}}""",
            $$"""{"id":{{Span(Orange, id)}}}""",
            StringComparison.Ordinal));

    public static string Span(string style, string content) => $"<span style=\"{style}\">{content}</span>";

    // About 1 MB of table rows; every fifth id is highlighted, marked up as the original pattern expects.
    public static string LargePage(out int highlightedCount)
    {
        var page = new StringBuilder("<html><body><table>");
        highlightedCount = 0;
        for (var id = 0; page.Length < 1_000_000; id++)
        {
            var cell = id.ToString(CultureInfo.InvariantCulture);
            if (id % 5 == 0)
            {
                cell = Span(Orange, cell);
                highlightedCount++;
            }

            page.Append("<tr><td>order</td><td>").Append(cell).Append("</td><td>3 items</td></tr>");
        }

        return page.Append("</table></body></html>").ToString();
    }
}
