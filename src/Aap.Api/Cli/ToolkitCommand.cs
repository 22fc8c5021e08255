using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aap.Toolkit.Games;
using Aap.Toolkit.Text;

namespace Aap.Api.Cli;

/// <summary>
/// <c>aap toolkit score</c> and <c>aap toolkit highlighted</c>: the functions of Aap.Toolkit on the command line.
/// Results go to standard output as one line of JSON; bad input is one line on standard error and exit code 1.
/// </summary>
internal static partial class ToolkitCommand
{
    /// <summary>The seed of the generated game when <c>--seed</c> is not given.</summary>
    public const int DefaultSeed = 42;

    private const int Success = 0;
    private const int BadInput = 1;

    /// <param name="input">Where <c>highlighted</c> reads a page given no file; standard input when null.</param>
    public static Command Create(TextReader? input = null) =>
        new("toolkit", "Pure functions of the toolkit: game scores and highlighted numbers.")
        {
            ScoreCommand(),
            HighlightedCommand(input),
        };

    private static Command ScoreCommand()
    {
        var offset = new Option<int>("--offset")
        {
            Description = "The moment to look up, counted from the start of the game.",
            HelpName = "N",
            Required = true,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "The seed of the generated game; ignored with --stamps.",
            HelpName = "S",
            DefaultValueFactory = _ => DefaultSeed,
        };
        var stamps = new Option<FileInfo?>("--stamps")
        {
            Description = """A JSON file of stamps sorted by offset, [{"offset":0,"score":{"home":0,"away":0}}, ...], instead of a generated game.""",
            HelpName = "FILE.json",
        };

        var command = new Command("score", "Print the score of a game at an offset.") { offset, seed, stamps };
        command.SetAction(parse => Run(parse, () =>
        {
            var at = parse.GetValue(offset);
            if (at < 0)
            {
                throw new BadInputException($"--offset must be 0 or more, not {at}.");
            }

            var file = parse.GetValue(stamps);
            var game = file is null ? GameGenerator.Generate(new Random(parse.GetValue(seed))) : ReadStamps(file);
            if (at < game[0].Offset)
            {
                throw new BadInputException($"--offset {at} comes before the first stamp, at offset {game[0].Offset}.");
            }

            var score = GameScore.GetScore(game, at);
            return JsonSerializer.Serialize(new ScoreAtOffset(at, score.Home, score.Away), ToolkitJson.Default.ScoreAtOffset);
        }));
        return command;
    }

    private static Command HighlightedCommand(TextReader? input)
    {
        var color = new Option<string>("--color")
        {
            Description = "The background to look for: a CSS colour name, a hex colour or rgb().",
            HelpName = "C",
            DefaultValueFactory = _ => HighlightedNumbers.DefaultColor,
        };
        var page = new Argument<FileInfo?>("file")
        {
            Description = "The HTML page to read; standard input when left out.",
            Arity = ArgumentArity.ZeroOrOne,
        };

        var command = new Command("highlighted", "Print the numbers an HTML page shows on a background colour.") { color, page };
        command.SetAction(parse => Run(parse, () =>
        {
            var file = parse.GetValue(page);
            var html = file is null ? (input ?? Console.In).ReadToEnd() : File.ReadAllText(file.FullName);
            var wanted = parse.GetValue(color) ?? HighlightedNumbers.DefaultColor;
            try
            {
                return JsonSerializer.Serialize(HighlightedNumbers.Extract(html, wanted), ToolkitJson.Default.IReadOnlyListString);
            }
            catch (ArgumentException)
            {
                // The page is never rejected; only the colour can be.
                throw new BadInputException($"--color '{wanted}' is not a colour: give a CSS colour name, a hex colour or rgb().");
            }
        }));
        return command;
    }

    private static GameStamp[] ReadStamps(FileInfo file)
    {
        GameStamp[]? stamps;
        try
        {
            using var stream = file.OpenRead();
            stamps = JsonSerializer.Deserialize(stream, ToolkitJson.Default.GameStampArray);
        }
        catch (JsonException exception)
        {
            throw new BadInputException($"{file.Name} is not a JSON array of stamps: {exception.Message}");
        }

        if (stamps is null || stamps.Length == 0)
        {
            throw new BadInputException($"{file.Name} holds no stamps.");
        }

        for (var i = 0; i < stamps.Length; i++)
        {
            if (stamps[i] is null)
            {
                throw new BadInputException($"{file.Name}: stamp {i} is null.");
            }

            if (i > 0 && stamps[i].Offset < stamps[i - 1].Offset)
            {
                throw new BadInputException(
                    $"{file.Name} is not sorted by offset: stamp {i} is at {stamps[i].Offset}, after {stamps[i - 1].Offset}.");
            }
        }

        return stamps;
    }

    // Runs an action that prints one line of output, turning bad input into one line on standard error: a
    // command line user gets a reason and an exit code, never a stack trace.
    private static int Run(ParseResult parse, Func<string> action)
    {
        string line;
        try
        {
            line = action();
        }
        catch (Exception exception) when (exception is BadInputException or IOException or UnauthorizedAccessException)
        {
            parse.InvocationConfiguration.Error.WriteLine($"error: {exception.Message.ReplaceLineEndings(" ")}");
            return BadInput;
        }

        parse.InvocationConfiguration.Output.WriteLine(line);
        return Success;
    }

    private sealed class BadInputException(string message) : Exception(message);

    /// <summary>The line <c>aap toolkit score</c> prints.</summary>
    private sealed record ScoreAtOffset(int Offset, int Home, int Away);

    [JsonSourceGenerationOptions(
        PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true)]
    [JsonSerializable(typeof(GameStamp[]))]
    [JsonSerializable(typeof(ScoreAtOffset))]
    [JsonSerializable(typeof(IReadOnlyList<string>))]
    private sealed partial class ToolkitJson : JsonSerializerContext;
}
