using Aap.Toolkit.Games;

namespace Aap.Toolkit.Tests;

public sealed class ScoreTests
{
    [Fact]
    public void Scores_with_the_same_goals_are_equal() => new Score(1, 2).ShouldBe(new Score(1, 2));
}
