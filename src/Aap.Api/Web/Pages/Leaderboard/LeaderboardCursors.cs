using System.Buffers.Binary;
using Aap.Api.Features.Rewards;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.DataProtection;

namespace Aap.Api.Web.Pages.Leaderboard;

/// <summary>
/// The cursors of the leaderboard page's "Next page" and "Previous page" links (<c>?page=N&amp;from=...</c>): the row
/// next to page N in the board's order and the page's number, sealed with Data Protection, so that walking the board
/// page by page reads each page at its row instead of counting the rows before it (the board's deep pages). The page
/// number stays in the link and rules: a cursor written for another page, changed, or from a key that is gone is
/// ignored, and the page is read by its number, so that any such link still shows the page it names.
/// </summary>
internal sealed class LeaderboardCursors(IDataProtectionProvider dataProtection)
{
    public const string Parameter = "from";

    private const byte Version = 1;

    // Version, page, side, points, user id.
    private const int Length = 1 + 4 + 1 + 8 + 8;

    // Longer than any cursor written here: a longer value is not decoded.
    private const int MaxLength = 512;

    private readonly IDataProtector _protector = dataProtection.CreateProtector("Aap.Web.Leaderboard.Cursor.v1");

    /// <summary>The cursor that reads page <paramref name="page"/> from <paramref name="seek"/>'s row.</summary>
    public string Write(int page, LeaderboardSeek seek)
    {
        var payload = new byte[Length];
        payload[0] = Version;
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(1), page);
        payload[5] = seek.Before ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(6), seek.Points);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(14), seek.UserId);
        return SealedCursor.Seal(_protector, payload);
    }

    /// <summary>The row the request's cursor reads page <paramref name="page"/> from; null without one, or when it is not for that page or not ours.</summary>
    public LeaderboardSeek? Read(HttpRequest request, int page)
    {
        var cursor = request.Query[Parameter];
        if (cursor.Count != 1 || cursor[0] is not { Length: > 0 } value || SealedCursor.Open(_protector, value, MaxLength) is not { } payload)
        {
            return null;
        }

        return payload is [Version, ..] && payload.Length == Length && BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(1)) == page && payload[5] <= 1
            ? new LeaderboardSeek(BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(6)), BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(14)), payload[5] == 1)
            : null;
    }
}
