namespace Aap.Api.Platform.Http;

/// <summary>Field errors keyed by the JSON name of the field.</summary>
internal sealed class FieldErrors : Dictionary<string, string[]>
{
    public FieldErrors()
        : base(StringComparer.Ordinal)
    {
    }

    public void Add(string field, string message) =>
        this[field] = TryGetValue(field, out var existing) ? [.. existing, message] : [message];
}
