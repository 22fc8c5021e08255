using System.Net;
using System.Text;
using System.Text.Json;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// Hostile input on every operation of the OpenAPI document, as a guest, a user and an admin: path parameters,
/// queries, bodies and content types that no client should send. Whatever comes in, the answer is never a 5xx, and
/// every 4xx is an <c>application/problem+json</c>. Deterministic (one seed) and bounded (a few thousand requests).
/// </summary>
public abstract class ApiFuzzTests(AapFactory factory)
{
    private const int Seed = 20261127;

    /// <summary>How many of an operation's variants each persona sends (picked by the seeded generator).</summary>
    private static readonly Dictionary<string, int> VariantsPerOperation = new() { ["guest"] = 6, ["user"] = 22, ["admin"] = 22 };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly string[] HostilePathValues =
    [
        "0", "-1", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "99999999999999999999999999",
        "1.5", "1e3", "abc", "..%2f..%2fetc%2fpasswd", "%2e%2e", "%00", "%C3%A9%F0%9F%99%82", "%FF%FE", "null", "true",
        new string('9', 4_000), new string('a', 4_000), new string('9', 10_000), new string('a', 10_000),
    ];

    [Fact]
    public async Task No_hostile_request_gets_a_5xx_and_every_4xx_is_a_problem()
    {
        var operations = await OperationsAsync();
        operations.Count.ShouldBeGreaterThan(20, "the OpenAPI document lists the routes");
        var admin = await factory.CreateAdminAsync();
        var user = await factory.RegisterAsync();
        var personas = new (string Name, HttpClient Client)[]
        {
            ("guest", factory.Client()),
            ("user", await factory.ClientForAsync(user)),
            ("admin", await factory.ClientForAsync(admin)),
        };
        var random = new Random(Seed);
        var failures = new List<string>();
        var (sent, rejectedByServer) = (0, 0);
        var statuses = new SortedDictionary<int, int>();
        foreach (var operation in operations)
        {
            var variants = Variants(operation).ToList();
            foreach (var (persona, client) in personas)
            {
                foreach (var variant in variants.OrderBy(_ => random.Next()).Take(VariantsPerOperation[persona]))
                {
                    using var request = variant.Build();
                    using var response = await client.SendAsync(request, Ct);
                    sent++;
                    var status = (int)response.StatusCode;
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                    var mediaType = response.Content.Headers.ContentType?.MediaType;
                    var body = await response.Content.ReadAsStringAsync(Ct);
                    if (RejectedByKestrel(response, body))
                    {
                        rejectedByServer++;
                        continue;
                    }

                    if (status >= 500 || (status >= 400 && mediaType != "application/problem+json"))
                    {
                        failures.Add($"{persona} {operation.Method} {operation.Path} [{variant.Name}] -> {status} {mediaType}: {Truncate(body, 400)}");
                    }
                }
            }
        }

        foreach (var (_, client) in personas)
        {
            client.Dispose();
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{operations.Count} operations, {sent} requests, {rejectedByServer} refused by Kestrel; statuses: " +
            string.Join(", ", statuses.Select(s => $"{s.Key} x{s.Value}")));
        sent.ShouldBeGreaterThan(1000);
        rejectedByServer.ShouldBeLessThan(sent / 10, "most hostile requests reach the application");
        failures.ShouldBeEmpty($"{failures.Count} of {sent} requests:\n" + string.Join("\n", failures.Take(60)));
    }

    [Theory]
    [InlineData("/api/v1/apps?q=%00")]
    [InlineData("/api/v1/apps?category=a%00b")]
    [InlineData("/api/v1/leaderboard?period=%00")]
    public async Task A_NUL_character_in_a_query_is_never_a_500(string url)
    {
        using var client = await factory.ClientForAsync(await factory.RegisterAsync());

        using var response = await client.GetAsync(url, Ct);

        var body = await response.Content.ReadAsStringAsync(Ct);
        response.StatusCode.ShouldBeOneOf([HttpStatusCode.OK, HttpStatusCode.BadRequest], body);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            response.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", body);
        }
    }

    /// <summary>
    /// Kestrel refuses some requests before any application code runs: a request line over its 8 KB limit (414), a
    /// path with an encoded NUL or invalid characters (400), headers over their limit (431). It answers those itself,
    /// with an empty body and without the X-Request-ID that every response of the application carries, and closes
    /// the connection; no middleware can turn them into problems. They are counted, not failed.
    /// </summary>
    private static bool RejectedByKestrel(HttpResponseMessage response, string body) =>
        (int)response.StatusCode is 400 or 414 or 431 && body.Length == 0 && !response.Headers.Contains("X-Request-ID");

    private sealed record Operation(string Method, string Path, IReadOnlyList<string> PathParameters, IReadOnlyList<(string Name, string Type)> Query, IReadOnlyList<string> BodyProperties, bool TakesBody);

    private sealed record Variant(string Name, Func<HttpRequestMessage> Build);

    /// <summary>Every operation of <c>/openapi/v1.json</c>, as the running application documents it.</summary>
    private async Task<List<Operation>> OperationsAsync()
    {
        using var client = factory.Client();
        using var response = await client.GetAsync("/openapi/v1.json", Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var document = await response.JsonAsync();
        var schemas = document.TryGetProperty("components", out var components) && components.TryGetProperty("schemas", out var found) ? found : default;
        var operations = new List<Operation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                var parameters = method.Value.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
                var pathParameters = parameters.Where(p => p.GetProperty("in").GetString() == "path").Select(p => p.GetProperty("name").GetString()!).ToList();
                var query = parameters.Where(p => p.GetProperty("in").GetString() == "query")
                    .Select(p => (p.GetProperty("name").GetString()!, p.TryGetProperty("schema", out var schema) ? TypeOf(schema, schemas) : "string")).ToList();
                var properties = new List<string>();
                var takesBody = method.Value.TryGetProperty("requestBody", out var body);
                if (takesBody && body.TryGetProperty("content", out var content))
                {
                    foreach (var media in content.EnumerateObject())
                    {
                        if (media.Value.TryGetProperty("schema", out var schema) && Resolve(schema, schemas) is { ValueKind: JsonValueKind.Object } resolved &&
                            resolved.TryGetProperty("properties", out var props))
                        {
                            properties.AddRange(props.EnumerateObject().Select(p => p.Name));
                        }
                    }
                }

                operations.Add(new Operation(method.Name.ToUpperInvariant(), path.Name, pathParameters, query, properties.Distinct().ToList(), takesBody));
            }
        }

        // Operations that end the caller's session or account go last, so that the others run with a live account.
        return operations.OrderBy(o => o.Path.Contains("logout", StringComparison.Ordinal) || o.Path.Contains("password", StringComparison.Ordinal) ||
            (o.Method == "DELETE" && o.Path.EndsWith("/me", StringComparison.Ordinal))).ThenBy(o => o.Path, StringComparer.Ordinal).ThenBy(o => o.Method, StringComparer.Ordinal).ToList();
    }

    private static JsonElement Resolve(JsonElement schema, JsonElement schemas)
    {
        if (schema.TryGetProperty("$ref", out var reference) && schemas.ValueKind == JsonValueKind.Object &&
            schemas.TryGetProperty(reference.GetString()!.Split('/')[^1], out var target))
        {
            return target;
        }

        return schema;
    }

    private static string TypeOf(JsonElement schema, JsonElement schemas)
    {
        var resolved = Resolve(schema, schemas);
        if (!resolved.TryGetProperty("type", out var type))
        {
            return "string";
        }

        return type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t != "null") ?? "string"
            : type.GetString() ?? "string";
    }

    /// <summary>The hostile requests for one operation: each changes one thing, the rest stays plausible.</summary>
    private static IEnumerable<Variant> Variants(Operation operation)
    {
        // A well-formed id that names nothing, so that only the hostile part decides the answer.
        var plainPath = Fill(operation.Path, operation.PathParameters, "987654321");
        if (operation.PathParameters.Count > 0)
        {
            foreach (var value in HostilePathValues)
            {
                yield return new Variant($"path {Truncate(value, 20)}", () => new HttpRequestMessage(new HttpMethod(operation.Method), Fill(operation.Path, operation.PathParameters, value)));
            }
        }

        var hugeQuery = new string('q', 6_000);
        yield return Request("unknown query", $"{plainPath}?zz_unknown=1&__proto__=x");
        foreach (var (name, type) in operation.Query)
        {
            yield return Request($"query {name} duplicated", $"{plainPath}?{name}=1&{name}=2&{name}=abc");
            yield return Request($"query {name} huge", $"{plainPath}?{name}={hugeQuery}");
            yield return Request($"query {name} wrong type", $"{plainPath}?{name}={(type is "integer" or "number" or "boolean" ? "abc" : "%FF%FE%00")}");
            yield return Request($"query {name} out of range", $"{plainPath}?{name}=-99999999999999999999999");
        }

        if (!operation.TakesBody && operation.Method is "GET" or "DELETE")
        {
            yield break;
        }

        var oneMegabyte = new string('m', 1024 * 1024);
        var deep = new string('[', 5000) + new string(']', 5000);
        var deepObject = string.Concat(Enumerable.Repeat("{\"a\":", 2000)) + "1" + new string('}', 2000);
        yield return Body("no body", plainPath, null, null);
        yield return Body("empty JSON body", plainPath, "", "application/json");
        yield return Body("null", plainPath, "null", "application/json");
        yield return Body("array", plainPath, "[1, \"two\", null, {}]", "application/json");
        yield return Body("deep array", plainPath, deep, "application/json");
        yield return Body("deep object", plainPath, deepObject, "application/json");
        yield return Body("string", plainPath, "\"hello\"", "application/json");
        yield return Body("1 MB string", plainPath, $"{{\"{(operation.BodyProperties.Count > 0 ? operation.BodyProperties[0] : "name")}\": \"{oneMegabyte}\"}}", "application/json");
        yield return Bytes("invalid UTF-8", plainPath, [.. "{\"name\": \""u8, 0xFF, 0xFE, 0xC3, 0x28, .. "\"}"u8], "application/json");
        foreach (var property in operation.BodyProperties)
        {
            yield return Body($"{property} as object", plainPath, $"{{\"{property}\": {{\"nested\": [1, 2]}}}}", "application/json");
            yield return Body($"{property} as number", plainPath, $"{{\"{property}\": 1e400}}", "application/json");
            yield return Body($"{property} as huge integer", plainPath, $"{{\"{property}\": 99999999999999999999999999}}", "application/json");
            yield return Body($"{property} as unicode", plainPath, $"{{\"{property}\": \"\\u0000\\ud800 \u202e\u00e9\ud83d\ude42\"}}", "application/json");
        }

        yield return Body("no content type", plainPath, "{\"name\": \"x\"}", null);
        yield return Body("text/plain", plainPath, "{\"name\": \"x\"}", "text/plain");
        yield return Body("multipart without boundary", plainPath, "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n", "multipart/form-data");
        yield return Body("JSON as multipart", plainPath, "{\"name\": \"x\"}", "multipart/form-data; boundary=fuzz-boundary");
        yield return Body("form as urlencoded", plainPath, "name=%FF&name=2&" + new string('k', 5000) + "=v", "application/x-www-form-urlencoded");

        Variant Request(string name, string url) => new(name, () => new HttpRequestMessage(new HttpMethod(operation.Method), url));

        Variant Body(string name, string url, string? text, string? contentType) =>
            Bytes(name, url, text is null ? null : Encoding.UTF8.GetBytes(text), contentType);

        Variant Bytes(string name, string url, byte[]? bytes, string? contentType) => new(name, () =>
        {
            var request = new HttpRequestMessage(new HttpMethod(operation.Method), url);
            if (bytes is not null)
            {
                request.Content = new ByteArrayContent(bytes);
                if (contentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
                }
            }

            return request;
        });
    }

    private static string Fill(string template, IReadOnlyList<string> parameters, string value) =>
        parameters.Aggregate(template, (path, name) => path.Replace("{" + name + "}", value, StringComparison.Ordinal));

    private static string Truncate(string text, int length = 300) => text.Length <= length ? text : text[..length] + "...";

    public sealed class OnSqlite(SqliteFactory factory) : ApiFuzzTests(factory), IClassFixture<SqliteFactory>;

    public sealed class OnPostgres(PostgresFactory factory) : ApiFuzzTests(factory), IClassFixture<PostgresFactory>;
}
