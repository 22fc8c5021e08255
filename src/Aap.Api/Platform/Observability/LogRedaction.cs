using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Serilog.Events;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// What of a request may reach a log, and in what form: the query string with its secret parameters replaced, a
/// chosen set of headers with credentials replaced, JSON and form bodies with their secret fields masked. One rule
/// decides what is secret (<see cref="IsSecretName"/>), so a query parameter, a form field and a JSON field named alike
/// are treated alike. When in doubt a value is redacted: a harmless value lost from a log costs less than a secret kept.
/// </summary>
internal static class LogRedaction
{
    public const string Redacted = "[redacted]";

    private const string BearerRedacted = "Bearer " + Redacted;
    private const string BasicRedacted = "Basic " + Redacted;

    // Secret wherever they occur in a name: "refresh_token", "accessToken", "X-Amz-Signature", "client_secret".
    private static readonly string[] SecretParts = ["token", "password", "passwd", "secret", "signature", "credential", "session", "apikey"];

    // Secret as a whole word of a name only, so that "keyword" or "signal" stay readable: "key", "api_key", "code", "sig".
    private static readonly HashSet<string> SecretWords = new(StringComparer.Ordinal)
    {
        "key", "code", "sig", "refresh", "pwd", "pin", "otp", "auth", "jwt", "nonce", "ticket",
    };

    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> SecretWordLookup = SecretWords.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Request headers kept in the request event; the rest (and any header not listed) are never logged.</summary>
    public static readonly string[] RequestHeaderNames =
    [
        HeaderNames.Host, HeaderNames.UserAgent, HeaderNames.Referer, HeaderNames.Origin, HeaderNames.Accept,
        HeaderNames.AcceptLanguage, HeaderNames.ContentType, HeaderNames.ContentLength, HeaderNames.IfMatch,
        HeaderNames.IfNoneMatch, "X-Forwarded-For", "X-Forwarded-Proto", HeaderNames.Authorization, HeaderNames.Cookie,
    ];

    /// <summary>Response headers kept in the request event.</summary>
    public static readonly string[] ResponseHeaderNames =
    [
        HeaderNames.ContentType, HeaderNames.ContentLength, HeaderNames.Location, HeaderNames.RetryAfter, HeaderNames.SetCookie,
    ];

    /// <summary>
    /// Whether a parameter or field of this name holds a secret (case-insensitive): a name containing one of
    /// token, password, passwd, secret, signature, credential, session, apikey, or having key, code, sig, refresh,
    /// pwd, pin, otp, auth, jwt, nonce or ticket as one of its words (split at <c>_ - .</c>, spaces and
    /// camelCase humps).
    /// </summary>
    public static bool IsSecretName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        Span<char> lower = name.Length <= 128 ? stackalloc char[name.Length] : new char[name.Length];
        name.ToLowerInvariant(lower);
        foreach (var part in SecretParts)
        {
            if (lower.Contains(part, StringComparison.Ordinal))
            {
                return true;
            }
        }

        var start = -1;
        for (var i = 0; i <= name.Length; i++)
        {
            var letter = i < name.Length && char.IsLetterOrDigit(name[i]);
            var hump = letter && start >= 0 && char.IsUpper(name[i]) && char.IsLower(name[i - 1]);
            if (start >= 0 && (!letter || hump))
            {
                if (SecretWordLookup.Contains(lower[start..i]))
                {
                    return true;
                }

                start = -1;
            }

            if (letter && start < 0)
            {
                start = i;
            }
        }

        return false;
    }

    /// <summary>
    /// A query string (with or without its <c>?</c>) whose secret parameters have their values replaced; the rest is
    /// kept as sent (still percent-encoded).
    /// </summary>
    public static string RedactQuery(string query)
    {
        var prefix = query.StartsWith('?') ? "?" : "";
        return prefix + RedactPairs(query.AsSpan(prefix.Length), dropLast: false);
    }

    /// <summary>An absolute or relative URL whose query and fragment parameters are redacted as <see cref="RedactQuery"/> does.</summary>
    public static string RedactUrl(string url)
    {
        var fragment = url.IndexOf('#', StringComparison.Ordinal);
        var tail = fragment >= 0 ? "#" + RedactPairs(url.AsSpan(fragment + 1), dropLast: false) : "";
        var head = fragment >= 0 ? url[..fragment] : url;
        var question = head.IndexOf('?', StringComparison.Ordinal);
        return (question >= 0 ? head[..question] + RedactQuery(head[question..]) : head) + tail;
    }

    /// <summary><c>Bearer abc</c> becomes <c>Bearer [redacted]</c>: the scheme says how a caller authenticated, the rest is the credential.</summary>
    public static string RedactAuthorization(string value)
    {
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return Redacted;
        }

        // The schemes clients send on nearly every request, as they send them, without a string made per request.
        var scheme = value.AsSpan(0, space);
        return scheme.SequenceEqual("Bearer") ? BearerRedacted
            : scheme.SequenceEqual("Basic") ? BasicRedacted
            : $"{scheme} {Redacted}";
    }

    /// <summary>A <c>Cookie</c> header with every value replaced and the names kept: <c>a=[redacted]; b=[redacted]</c>.</summary>
    public static string RedactCookies(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var part in value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            builder.Append(builder.Length > 0 ? "; " : "").Append(equals >= 0 ? part[..equals] : part).Append('=').Append(Redacted);
        }

        return builder.ToString();
    }

    /// <summary>A <c>Set-Cookie</c> value with the cookie's value replaced; its name and attributes (path, expiry, flags) kept.</summary>
    public static string RedactSetCookie(string value)
    {
        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        var pair = semicolon >= 0 ? value[..semicolon] : value;
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        return (equals >= 0 ? pair[..equals] : pair) + "=" + Redacted + (semicolon >= 0 ? value[semicolon..] : "");
    }

    /// <summary>
    /// The listed request headers that are present, redacted, as the request event's value (an object of a name to a
    /// value, or to a list of values when the header was sent more than once); null when there are none.
    /// </summary>
    /// <remarks>
    /// Built as the log event's own value rather than handed to Serilog as a dictionary to convert: its conversion
    /// (the type's inspection, then each key and value through the conversion rules) was about a twelfth of a cached
    /// page's CPU time. A structure, not a dictionary: the file and the console write both as the same JSON object,
    /// but a <see cref="DictionaryValue"/> copies its pairs into a hash table of its own (its buckets and entries, each
    /// key's hash), and a structure keeps one array: 3% less allocated by a signed-in request, 7% by an anonymous one.
    /// </remarks>
    public static StructureValue? RequestHeaders(IHeaderDictionary headers) => Select(headers, RequestHeaderNames);

    /// <summary>The listed response headers that are present, redacted, as <see cref="RequestHeaders"/> gives them.</summary>
    public static StructureValue? ResponseHeaders(IHeaderDictionary headers) => Select(headers, ResponseHeaderNames);

    [ThreadStatic]
    private static LogEventProperty[]? threadSelected;

    private static StructureValue? Select(IHeaderDictionary headers, string[] names)
    {
        // The headers found go to the thread's scratch array first, so that only their number is allocated below.
        var selected = threadSelected ??= new LogEventProperty[Math.Max(RequestHeaderNames.Length, ResponseHeaderNames.Length)];
        var count = 0;
        for (var n = 0; n < names.Length; n++)
        {
            var name = names[n];
            if (!headers.TryGetValue(name, out var values) || StringValues.IsNullOrEmpty(values))
            {
                continue;
            }

            LogEventPropertyValue value;
            if (values.Count == 1)
            {
                value = new ScalarValue(Redact(name, values[0]!));
            }
            else
            {
                var redacted = new LogEventPropertyValue[values.Count];
                for (var i = 0; i < values.Count; i++)
                {
                    redacted[i] = new ScalarValue(Redact(name, values[i]!));
                }

                value = new SequenceValue(redacted);
            }

            selected[count++] = new LogEventProperty(name, value);
        }

        if (count == 0)
        {
            return null;
        }

        // The structure copies what it is given into an array of its own: a segment is copied once, at its exact size.
        var found = new StructureValue(new ArraySegment<LogEventProperty>(selected, 0, count));
        Array.Clear(selected, 0, count);
        return found;
    }

    private static string Redact(string name, string value) => name switch
    {
        _ when name.Equals(HeaderNames.Authorization, StringComparison.OrdinalIgnoreCase) => RedactAuthorization(value),
        _ when name.Equals(HeaderNames.Cookie, StringComparison.OrdinalIgnoreCase) => RedactCookies(value),
        _ when name.Equals(HeaderNames.SetCookie, StringComparison.OrdinalIgnoreCase) => RedactSetCookie(value),
        _ when name.Equals(HeaderNames.Referer, StringComparison.OrdinalIgnoreCase)
            || name.Equals(HeaderNames.Location, StringComparison.OrdinalIgnoreCase) => RedactUrl(value),
        _ => value,
    };

    /// <summary>
    /// An <c>application/x-www-form-urlencoded</c> body with its secret fields redacted. When the text is only the
    /// start of the body, its last field (perhaps cut in the middle) is left out.
    /// </summary>
    public static string RedactForm(string form, bool truncated) => RedactPairs(form, dropLast: truncated);

    private static string RedactPairs(ReadOnlySpan<char> pairs, bool dropLast)
    {
        var builder = new StringBuilder(pairs.Length);
        var first = true;
        while (!pairs.IsEmpty)
        {
            var ampersand = pairs.IndexOf('&');
            if (ampersand < 0 && dropLast)
            {
                break;
            }

            var pair = ampersand >= 0 ? pairs[..ampersand] : pairs;
            pairs = ampersand >= 0 ? pairs[(ampersand + 1)..] : [];
            var equals = pair.IndexOf('=');
            var name = equals >= 0 ? pair[..equals] : pair;
            builder.Append(first ? "" : "&");
            first = false;
            if (equals >= 0 && IsSecretName(Uri.UnescapeDataString(name.ToString().Replace('+', ' '))))
            {
                builder.Append(name).Append('=').Append(Redacted);
            }
            else
            {
                builder.Append(pair);
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// A JSON body (or its first bytes, when <paramref name="complete"/> is false) written back with the value of every
    /// field whose name is secret replaced, at any depth; an object or array under such a name is replaced whole. A
    /// value cut by the truncation is left out, never written in part. Null when the bytes are not JSON.
    /// </summary>
    public static string? MaskJson(ReadOnlySpan<byte> json, bool complete)
    {
        var output = new ArrayBufferWriter<byte>(json.Length + 16);
        var reader = new Utf8JsonReader(json, isFinalBlock: complete, new JsonReaderState(new JsonReaderOptions { MaxDepth = 64 }));
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var secret = false;
            var skipToDepth = -1;
            try
            {
                while (reader.Read())
                {
                    if (skipToDepth >= 0)
                    {
                        if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray && reader.CurrentDepth == skipToDepth)
                        {
                            skipToDepth = -1;
                        }

                        continue;
                    }

                    switch (reader.TokenType)
                    {
                        case JsonTokenType.PropertyName:
                            var name = reader.GetString()!;
                            writer.WritePropertyName(name);
                            secret = IsSecretName(name);
                            continue;
                        case JsonTokenType.StartObject or JsonTokenType.StartArray when secret:
                            writer.WriteStringValue(Redacted);
                            skipToDepth = reader.CurrentDepth;
                            break;
                        case JsonTokenType.StartObject:
                            writer.WriteStartObject();
                            break;
                        case JsonTokenType.StartArray:
                            writer.WriteStartArray();
                            break;
                        case JsonTokenType.EndObject:
                            writer.WriteEndObject();
                            break;
                        case JsonTokenType.EndArray:
                            writer.WriteEndArray();
                            break;
                        case JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null when secret:
                            writer.WriteStringValue(Redacted);
                            break;
                        case JsonTokenType.String:
                            writer.WriteStringValue(reader.GetString());
                            break;
                        case JsonTokenType.Number:
                            writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                            break;
                        case JsonTokenType.True or JsonTokenType.False:
                            writer.WriteBooleanValue(reader.GetBoolean());
                            break;
                        case JsonTokenType.Null:
                            writer.WriteNullValue();
                            break;
                    }

                    secret = false;
                }
            }
            catch (JsonException)
            {
                return null;
            }
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }
}
