using Aap.Toolkit.Games;

namespace Aap.Toolkit.Tests.Games;

public sealed class GameGeneratorTests
{
    private static readonly IReadOnlyList<GameStamp> Game = GameGenerator.Generate(new Random(2024));

    [Fact]
    public void A_game_starts_at_offset_zero_with_no_goals() =>
        Game[0].ShouldBe(new GameStamp(0, new Score(0, 0)));

    [Fact]
    public void A_game_has_fifty_thousand_stamps_after_the_initial_one_by_default() =>
        Game.Count.ShouldBe(50_001);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(10)]
    public void A_game_has_the_requested_number_of_stamps_after_the_initial_one(int count) =>
        GameGenerator.Generate(new Random(1), count).Count.ShouldBe(count + 1);

    [Fact]
    public void Offsets_grow_by_one_to_three_from_stamp_to_stamp() =>
        Steps(stamp => stamp.Offset).Distinct().Order().ShouldBe([1, 2, 3]);

    [Fact]
    public void Neither_teams_score_ever_falls() =>
        Pairs().ShouldAllBe(pair => pair.Next.Score.Home >= pair.Previous.Score.Home && pair.Next.Score.Away >= pair.Previous.Score.Away);

    [Fact]
    public void At_most_one_goal_is_scored_from_one_stamp_to_the_next() =>
        Steps(stamp => stamp.Score.Home + stamp.Score.Away).ShouldAllBe(goals => goals <= 1);

    [Fact]
    public void The_same_seed_gives_the_same_game() =>
        GameGenerator.Generate(new Random(2024)).ShouldBe(Game);

    [Fact]
    public void A_goal_is_drawn_only_above_one_minus_its_probability()
    {
        // Exactly 1 - p is not a goal (the original compares with >), so the home/away draw is skipped too.
        var random = new ScriptedRandom(1 - GameGenerator.ProbabilityScoreChanged, 0.0);

        GameGenerator.Generate(random, 1)[1].ShouldBe(new GameStamp(1, new Score(0, 0)));
    }

    [Fact]
    public void A_home_goal_is_drawn_above_one_minus_the_home_probability() =>
        GameGenerator.Generate(new ScriptedRandom(0.99995, 0.56, 0.0), 1)[1].ShouldBe(new GameStamp(1, new Score(1, 0)));

    [Fact]
    public void A_goal_that_is_not_home_is_away() =>
        GameGenerator.Generate(new ScriptedRandom(0.99995, 0.5, 0.5), 1)[1].ShouldBe(new GameStamp(2, new Score(0, 1)));

    [Fact]
    public void The_largest_offset_draw_gives_the_largest_step() =>
        GameGenerator.Generate(new ScriptedRandom(0.0, 0.99999), 1)[1].Offset.ShouldBe(GameGenerator.OffsetMaxStep);

    [Fact]
    public void A_negative_count_is_rejected() =>
        Should.Throw<ArgumentOutOfRangeException>(() => GameGenerator.Generate(new Random(1), -1)).ParamName.ShouldBe("count");

    [Fact]
    public void A_null_random_is_rejected() =>
        Should.Throw<ArgumentNullException>(() => GameGenerator.Generate(null!)).ParamName.ShouldBe("random");

    private static IEnumerable<(GameStamp Previous, GameStamp Next)> Pairs() => Game.Zip(Game.Skip(1));

    private static IEnumerable<int> Steps(Func<GameStamp, int> value) =>
        Pairs().Select(pair => value(pair.Next) - value(pair.Previous));

    // Hands out the given draws in order, and fails if the generator draws more than were scripted.
    private sealed class ScriptedRandom(params double[] draws) : Random
    {
        private int _next;

        public override double NextDouble() =>
            _next < draws.Length ? draws[_next++] : throw new InvalidOperationException("More draws than scripted.");
    }
}
