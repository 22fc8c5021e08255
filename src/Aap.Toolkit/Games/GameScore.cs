namespace Aap.Toolkit.Games;

/// <summary>Looks up the score of a game at a moment.</summary>
public static class GameScore
{
    /// <summary>
    /// Returns the score at <paramref name="offset"/>: the score of the last stamp whose offset is less than or
    /// equal to <paramref name="offset"/>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// A game is not stamped at every offset: between two stamps the score of the earlier one is in force, so an
    /// offset that has no stamp of its own gets that score. An offset past the last stamp gets the final score.
    /// Where several stamps share an offset, the last of them wins.
    /// </para>
    /// <para>
    /// <paramref name="stamps"/> must be sorted by offset, as <see cref="GameGenerator.Generate"/> makes them;
    /// this is assumed, not checked, so that a lookup is a binary search: O(log n), no copy of the list and no
    /// allocation.
    /// </para>
    /// </remarks>
    /// <param name="stamps">The stamps of one game, sorted by offset.</param>
    /// <param name="offset">The moment to look up, counted from the start of the game.</param>
    /// <returns>The score in force at <paramref name="offset"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stamps"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stamps"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="offset"/> is negative, or comes before the first stamp (a list that does not start at 0).
    /// </exception>
    public static Score GetScore(IReadOnlyList<GameStamp> stamps, int offset)
    {
        ArgumentNullException.ThrowIfNull(stamps);
        if (stamps.Count == 0)
        {
            throw new ArgumentException("A game has at least one stamp.", nameof(stamps));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset < stamps[0].Offset)
        {
            throw new ArgumentOutOfRangeException(
                nameof(offset), offset, $"The first stamp is at offset {stamps[0].Offset}; no score is known before it.");
        }

        // Invariant: stamps[low].Offset <= offset, and every stamp after high is past offset.
        var low = 0;
        var high = stamps.Count - 1;
        while (low < high)
        {
            var middle = low + ((high - low + 1) >> 1);
            if (stamps[middle].Offset <= offset)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return stamps[low].Score;
    }
}
