namespace Aap.Toolkit.Games;

/// <summary>The score of a game at one moment.</summary>
public sealed record Score(int Home, int Away);
