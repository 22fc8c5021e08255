using System.Net;
using System.Text.Json;
using Aap.Api.Platform.OpenApi;
using Aap.Api.Tests.Infrastructure;

namespace Aap.Api.Tests.Platform;

/// <summary>
/// The OpenAPI document is usable by a newcomer: uploads name their fields, sections come in reading order, bodies
/// require only what must be sent, and the examples are real and valid against their own schemas.
/// </summary>
public sealed class OpenApiDescriptionTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonElement> DocumentAsync()
    {
        using var response = await factory.Client().GetAsync(OpenApiSetup.DocumentPath, Ct);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.JsonAsync();
    }

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject().SelectMany(path => path.Value.EnumerateObject()
            .Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Value.TryGetProperty("responses", out _))
            .Select(o => (path.Name, o.Name, o.Value)));

    [Fact]
    public async Task Every_multipart_operation_describes_an_object_with_its_named_fields()
    {
        var document = await DocumentAsync();
        var multipart = Operations(document)
            .Where(o => o.Operation.TryGetProperty("requestBody", out var body) &&
                        body.GetProperty("content").TryGetProperty("multipart/form-data", out _))
            .ToDictionary(o => $"{o.Method.ToUpperInvariant()} {o.Path}", o => o.Operation.GetProperty("requestBody").GetProperty("content")
                .GetProperty("multipart/form-data").GetProperty("schema"));

        multipart.Keys.ShouldBe(
            ["POST /api/v1/apps/{id}/completions", "POST /api/v1/files", "POST /upload", "POST /api/apps/detail/{app_id}/", "POST /api/v1/admin/imports"],
            ignoreOrder: true);
        foreach (var (operation, schema) in multipart)
        {
            schema.GetProperty("type").GetString().ShouldBe("object", operation);
            schema.GetProperty("properties").EnumerateObject().ShouldNotBeEmpty(operation);
            var declared = schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToList();
            schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()!).ShouldBeSubsetOf(declared, operation);
        }

        Fields(multipart["POST /api/v1/apps/{id}/completions"]).ShouldBe([("screenshot", "string", "binary", true)]);
        Fields(multipart["POST /api/v1/files"]).ShouldBe([("file", "string", "binary", true), ("category", "string", null, false)]);
        Fields(multipart["POST /upload"]).ShouldBe([("file", "string", "binary", true), ("category", "string", null, false)]);
        Fields(multipart["POST /api/apps/detail/{app_id}/"]).ShouldContain(("screenshot", "string", "binary", true));
        Fields(multipart["POST /api/v1/admin/imports"]).Take(2).ShouldBe([("file", "string", "binary", true), ("table", "string", null, true)]);
        document.GetProperty("components").GetProperty("schemas").TryGetProperty("IFormFile", out _).ShouldBeFalse("no body is a bare file any more");
    }

    private static List<(string Name, string Type, string? Format, bool Required)> Fields(JsonElement schema)
    {
        var required = schema.TryGetProperty("required", out var names) ? names.EnumerateArray().Select(n => n.GetString()).ToHashSet() : [];
        return [.. schema.GetProperty("properties").EnumerateObject().Select(p => (
            p.Name,
            p.Value.GetProperty("type").GetString()!,
            p.Value.TryGetProperty("format", out var format) ? format.GetString() : null,
            required.Contains(p.Name)))];
    }

    [Fact]
    public async Task Tags_come_in_reading_order_with_a_description_and_the_seed_dialects_last()
    {
        var document = await DocumentAsync();
        var tags = document.GetProperty("tags").EnumerateArray()
            .Select(t => (Name: t.GetProperty("name").GetString()!, Description: t.TryGetProperty("description", out var d) ? d.GetString() : null))
            .ToList();
        var names = tags.Select(t => t.Name).ToList();

        names.Take(9).ShouldBe(["Status", "Auth", "Me", "Apps", "Completions", "Points", "Todos", "Files", "ISINs"]);
        names.Skip(9).SkipLast(1).ShouldNotBeEmpty();
        names.Skip(9).SkipLast(1).ShouldAllBe(name => name.StartsWith("Admin"));
        names.Skip(9).SkipLast(1).ShouldBe(names.Skip(9).SkipLast(1).Order(StringComparer.Ordinal));
        names[^1].ShouldBe(ReadingOrder.SeedDialects);
        tags.ShouldAllBe(t => !string.IsNullOrWhiteSpace(t.Description));
        tags[^1].Description!.ShouldContain("seed documents");

        var used = Operations(document).SelectMany(o => o.Operation.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!)).ToHashSet();
        used.ShouldBe(names.ToHashSet(), ignoreOrder: true);
    }

    [Fact]
    public async Task Every_operation_has_a_summary_of_its_own_and_a_seed_route_names_its_seed()
    {
        var operations = Operations(await DocumentAsync())
            .Select(o => (Name: $"{o.Method.ToUpperInvariant()} {o.Path}", o.Operation,
                Summary: o.Operation.TryGetProperty("summary", out var summary) ? summary.GetString() : null))
            .ToList();

        operations.Count.ShouldBeGreaterThan(60);
        operations.Where(o => string.IsNullOrWhiteSpace(o.Summary)).Select(o => o.Name).ShouldBeEmpty("every operation says what it does");
        operations.Where(o => o.Summary!.Contains('\n')).Select(o => o.Name).ShouldBeEmpty("a summary is one line");
        operations.GroupBy(o => o.Summary).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(o => o.Name))}")
            .ShouldBeEmpty("no two operations share a summary");

        var seed = operations.Where(o => o.Operation.GetProperty("tags").EnumerateArray().Any(t => t.GetString() == ReadingOrder.SeedDialects)).ToList();
        seed.Count.ShouldBeGreaterThanOrEqualTo(27);
        seed.Where(o => !System.Text.RegularExpressions.Regex.IsMatch(o.Summary!, "^Seed 00[0-4] ")).Select(o => o.Name)
            .ShouldBeEmpty("a seed route says which seed document it answers");
    }

    [Fact]
    public async Task A_request_body_requires_only_what_must_be_sent()
    {
        var schemas = (await DocumentAsync()).GetProperty("components").GetProperty("schemas");
        string[] Required(string name) =>
            schemas.GetProperty(name).TryGetProperty("required", out var required) ? [.. required.EnumerateArray().Select(r => r.GetString()!)] : [];

        Required("LoginRequest").ShouldBeEmpty("any one identifier will do, and the service answers what is missing");
        Required("RegisterRequest").ShouldBeEmpty();
        Required("TodoRequest").ShouldBe(["title"], "a task needs its title, which the record says with [Required]");
        schemas.GetProperty("LoginRequest").GetProperty("properties").GetProperty("identifier").GetProperty("readOnly").GetBoolean()
            .ShouldBeTrue("a computed member is never sent");
        Required("MeResponse").ShouldBe(["id", "role", "created_at", "updated_at"], ignoreOrder: true);
        Required("EnvelopeOfMeResponse").ShouldBe(["data"]);
        Required("PagedEnvelopeOfAppResponse").ShouldBe(["data", "meta"], ignoreOrder: true);
        Required("ProblemDetails").ShouldBe(["type", "title", "status", "detail", "instance", "code", "traceId"], ignoreOrder: true);
    }

    [Fact]
    public async Task The_first_journeys_have_real_examples_and_the_full_problem_shape_is_one_reusable_example()
    {
        var document = await DocumentAsync();
        var byId = Operations(document).ToDictionary(o => o.Operation.GetProperty("operationId").GetString()!, o => o.Operation);
        foreach (var journey in ApiExamples.Journeys)
        {
            byId.ShouldContainKey(journey.OperationId);
            var operation = byId[journey.OperationId];
            if (journey.Request is not null)
            {
                operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").TryGetProperty("example", out _)
                    .ShouldBeTrue(journey.OperationId);
            }

            operation.GetProperty("responses").GetProperty(journey.Status).GetProperty("content").GetProperty("application/json")
                .GetProperty("example").GetProperty("data").ValueKind.ShouldNotBe(JsonValueKind.Null, journey.OperationId);
        }

        var problem = document.GetProperty("components").GetProperty("examples").GetProperty(ApiExamples.ValidationProblem).GetProperty("value");
        foreach (var member in new[] { "type", "title", "status", "detail", "instance", "code", "errors", "traceId" })
        {
            problem.TryGetProperty(member, out _).ShouldBeTrue(member);
        }

        byId["Register"].GetProperty("responses").GetProperty("400").GetProperty("content").GetProperty("application/problem+json")
            .GetProperty("examples").GetProperty("validation_failed").GetProperty("$ref").GetString()
            .ShouldBe($"#/components/examples/{ApiExamples.ValidationProblem}");
    }

    [Fact]
    public async Task Every_example_in_the_document_is_valid_against_its_own_schema()
    {
        var document = await DocumentAsync();
        var checker = new OpenApiSchemaChecker(document);
        var checkedExamples = 0;
        var errors = new List<string>();
        foreach (var (path, method, operation) in Operations(document))
        {
            var media = new List<(string Where, JsonElement Content)>();
            if (operation.TryGetProperty("requestBody", out var body))
            {
                media.Add(($"{method} {path} request", body.GetProperty("content")));
            }

            foreach (var response in operation.GetProperty("responses").EnumerateObject())
            {
                if (response.Value.TryGetProperty("content", out var content))
                {
                    media.Add(($"{method} {path} {response.Name}", content));
                }
            }

            foreach (var (where, content) in media.SelectMany(m => m.Content.EnumerateObject().Select(c => ($"{m.Where} {c.Name}", c.Value))))
            {
                var examples = new List<JsonElement>();
                if (content.TryGetProperty("example", out var example))
                {
                    examples.Add(example);
                }

                if (content.TryGetProperty("examples", out var named))
                {
                    examples.AddRange(named.EnumerateObject().Select(e =>
                        (e.Value.TryGetProperty("$ref", out var reference) ? checker.Resolve(reference.GetString()!) : e.Value).GetProperty("value")));
                }

                foreach (var value in examples)
                {
                    checkedExamples++;
                    errors.AddRange(checker.Check(value, content.GetProperty("schema")).Select(e => $"{where}: {e}"));
                }
            }
        }

        errors.ShouldBeEmpty();
        checkedExamples.ShouldBeGreaterThan(ApiExamples.Journeys.Count * 2);
    }

    [Fact]
    public async Task The_checker_rejects_an_example_that_does_not_fit()
    {
        var document = await DocumentAsync();
        var checker = new OpenApiSchemaChecker(document);
        var me = JsonDocument.Parse("""{"$ref": "#/components/schemas/MeResponse"}""").RootElement;
        var envelope = JsonDocument.Parse("""{"$ref": "#/components/schemas/EnvelopeOfMeResponse"}""").RootElement;

        checker.Check(JsonDocument.Parse("""{"id": "25", "role": "User", "created_at": "2026-01-15T09:30:00Z"}""").RootElement, me)
            .ShouldBe(["$: the required member 'updated_at' is missing", "$.id: String \"25\" is not of type integer (int64)"], ignoreOrder: true);
        checker.Check(JsonDocument.Parse("""{"data": null, "extra": 1}""").RootElement, envelope).ShouldBe(["$: the member 'extra' is not in the schema"]);
        checker.Check(JsonDocument.Parse("""{"status": "later"}""").RootElement, JsonDocument.Parse("""{"$ref": "#/components/schemas/TodoRequest"}""").RootElement)
            .ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Real_responses_of_the_first_journeys_fit_the_schemas_their_examples_are_checked_against()
    {
        var document = await DocumentAsync();
        var checker = new OpenApiSchemaChecker(document);
        JsonElement Schema(string path, string method, string status, string media = "application/json") => document.GetProperty("paths").GetProperty(path)
            .GetProperty(method).GetProperty("responses").GetProperty(status).GetProperty("content").GetProperty(media).GetProperty("schema");

        var account = await factory.RegisterAsync();
        using var client = await factory.ClientForAsync(account);
        using var me = await client.GetAsync("/api/v1/me", Ct);
        using var apps = await client.GetAsync("/api/v1/apps?size=2", Ct);
        using var todo = await client.PostJsonAsync("/api/v1/todos", new { title = "Renew passport", priority = "high", due_date = "2026-12-15" });
        using var invalid = await factory.Client().PostJsonAsync("/api/v1/auth/register", new { email = "x" });

        checker.Check(await me.JsonAsync(), Schema("/api/v1/me", "get", "200")).ShouldBeEmpty();
        checker.Check(await apps.JsonAsync(), Schema("/api/v1/apps", "get", "200")).ShouldBeEmpty();
        checker.Check(await todo.JsonAsync(), Schema("/api/v1/todos", "post", "201")).ShouldBeEmpty();
        checker.Check(await invalid.JsonAsync(), Schema("/api/v1/auth/register", "post", "400", "application/problem+json")).ShouldBeEmpty();
    }
}
