using System.Collections;
using Aap.Toolkit.Games;

namespace Aap.Toolkit.Tests.Games;

public sealed class GameScoreTests
{
    // Stamps at 0, 3, 5 and 9; a home goal lands at 5 and an away goal at 9.
    private static readonly GameStamp[] Game =
    [
        Stamp(0, 0, 0),
        Stamp(3, 0, 0),
        Stamp(5, 1, 0),
        Stamp(9, 1, 1),
    ];

    [Fact]
    public void Offset_zero_gives_the_score_of_the_first_stamp() =>
        GameScore.GetScore(Game, 0).ShouldBe(new Score(0, 0));

    [Fact]
    public void An_offset_that_has_a_stamp_gives_that_stamps_score() =>
        GameScore.GetScore(Game, 5).ShouldBe(new Score(1, 0));

    [Fact]
    public void An_offset_between_two_stamps_gives_the_score_of_the_earlier_stamp() =>
        GameScore.GetScore(Game, 7).ShouldBe(new Score(1, 0));

    [Fact]
    public void The_offset_right_before_a_goal_gives_the_score_without_it() =>
        GameScore.GetScore(Game, 8).ShouldBe(new Score(1, 0));

    [Fact]
    public void The_offset_of_a_goal_gives_the_score_with_it() =>
        GameScore.GetScore(Game, 9).ShouldBe(new Score(1, 1));

    [Fact]
    public void The_last_offset_of_a_generated_game_gives_its_final_score()
    {
        var game = GameGenerator.Generate(new Random(7));

        GameScore.GetScore(game, game[^1].Offset).ShouldBe(game[^1].Score);
    }

    [Fact]
    public void An_offset_past_the_last_stamp_gives_the_final_score() =>
        GameScore.GetScore(Game, int.MaxValue).ShouldBe(new Score(1, 1));

    [Fact]
    public void Stamps_that_share_an_offset_give_the_score_of_the_last_of_them() =>
        GameScore.GetScore([Stamp(0, 0, 0), Stamp(4, 1, 0), Stamp(4, 2, 0), Stamp(6, 2, 0)], 4).ShouldBe(new Score(2, 0));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1_000_000)]
    public void A_game_of_a_single_stamp_has_its_score_at_every_offset(int offset) =>
        GameScore.GetScore([Stamp(0, 2, 1)], offset).ShouldBe(new Score(2, 1));

    [Fact]
    public void A_game_without_goals_is_nil_nil_at_every_offset()
    {
        GameStamp[] goalless = [Stamp(0, 0, 0), Stamp(2, 0, 0), Stamp(3, 0, 0), Stamp(6, 0, 0)];

        Enumerable.Range(0, 10).Select(offset => GameScore.GetScore(goalless, offset)).ShouldAllBe(score => score == new Score(0, 0));
    }

    [Fact]
    public void A_negative_offset_is_rejected() =>
        Should.Throw<ArgumentOutOfRangeException>(() => GameScore.GetScore(Game, -1)).ParamName.ShouldBe("offset");

    [Fact]
    public void An_offset_before_the_first_stamp_of_a_game_that_starts_late_is_rejected() =>
        Should.Throw<ArgumentOutOfRangeException>(() => GameScore.GetScore([Stamp(10, 0, 0)], 9)).ParamName.ShouldBe("offset");

    [Fact]
    public void An_empty_game_is_rejected() =>
        Should.Throw<ArgumentException>(() => GameScore.GetScore([], 0)).ParamName.ShouldBe("stamps");

    [Fact]
    public void A_null_game_is_rejected() =>
        Should.Throw<ArgumentNullException>(() => GameScore.GetScore(null!, 0)).ParamName.ShouldBe("stamps");

    [Fact]
    public void A_generated_game_gives_the_same_scores_as_a_linear_scan()
    {
        var game = GameGenerator.Generate(new Random(2024));
        var offsets = new Random(99);
        var mismatches = new List<int>();

        for (var i = 0; i < 5_000; i++)
        {
            var offset = offsets.Next(0, game[^1].Offset + 10);
            if (GameScore.GetScore(game, offset) != ScanForScore(game, offset))
            {
                mismatches.Add(offset);
            }
        }

        mismatches.ShouldBeEmpty();
    }

    [Fact]
    public void A_lookup_reads_a_logarithmic_number_of_stamps_and_never_enumerates_the_list()
    {
        var game = new IndexOnlyList(GameGenerator.Generate(new Random(2024)));

        GameScore.GetScore(game, 40_000);

        // log2(50,001) is under 16; the first stamp and the answer are read once more each.
        game.Reads.ShouldBeLessThanOrEqualTo(20);
    }

    [Fact]
    public void A_lookup_allocates_nothing()
    {
        var game = GameGenerator.Generate(new Random(2024));
        GameScore.GetScore(game, 1);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var offset = 0; offset < 1_000; offset++)
        {
            GameScore.GetScore(game, offset);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).ShouldBe(0);
    }

    private static GameStamp Stamp(int offset, int home, int away) => new(offset, new Score(home, away));

    private static Score ScanForScore(IReadOnlyList<GameStamp> game, int offset)
    {
        var score = game[0].Score;
        foreach (var stamp in game)
        {
            if (stamp.Offset > offset)
            {
                break;
            }

            score = stamp.Score;
        }

        return score;
    }

    // Counts reads by index and fails on enumeration, so a test can see how a lookup walks the list.
    private sealed class IndexOnlyList(IReadOnlyList<GameStamp> stamps) : IReadOnlyList<GameStamp>
    {
        public int Reads { get; private set; }

        public int Count => stamps.Count;

        public GameStamp this[int index]
        {
            get
            {
                Reads++;
                return stamps[index];
            }
        }

        public IEnumerator<GameStamp> GetEnumerator() => throw new InvalidOperationException("The list was enumerated.");

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
