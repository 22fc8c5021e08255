namespace Aap.Toolkit.Games;

/// <summary>
/// Generates a random game as a list of stamps: the same process, constants and probabilities as the
/// original Python generator, so a game made here has the same shape as one made there.
/// </summary>
public static class GameGenerator
{
    /// <summary>How many stamps follow the initial one in a generated game.</summary>
    public const int TimestampsCount = 50_000;

    /// <summary>The chance that a stamp records a goal.</summary>
    public const double ProbabilityScoreChanged = 0.0001;

    /// <summary>The chance that a goal is scored by the home team.</summary>
    public const double ProbabilityHomeScore = 0.45;

    /// <summary>The largest step between the offsets of two consecutive stamps.</summary>
    public const int OffsetMaxStep = 3;

    /// <summary>The stamp every game starts with: offset 0, no goals.</summary>
    public static GameStamp InitialStamp { get; } = new(0, new Score(0, 0));

    /// <summary>
    /// Generates a game: <see cref="InitialStamp"/> followed by <paramref name="count"/> stamps whose offsets
    /// grow by 1 to <see cref="OffsetMaxStep"/> each, and whose score grows by at most one goal each.
    /// </summary>
    /// <param name="random">The source of randomness; a seeded instance gives the same game every time.</param>
    /// <param name="count">How many stamps follow the initial one.</param>
    /// <returns><paramref name="count"/> + 1 stamps, sorted by offset.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static IReadOnlyList<GameStamp> Generate(Random random, int count = TimestampsCount)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(count);

        var stamps = new GameStamp[count + 1];
        stamps[0] = InitialStamp;
        for (var i = 1; i < stamps.Length; i++)
        {
            stamps[i] = NextStamp(random, stamps[i - 1]);
        }

        return stamps;
    }

    // The draws are made in the original's order and with its comparisons (random > 1 - p). The home/away
    // draw is made only when a goal was drawn, as the original's short-circuiting `and` does.
    private static GameStamp NextStamp(Random random, GameStamp previous)
    {
        var scoreChanged = random.NextDouble() > 1 - ProbabilityScoreChanged;
        var homeScored = scoreChanged && random.NextDouble() > 1 - ProbabilityHomeScore;
        var awayScored = scoreChanged && !homeScored;
        var offsetChange = (int)Math.Floor(random.NextDouble() * OffsetMaxStep) + 1;

        return new GameStamp(
            previous.Offset + offsetChange,
            new Score(
                previous.Score.Home + (homeScored ? 1 : 0),
                previous.Score.Away + (awayScored ? 1 : 0)));
    }
}
