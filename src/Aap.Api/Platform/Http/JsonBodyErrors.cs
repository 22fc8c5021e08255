using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

namespace Aap.Api.Platform.Http;

/// <summary>
/// Keeps a JSON request body readable a second time, so that when binding fails <see cref="JsonBodyErrors"/> can
/// report every bad field instead of the first one the reader met. Only JSON bodies within the request limit are
/// buffered (small ones in memory, larger ones in a temporary file); the limit itself is still Kestrel's.
/// A JSON body declared in a character set that cannot be read (<c>charset=utf-7</c>, an unknown name, an empty one)
/// is refused here with 415: the framework's reader would throw an error that is no client's fault.
/// </summary>
internal sealed class JsonBodyBuffering(RequestDelegate next, IOptions<HttpOptions> options)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return next(context);
        }

        if (UnreadableCharset(request) is { } charset)
        {
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, ProblemCodes.UnsupportedMediaType,
                $"The body's charset '{charset}' cannot be read: send JSON as UTF-8 (charset=utf-8, or no charset).").ExecuteAsync(context);
        }

        if (!(request.ContentLength > options.Value.MaxRequestBodyBytes))
        {
            request.EnableBuffering();
        }

        return next(context);
    }

    /// <summary>
    /// The declared charset when the framework's JSON reader could not decode it (it takes UTF-8 and any encoding the
    /// runtime provides by name), else null. A quoted name (<c>charset="utf-8"</c>, as HTTP allows) is unquoted in the
    /// request's <c>Content-Type</c>, since the framework's reader looks the quotes up as part of the name.
    /// </summary>
    internal static string? UnreadableCharset(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (contentType is null || !contentType.Contains("charset", StringComparison.OrdinalIgnoreCase) ||
            !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var parsed) || !parsed.Charset.HasValue)
        {
            return null;
        }

        var charset = parsed.Charset;
        var quoted = charset.Length >= 2 && charset[0] == '"' && charset[^1] == '"';
        var name = quoted ? charset.Subsegment(1, charset.Length - 2) : charset;
        if (!name.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                _ = System.Text.Encoding.GetEncoding(name.ToString());
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
            {
                return charset.ToString();
            }
        }

        if (quoted)
        {
            parsed.Charset = name;
            request.ContentType = parsed.ToString();
        }

        return null;
    }
}

/// <summary>
/// Describes every field of a JSON body that does not fit the endpoint's request type, one message per field, saying
/// what would fit: the allowed values of an enum, the format of a date, "a whole number".
/// </summary>
internal static class JsonBodyErrors
{
    private const int MaxDepth = 64;

    /// <summary>The field errors of the buffered body, or null when it cannot be judged field by field (not an object, not JSON at all, not buffered).</summary>
    public static async Task<FieldErrors?> DescribeAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var type = BodyType(context);
        var body = context.Request.Body;
        if (type is null || !body.CanSeek)
        {
            return null;
        }

        JsonDocument document;
        try
        {
            body.Position = 0;
            document = await JsonDocument.ParseAsync(body, new JsonDocumentOptions { MaxDepth = MaxDepth }, cancellationToken);
        }
        catch (Exception exception) when (exception is JsonException or BadHttpRequestException or IOException)
        {
            return null;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var options = context.RequestServices.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            var errors = new FieldErrors();
            Check(document.RootElement, options.GetTypeInfo(type), path: "", options, errors);
            return errors.Count == 0 ? null : errors;
        }
    }

    /// <summary>The detail of a problem that carries these field errors.</summary>
    public static string Detail(FieldErrors errors) => errors.Count == 1
        ? $"'{errors.Keys.Single()}': {errors.Values.Single()[0]}"
        : $"{errors.Count} fields are invalid: {string.Join(", ", errors.Keys)}.";

    /// <summary>
    /// The type the endpoint reads its JSON body into (minimal APIs declare it as accepts metadata). The exception
    /// handler runs with the endpoint cleared from the context; its feature keeps the endpoint that failed.
    /// </summary>
    private static Type? BodyType(HttpContext context) =>
        (context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint())?.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()
            .Select(accepts => accepts.RequestType)
            .FirstOrDefault(type => type is not null && type != typeof(JsonElement) && type != typeof(IFormFile));

    private static void Check(JsonElement value, JsonTypeInfo info, string path, JsonSerializerOptions options, FieldErrors errors)
    {
        if (info.Kind == JsonTypeInfoKind.Object && value.ValueKind == JsonValueKind.Object)
        {
            var comparer = options.PropertyNameCaseInsensitive ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
            var seen = new HashSet<string>(comparer);
            foreach (var property in value.EnumerateObject())
            {
                if (info.Properties.FirstOrDefault(p => comparer.Equals(p.Name, property.Name)) is { } known)
                {
                    seen.Add(known.Name);
                    Check(property.Value, options.GetTypeInfo(known.PropertyType), Join(path, known.Name), options, errors);
                }
            }

            foreach (var missing in info.Properties.Where(p => p.IsRequired && !seen.Contains(p.Name)))
            {
                errors.Add(Join(path, missing.Name), "This field is required.");
            }

            return;
        }

        if (info.Kind == JsonTypeInfoKind.Enumerable && value.ValueKind == JsonValueKind.Array && info.ElementType is { } itemType)
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                Check(item, options.GetTypeInfo(itemType), $"{path}[{index++}]", options, errors);
            }

            return;
        }

        try
        {
            JsonSerializer.Deserialize(value, info);
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException or ArgumentException or NotSupportedException)
        {
            errors.Add(path.Length == 0 ? "body" : path, Expected(info, value));
        }
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    /// <summary>What a value of this type looks like, said to whoever sent something else.</summary>
    internal static string Expected(JsonTypeInfo info, JsonElement value)
    {
        var type = Nullable.GetUnderlyingType(info.Type) ?? info.Type;
        var quoted = value.ValueKind == JsonValueKind.String;
        if (type.IsEnum)
        {
            return $"Use one of {string.Join(", ", EnumNames(type))}.";
        }

        if (type == typeof(DateOnly))
        {
            return "Use a date written YYYY-MM-DD, such as 2026-01-31.";
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return "Use a date and time written in ISO 8601, such as 2026-01-31T09:30:00Z.";
        }

        if (type == typeof(TimeOnly))
        {
            return "Use a time written HH:MM:SS, such as 09:30:00.";
        }

        if (type == typeof(Guid))
        {
            return "Use a UUID, such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301.";
        }

        if (type == typeof(bool))
        {
            return quoted ? "Use true or false, without quotes." : "Use true or false.";
        }

        if (type == typeof(string))
        {
            return quoted ? "Use valid Unicode text: the string contains an unpaired surrogate escape." : "Use a string, in double quotes.";
        }

        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) ||
            type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) || type == typeof(sbyte))
        {
            if (value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) && decimal.Truncate(number) == number)
            {
                return $"Use a whole number from {Limit(type, "MinValue")} to {Limit(type, "MaxValue")}.";
            }

            return quoted ? "Use a whole number, without quotes." : "Use a whole number.";
        }

        if (type == typeof(decimal) || type == typeof(double) || type == typeof(float))
        {
            return quoted ? "Use a number, without quotes." : "Use a number.";
        }

        return info.Kind switch
        {
            JsonTypeInfoKind.Enumerable => "Use an array.",
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "Use an object.",
            _ => "The value is malformed or of the wrong type.",
        };
    }

    /// <summary>An enum's values as the JSON options write them (snake_case unless a member names itself).</summary>
    internal static IEnumerable<string> EnumNames(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Select(field =>
            field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(field.Name));

    private static string Limit(Type type, string field) =>
        Convert.ToString(type.GetField(field)!.GetValue(null), CultureInfo.InvariantCulture)!;
}
