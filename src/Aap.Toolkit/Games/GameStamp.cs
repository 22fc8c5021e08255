namespace Aap.Toolkit.Games;

/// <summary>The score of a game as it stood from <paramref name="Offset"/> on.</summary>
/// <param name="Offset">The moment of the stamp, counted from the start of the game.</param>
/// <param name="Score">The score at that moment.</param>
public sealed record GameStamp(int Offset, Score Score);
