using Aap.Toolkit.Text;

namespace Aap.Toolkit.Tests.Text;

// The original regular expression, kept beside the parser: where they agree, and where they part.
public sealed class SeedPatternTests
{
    [Fact]
    public void The_seed_text_has_no_highlighting_so_neither_finds_a_number()
    {
        HighlightedNumbers.Extract(Samples.Orders).ShouldBeEmpty();
        HighlightedNumbers.ExtractWithPattern(Samples.Orders).ShouldBeEmpty();
    }

    [Fact]
    public void The_seed_text_with_ids_in_orange_spans_gives_those_ids_to_both()
    {
        var page = Samples.OrdersWithHighlightedIds();

        HighlightedNumbers.Extract(page).ShouldBe(Samples.HighlightedIds);
        HighlightedNumbers.ExtractWithPattern(page).ShouldBe(Samples.HighlightedIds);
    }

    [Theory]
    [InlineData("""<span style="background-color: orange">42</span>""")]
    [InlineData("""<span style="background-color:orange;">42</span>""")]
    [InlineData("""<span class="id" style="background-color:orange">42</span>""")]
    [InlineData("""<span style='background-color:orange'>42</span>""")]
    [InlineData("""<SPAN STYLE="background-color:orange">42</SPAN>""")]
    [InlineData("""<span style="background-color:ORANGE">42</span>""")]
    [InlineData("""<span style="background-color:#ffa500">42</span>""")]
    [InlineData("""<span style="background:orange">42</span>""")]
    [InlineData("""<b style="background-color:orange">42</b>""")]
    [InlineData("""<span style="background-color:orange"><b>42</b></span>""")]
    [InlineData("""<span style="background-color:orange">Order 42</span>""")]
    [InlineData("""<span style="background-color:orange">42""")]
    public void The_pattern_misses_a_number_the_parser_finds(string html)
    {
        HighlightedNumbers.Extract(html).ShouldBe(["42"]);
        HighlightedNumbers.ExtractWithPattern(html).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""<!-- <span style="background-color:orange">42</span> -->""")]
    [InlineData("""<script>var cell = '<span style="background-color:orange">42</span>';</script>""")]
    [InlineData("""<span style="background-color:orange">42</span>""", "blue")]
    public void The_pattern_finds_a_number_the_parser_does_not_see_on_an_orange_background(string html, string color = "orange")
    {
        HighlightedNumbers.Extract(html, color).ShouldBeEmpty();
        HighlightedNumbers.ExtractWithPattern(html).ShouldBe(["42"]);
    }

    [Fact]
    public void Null_text_is_rejected() =>
        Should.Throw<ArgumentNullException>(() => HighlightedNumbers.ExtractWithPattern(null!)).ParamName.ShouldBe("html");

    [Fact]
    public void A_page_of_a_megabyte_gives_every_highlighted_number()
    {
        var page = Samples.LargePage(out var highlighted);

        HighlightedNumbers.ExtractWithPattern(page).Count.ShouldBe(highlighted);
    }
}
