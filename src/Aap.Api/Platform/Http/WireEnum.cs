using System.Text.Json;

namespace Aap.Api.Platform.Http;

/// <summary>Enum values as they are written on the wire: snake_case (<c>in_progress</c>), exactly.</summary>
internal static class WireEnum
{
    public static T? Parse<T>(string value) where T : struct, Enum
    {
        var wire = value.Trim();
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (JsonNamingPolicy.SnakeCaseLower.ConvertName(candidate.ToString()) == wire)
            {
                return candidate;
            }
        }

        return null;
    }
}
