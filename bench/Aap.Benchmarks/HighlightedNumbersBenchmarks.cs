using System.Globalization;
using System.Text;
using Aap.Toolkit.Text;
using BenchmarkDotNet.Attributes;

namespace Aap.Benchmarks;

/// <summary>
/// The parser-based <see cref="HighlightedNumbers.Extract"/> against the original regular expression on a page
/// of about 1 MB, marked up so that both find the same numbers.
/// </summary>
[MemoryDiagnoser]
public class HighlightedNumbersBenchmarks
{
    private string _page = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var page = new StringBuilder("<html><body><table>");
        for (var id = 0; page.Length < 1_000_000; id++)
        {
            var text = id.ToString(CultureInfo.InvariantCulture);
            var cell = id % 5 == 0 ? $"""<span style="background-color:orange">{text}</span>""" : text;
            page.Append("<tr><td>order</td><td>").Append(cell).Append("</td><td>3 items</td></tr>");
        }

        _page = page.Append("</table></body></html>").ToString();
    }

    [Benchmark(Baseline = true)]
    public int Pattern() => HighlightedNumbers.ExtractWithPattern(_page).Count;

    [Benchmark]
    public int Parser() => HighlightedNumbers.Extract(_page).Count;
}
