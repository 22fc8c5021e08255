using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aap.Api.Platform.Http;

/// <summary>
/// JSON merge patch (RFC 7396, <c>application/merge-patch+json</c>) for the flat request contracts of the API: the
/// fields sent replace the current ones, <c>null</c> clears one, fields left out stay. Unknown fields are ignored, as
/// in every other body.
/// </summary>
internal static class MergePatch
{
    public const string MediaType = "application/merge-patch+json";

    public const string NotAnObject = "A merge patch is a JSON object of the fields to change.";

    /// <summary>
    /// The patch applied to the JSON form of <paramref name="current"/> and read back as a <typeparamref name="T"/>,
    /// ready for the same validation as a full replacement; or the field errors of a patch that cannot be read.
    /// </summary>
    public static (T? Merged, FieldErrors Errors) Apply<T>(T current, JsonElement patch, JsonSerializerOptions json)
        where T : class
    {
        var errors = new FieldErrors();
        if (patch.ValueKind != JsonValueKind.Object)
        {
            errors.Add("body", NotAnObject);
            return (null, errors);
        }

        var target = JsonSerializer.SerializeToNode(current, json)!.AsObject();
        foreach (var field in patch.EnumerateObject())
        {
            if (Text(() => field.Name) is { } name && target.ContainsKey(name))
            {
                target[name] = field.Value.ValueKind == JsonValueKind.Null ? null : JsonNode.Parse(field.Value.GetRawText());
            }
        }

        try
        {
            return (target.Deserialize<T>(json), errors);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // A value of the wrong type ("points": "ten") or a string that is no text (a lone surrogate escape).
            var field = (ex as JsonException)?.Path is ['$', '.', .. var rest] ? rest : "body";
            errors.Add(field, "This value has the wrong type.");
            return (null, errors);
        }
    }

    /// <summary>
    /// A string of a patch, or null when it is no text: JSON escapes can spell a lone surrogate (<c>"\ud800"</c>), on
    /// which <see cref="JsonElement.GetString"/> and <see cref="JsonProperty.Name"/> throw. Such a field is invalid
    /// (or, as a name, unknown and ignored) rather than a 500.
    /// </summary>
    public static string? Text(Func<string?> read)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
