using System.Globalization;
using System.Text.Json;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// Checks a JSON value against a schema of an OpenAPI 3.1 document, for the schema features AAP's document uses:
/// <c>$ref</c> to components, <c>type</c> (one or a list, <c>null</c> included), <c>properties</c>, <c>required</c>,
/// <c>additionalProperties</c>, <c>items</c>, <c>enum</c>, <c>oneOf</c>/<c>anyOf</c>/<c>allOf</c> and the formats
/// <c>int32</c>, <c>int64</c>, <c>date</c> and <c>date-time</c>. A keyword it does not know fails the check, so a
/// schema it cannot judge is never passed by accident.
/// </summary>
internal sealed class OpenApiSchemaChecker(JsonElement document)
{
    private static readonly HashSet<string> Understood =
    [
        "$ref", "type", "properties", "required", "additionalProperties", "items", "enum", "oneOf", "anyOf", "allOf", "format",
        "description", "readOnly", "nullable", "default", "example", "examples", "title", "pattern", "minimum", "maximum",
        "minLength", "maxLength", "externalDocs", "deprecated",
    ];

    /// <summary>Every way <paramref name="value"/> breaks <paramref name="schema"/>, as "path: reason"; empty when it fits.</summary>
    public List<string> Check(JsonElement value, JsonElement schema)
    {
        var errors = new List<string>();
        Check(value, schema, "$", errors);
        return errors;
    }

    /// <summary>A <c>$ref</c> of the document (<c>#/components/...</c>), resolved.</summary>
    public JsonElement Resolve(string reference)
    {
        reference.ShouldStartWith("#/");
        var node = document;
        foreach (var part in reference[2..].Split('/'))
        {
            node.TryGetProperty(part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal), out node)
                .ShouldBeTrue($"{reference} does not resolve");
        }

        return node;
    }

    private void Check(JsonElement value, JsonElement schema, string at, List<string> errors)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return;
        }

        if (schema.ValueKind == JsonValueKind.False)
        {
            errors.Add($"{at}: no value is allowed here");
            return;
        }

        foreach (var keyword in schema.EnumerateObject().Where(k => !Understood.Contains(k.Name)))
        {
            errors.Add($"{at}: the checker does not know the keyword '{keyword.Name}'");
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            Check(value, Resolve(reference.GetString()!), at, errors);
        }

        if (schema.TryGetProperty("type", out var type) && !TypeFits(value, type, schema))
        {
            errors.Add($"{at}: {value.ValueKind} {Short(value)} is not of type {type}{(schema.TryGetProperty("format", out var f) ? $" ({f})" : "")}");
            return;
        }

        if (schema.TryGetProperty("enum", out var allowed) && !allowed.EnumerateArray().Any(a => JsonElement.DeepEquals(a, value)))
        {
            errors.Add($"{at}: {Short(value)} is not one of {allowed}");
        }

        if (schema.TryGetProperty("allOf", out var all))
        {
            foreach (var part in all.EnumerateArray())
            {
                Check(value, part, at, errors);
            }
        }

        foreach (var keyword in new[] { "oneOf", "anyOf" })
        {
            if (schema.TryGetProperty(keyword, out var choices))
            {
                var fitting = choices.EnumerateArray().Count(c => Check(value, c).Count == 0);
                if (fitting == 0 || (keyword == "oneOf" && fitting > 1))
                {
                    errors.Add($"{at}: {Short(value)} fits {fitting} of the {keyword} choices");
                }
            }
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            CheckObject(value, schema, at, errors);
        }

        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                Check(item, items, $"{at}[{index++}]", errors);
            }
        }
    }

    private void CheckObject(JsonElement value, JsonElement schema, string at, List<string> errors)
    {
        var properties = schema.TryGetProperty("properties", out var declared) ? declared : default;
        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!).Where(name => !value.TryGetProperty(name, out _)))
            {
                errors.Add($"{at}: the required member '{name}' is missing");
            }
        }

        foreach (var member in value.EnumerateObject())
        {
            if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(member.Name, out var memberSchema))
            {
                Check(member.Value, memberSchema, $"{at}.{member.Name}", errors);
            }
            else if (schema.TryGetProperty("additionalProperties", out var additional))
            {
                Check(member.Value, additional, $"{at}.{member.Name}", errors);
            }
            else if (properties.ValueKind == JsonValueKind.Object)
            {
                // Open by default in JSON Schema, but an example member the schema does not name is a typo or a stale example.
                errors.Add($"{at}: the member '{member.Name}' is not in the schema");
            }
        }
    }

    private static bool TypeFits(JsonElement value, JsonElement type, JsonElement schema)
    {
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        var names = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!) : [type.GetString()!];
        return names.Any(name => name switch
        {
            "null" => value.ValueKind == JsonValueKind.Null,
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "object" => value.ValueKind == JsonValueKind.Object,
            "array" => value.ValueKind == JsonValueKind.Array,
            "integer" => value.ValueKind == JsonValueKind.Number && (format == "int32" ? value.TryGetInt32(out _) : value.TryGetInt64(out _)),
            "number" => value.ValueKind == JsonValueKind.Number,
            "string" => value.ValueKind == JsonValueKind.String && FormatFits(value.GetString()!, format),
            _ => false,
        });
    }

    private static bool FormatFits(string text, string? format) => format switch
    {
        "date-time" => DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"], CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        "date" => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        _ => true,
    };

    private static string Short(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length > 60 ? text[..60] + "..." : text;
    }
}
