using System.CommandLine;
using System.Text.Json;
using Aap.Api.Cli;
using Aap.Toolkit.Games;

namespace Aap.Api.Tests.Cli;

public sealed class ToolkitCommandTests : IDisposable
{
    private const string Stamps = """
        [
          {"offset": 0, "score": {"home": 0, "away": 0}},
          {"offset": 4, "score": {"home": 1, "away": 0}},
          {"offset": 7, "score": {"home": 1, "away": 1}}
        ]
        """;

    private const string Page = """<p>Order <span style="background-color: orange">648</span>, <b style="background:#00f">7</b></p>""";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("aap-toolkit-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void Score_prints_the_score_at_an_offset_of_the_default_game_as_one_line_of_json()
    {
        var expected = GameScore.GetScore(GameGenerator.Generate(new Random(ToolkitCommand.DefaultSeed)), 60_000);

        var result = Run("score", "--offset", "60000");

        result.ShouldSucceedWith($$"""{"offset":60000,"home":{{expected.Home}},"away":{{expected.Away}}}""");
    }

    [Fact]
    public void Score_generates_the_game_from_the_seed_it_is_given()
    {
        var expected = GameScore.GetScore(GameGenerator.Generate(new Random(5)), 100_000);

        var result = Run("score", "--offset", "100000", "--seed", "5");

        result.ShouldSucceedWith($$"""{"offset":100000,"home":{{expected.Home}},"away":{{expected.Away}}}""");
    }

    [Fact]
    public void Score_reads_stamps_from_a_file_and_gives_the_score_between_two_stamps() =>
        Run("score", "--offset", "6", "--stamps", WriteFile("stamps.json", Stamps))
            .ShouldSucceedWith("""{"offset":6,"home":1,"away":0}""");

    [Fact]
    public void Score_past_the_last_stamp_of_a_file_is_the_final_score() =>
        Run("score", "--offset", "1000", "--stamps", WriteFile("stamps.json", Stamps))
            .ShouldSucceedWith("""{"offset":1000,"home":1,"away":1}""");

    [Fact]
    public void Score_rejects_a_negative_offset() =>
        Run("score", "--offset", "-3").ShouldFailWith("--offset must be 0 or more");

    [Fact]
    public void Score_rejects_an_offset_before_the_first_stamp_of_a_file() =>
        Run("score", "--offset", "2", "--stamps", WriteFile("late.json", """[{"offset":5,"score":{"home":0,"away":0}}]"""))
            .ShouldFailWith("comes before the first stamp");

    [Fact]
    public void Score_reports_a_missing_stamps_file() =>
        Run("score", "--offset", "1", "--stamps", Path.Combine(_folder.FullName, "missing.json")).ShouldFailWith("missing.json");

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"offset":0,"score":{"home":0,"away":0}}""")]
    [InlineData("""[{"offset":0}]""")]
    [InlineData("""[{"offset":0,"score":null}]""")]
    [InlineData("""[{"offset":"zero","score":{"home":0,"away":0}}]""")]
    public void Score_reports_a_stamps_file_that_is_not_an_array_of_stamps(string json) =>
        Run("score", "--offset", "1", "--stamps", WriteFile("bad.json", json)).ShouldFailWith("is not a JSON array of stamps");

    [Theory]
    [InlineData("[]")]
    [InlineData("null")]
    public void Score_reports_a_stamps_file_without_stamps(string json) =>
        Run("score", "--offset", "1", "--stamps", WriteFile("empty.json", json)).ShouldFailWith("holds no stamps");

    [Fact]
    public void Score_reports_a_null_stamp() =>
        Run("score", "--offset", "1", "--stamps", WriteFile("holes.json", """[{"offset":0,"score":{"home":0,"away":0}},null]"""))
            .ShouldFailWith("stamp 1 is null");

    [Fact]
    public void Score_reports_stamps_that_are_not_sorted_by_offset() =>
        Run("score", "--offset", "1", "--stamps", WriteFile("unsorted.json", """
            [{"offset":0,"score":{"home":0,"away":0}},{"offset":9,"score":{"home":0,"away":0}},{"offset":3,"score":{"home":0,"away":0}}]
            """)).ShouldFailWith("is not sorted by offset");

    [Fact]
    public void Score_without_an_offset_is_a_parse_error()
    {
        var result = Run("score");

        result.ExitCode.ShouldBe(1);
        result.Error.ShouldContain("--offset");
    }

    [Fact]
    public void Highlighted_prints_the_orange_numbers_of_a_file_as_a_json_array() =>
        Run("highlighted", WriteFile("page.html", Page)).ShouldSucceedWith("""["648"]""");

    [Fact]
    public void Highlighted_reads_standard_input_when_no_file_is_given() =>
        Run(new StringReader(Page), "highlighted").ShouldSucceedWith("""["648"]""");

    [Fact]
    public void Highlighted_looks_for_the_colour_it_is_given() =>
        Run(new StringReader(Page), "highlighted", "--color", "blue").ShouldSucceedWith("""["7"]""");

    [Fact]
    public void Highlighted_prints_an_empty_array_for_a_page_without_highlighting() =>
        Run(new StringReader("<p>1 2 3</p>"), "highlighted").ShouldSucceedWith("[]");

    [Fact]
    public void Highlighted_rejects_an_unknown_colour() =>
        Run(new StringReader(Page), "highlighted", "--color", "orangish").ShouldFailWith("--color 'orangish' is not a colour");

    [Fact]
    public void Highlighted_reports_a_missing_file() =>
        Run("highlighted", Path.Combine(_folder.FullName, "missing.html")).ShouldFailWith("missing.html");

    private string WriteFile(string name, string content)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static CliResult Run(params string[] args) => Run(new StringReader(string.Empty), args);

    private static CliResult Run(TextReader input, params string[] args)
    {
        var root = new RootCommand { ToolkitCommand.Create(input) };
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exitCode = root.Parse(["toolkit", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });

        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    private sealed record CliResult(int ExitCode, string Output, string Error)
    {
        public void ShouldSucceedWith(string json)
        {
            Error.ShouldBeEmpty();
            ExitCode.ShouldBe(0);
            Output.ShouldBe(json + Environment.NewLine);
            Should.NotThrow(() => JsonDocument.Parse(Output).Dispose());
        }

        // Bad input is one line on standard error, naming the problem, and nothing on standard output.
        public void ShouldFailWith(string reason)
        {
            ExitCode.ShouldBe(1);
            Output.ShouldBeEmpty();
            Error.ShouldStartWith("error: ");
            Error.ShouldContain(reason);
            Error.TrimEnd().ShouldNotContain('\n');
        }
    }
}
