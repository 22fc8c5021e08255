using Aap.Toolkit.Text;

namespace Aap.Toolkit.Tests.Text;

public sealed class HighlightedNumbersTests
{
    [Theory]
    [InlineData("background-color:orange")]
    [InlineData("background-color: orange")]
    [InlineData("  BACKGROUND-COLOR :  Orange  ;")]
    [InlineData("background-color:#ffa500")]
    [InlineData("background-color:#FFA500")]
    [InlineData("background-color:#ffa500ff")]
    [InlineData("background-color:rgb(255, 165, 0)")]
    [InlineData("background-color:rgb(255 165 0)")]
    [InlineData("background-color:RGBA(255,165,0,1)")]
    [InlineData("background-color:rgb(255 165 0 / 100%)")]
    [InlineData("background-color:rgb(100%, 64.7%, 0%)")]
    [InlineData("background-color: orange !important")]
    [InlineData("background-color: orange!IMPORTANT")]
    [InlineData("background:orange")]
    [InlineData("background: url('stripes;1.png') no-repeat center / cover #ffa500")]
    [InlineData("color: black; background-color: orange; font-weight: bold")]
    [InlineData("background-color: /* highlight */ orange")]
    [InlineData("background-color: darkgrey; background-color: orange")]
    public void Every_way_css_allows_to_write_an_orange_background_is_recognised(string style) =>
        HighlightedNumbers.Extract(Samples.Span(style, "42")).ShouldBe(["42"]);

    [Theory]
    [InlineData("""<span style='background-color:orange'>42</span>""")]
    [InlineData("""<span style=background-color:orange>42</span>""")]
    [InlineData("""<span class="id" style="background-color:orange" title="order">42</span>""")]
    [InlineData("""<SPAN STYLE="BACKGROUND-COLOR:ORANGE">42</SPAN>""")]
    [InlineData("""<table><tr><td style="background-color:orange">42</td></tr></table>""")]
    [InlineData("""<p>Order <mark style="background:#FFA500">42</mark> is late</p>""")]
    public void An_orange_background_is_recognised_on_any_element_however_the_tag_is_written(string html) =>
        HighlightedNumbers.Extract(html).ShouldBe(["42"]);

    [Theory]
    [InlineData("color: orange")]
    [InlineData("border: 1px solid orange")]
    [InlineData("background-color: orangered")]
    [InlineData("background-color: #ffa501")]
    [InlineData("background-color: rgba(255, 165, 0, 0.5)")]
    [InlineData("background-color: hsl(39deg 100% 50%)")]
    [InlineData("background-color: orange; background-color: white")]
    [InlineData("background-color: orange; background: url(orange.png)")]
    [InlineData("background-color: var(--orange)")]
    public void A_style_that_does_not_end_with_an_orange_background_gives_nothing(string style) =>
        HighlightedNumbers.Extract(Samples.Span(style, "42")).ShouldBeEmpty();

    [Fact]
    public void An_important_background_wins_over_a_later_one() =>
        HighlightedNumbers.Extract(Samples.Span("background-color: orange !important; background-color: white", "42")).ShouldBe(["42"]);

    [Fact]
    public void Numbers_inside_nested_markup_of_a_highlighted_element_count() =>
        HighlightedNumbers.Extract(Samples.Span(Samples.Orange, "Order <b>No. <i>42</i></b>")).ShouldBe(["42"]);

    [Fact]
    public void A_highlighted_element_inside_another_does_not_count_twice() =>
        HighlightedNumbers.Extract(
                """<div style="background:orange">1 <span style="background-color:#ffa500">2</span> 3</div>""")
            .ShouldBe(["1", "2", "3"]);

    [Fact]
    public void A_child_that_sets_another_background_is_left_out() =>
        HighlightedNumbers.Extract(
                """<div style="background:orange">1 <span style="background-color:white">2</span> 3</div>""")
            .ShouldBe(["1", "3"]);

    [Fact]
    public void A_background_given_by_a_stylesheet_is_not_seen() =>
        HighlightedNumbers.Extract(
                """<style>.hl, .hl span { background-color: orange }</style><div class="hl">1 <span>2</span></div>""")
            .ShouldBeEmpty();

    [Fact]
    public void Numbers_come_in_document_order() =>
        HighlightedNumbers.Extract(
                """<p style="background:orange">30</p><p>5</p><p><b style="background:orange">10 and 20</b></p>""")
            .ShouldBe(["30", "10", "20"]);

    [Fact]
    public void Numbers_keep_their_leading_zeros() =>
        HighlightedNumbers.Extract(Samples.Span("background:orange", "007")).ShouldBe(["007"]);

    [Fact]
    public void A_decimal_point_separates_two_numbers() =>
        HighlightedNumbers.Extract(Samples.Span("background:orange", "3.5")).ShouldBe(["3", "5"]);

    [Fact]
    public void Markup_between_digits_separates_two_numbers() =>
        HighlightedNumbers.Extract(Samples.Span("background:orange", "6<b>48</b>")).ShouldBe(["6", "48"]);

    [Fact]
    public void Digits_that_are_not_ascii_are_not_numbers() =>
        HighlightedNumbers.Extract(Samples.Span("background:orange", "٤٢ 42")).ShouldBe(["42"]);

    [Theory]
    [InlineData("#00f")]
    [InlineData("blue")]
    [InlineData("rgb(0 0 255)")]
    public void Another_colour_can_be_asked_for_in_any_notation(string color) =>
        HighlightedNumbers.Extract(
                """<b style="background:orange">1</b><b style="background:#0000FF">2</b>""",
                color)
            .ShouldBe(["2"]);

    [Theory]
    [InlineData("Orange")]
    [InlineData("#FFA500")]
    [InlineData("rgb(255, 165, 0)")]
    public void A_colour_asked_for_matches_its_other_notations(string color) =>
        HighlightedNumbers.Extract(Samples.Span(Samples.Orange, "42"), color).ShouldBe(["42"]);

    [Fact]
    public void A_short_hex_colour_doubles_each_digit() =>
        HighlightedNumbers.Extract(Samples.Span("background:#fa0", "42"), "#ffaa00").ShouldBe(["42"]);

    [Fact]
    public void The_short_hex_fa0_is_not_orange() =>
        HighlightedNumbers.Extract(Samples.Span("background:#fa0", "42")).ShouldBeEmpty();

    [Fact]
    public void The_grey_spelling_of_a_named_colour_matches_the_gray_one() =>
        HighlightedNumbers.Extract(Samples.Span("background:lightgray", "42"), "lightgrey").ShouldBe(["42"]);

    [Theory]
    [InlineData("")]
    [InlineData("orang")]
    [InlineData("Control")]
    [InlineData("#ffa50")]
    [InlineData("rgb(255, 165)")]
    [InlineData("transparent")]
    public void A_colour_that_is_unknown_or_transparent_is_rejected(string color) =>
        Should.Throw<ArgumentException>(() => HighlightedNumbers.Extract("<p>1</p>", color)).ParamName.ShouldBe("color");

    [Fact]
    public void A_null_colour_is_rejected() =>
        Should.Throw<ArgumentNullException>(() => HighlightedNumbers.Extract("<p>1</p>", null!)).ParamName.ShouldBe("color");

    [Fact]
    public void Null_html_is_rejected() =>
        Should.Throw<ArgumentNullException>(() => HighlightedNumbers.Extract(null!)).ParamName.ShouldBe("html");

    [Theory]
    [InlineData("""<span style="background-color:orange">42""", new[] { "42" })]
    [InlineData("""<p><span style="background-color:orange">42</p>7""", new[] { "42" })]
    [InlineData("""<span style="background-color:orange"><b>4</span>2</b>""", new[] { "4" })]
    [InlineData("""<span style="background-color:orange>42</span>""", new string[0])]
    [InlineData("""</div><span style="background-color:orange">42</i></span>""", new[] { "42" })]
    public void Malformed_html_is_read_as_a_browser_reads_it(string html, string[] expected) =>
        HighlightedNumbers.Extract(html).ShouldBe(expected);

    [Fact]
    public void A_page_of_a_megabyte_gives_every_highlighted_number()
    {
        var page = Samples.LargePage(out var highlighted);

        HighlightedNumbers.Extract(page).Count.ShouldBe(highlighted);
    }
}
