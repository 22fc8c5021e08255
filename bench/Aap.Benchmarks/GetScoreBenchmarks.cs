using Aap.Toolkit.Games;
using BenchmarkDotNet.Attributes;

namespace Aap.Benchmarks;

/// <summary>
/// <see cref="GameScore.GetScore"/> on a generated game of 50,000 stamps, against the straightforward scan it
/// replaces. Each invocation looks up the same 1,000 offsets spread over the game, so both sides pay for early
/// and late offsets alike; the reported time is per 1,000 lookups.
/// </summary>
[MemoryDiagnoser]
public class GetScoreBenchmarks
{
    private const int Lookups = 1_000;

    private IReadOnlyList<GameStamp> _game = [];
    private int[] _offsets = [];

    [GlobalSetup]
    public void Setup()
    {
        _game = GameGenerator.Generate(new Random(2024));
        var random = new Random(99);
        _offsets = Enumerable.Range(0, Lookups).Select(_ => random.Next(0, _game[^1].Offset + 1)).ToArray();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public int LinearScan()
    {
        var goals = 0;
        foreach (var offset in _offsets)
        {
            var score = ScanForScore(_game, offset);
            goals += score.Home + score.Away;
        }

        return goals;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int BinarySearch()
    {
        var goals = 0;
        foreach (var offset in _offsets)
        {
            var score = GameScore.GetScore(_game, offset);
            goals += score.Home + score.Away;
        }

        return goals;
    }

    private static Score ScanForScore(IReadOnlyList<GameStamp> game, int offset)
    {
        var score = game[0].Score;
        for (var i = 0; i < game.Count && game[i].Offset <= offset; i++)
        {
            score = game[i].Score;
        }

        return score;
    }
}
