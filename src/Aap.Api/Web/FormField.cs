namespace Aap.Api.Web;

/// <summary>
/// One labelled input of a form, rendered by <c>Pages/Shared/_Field.cshtml</c>: a visible label, the value, and its
/// error next to it (<c>aria-invalid</c>, <c>aria-describedby</c>). <paramref name="Name"/> is the posted name
/// (<c>Input.Login</c>); its id is derived from it. <paramref name="AlertId"/> names an alert that blames this field
/// with others (a refused sign-in blames both fields without saying which): the field is then invalid and described
/// by it.
/// </summary>
internal sealed record FormField(
    string Name, string Label, string? Value, string? Error = null, string Type = "text", string? Autocomplete = null, string? Hint = null,
    bool Required = true, string? AlertId = null)
{
    public string Id => Name.Replace('.', '_').ToLowerInvariant();

    public string ErrorId => Id + "-error";

    public string HintId => Id + "-hint";

    /// <summary>What the input's <c>aria-describedby</c> names: its hint and its error, when it has them.</summary>
    public string? DescribedBy =>
        string.Join(' ', new[] { Hint is null ? null : HintId, Error is null ? null : ErrorId, AlertId }.OfType<string>()) is { Length: > 0 } ids ? ids : null;

    public bool Invalid => Error is not null || AlertId is not null;
}

/// <summary>Field errors of a failure (keyed by JSON name: <c>username</c>) read by form field.</summary>
internal static class FieldErrorsExtensions
{
    public static string? ErrorOf(this IReadOnlyDictionary<string, string[]>? errors, string field) =>
        errors is not null && errors.TryGetValue(field, out var messages) && messages.Length > 0 ? string.Join(" ", messages) : null;
}
