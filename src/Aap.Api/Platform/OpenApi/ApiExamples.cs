using System.Text.Json.Nodes;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

/// <summary>
/// Real examples in the document, where the generator can only show <c>{"data": null}</c>: the requests and responses
/// of the first journeys (register, log in, the caller, the catalog, a completion, a task), and the problem shape
/// every error has. The problem schemas gain the members AAP adds to every problem (<c>code</c>, <c>traceId</c>,
/// and <c>errors</c> for validation); the full validation problem is one reusable example that every 400 points to,
/// and every other problem response shows its own status with the same members. Operations are found by their
/// operation id; a test checks that each example is present and valid against its own schema.
/// </summary>
internal static class ApiExamples
{
    public const string ValidationProblem = "ValidationProblem";
    private const string Json = "application/json";
    private const string ProblemJson = "application/problem+json";

    /// <summary>One operation's example: the request body (when it has one) and the response of <paramref name="Status"/>.</summary>
    internal sealed record Journey(string OperationId, string? Request, string Status, string Response);

    private const string Account = """
        {"id": 25, "username": "ada", "email": "ada@example.com", "role": "User",
         "created_at": "2026-01-15T09:30:00Z", "updated_at": "2026-01-15T09:30:00Z"}
        """;

    public static readonly IReadOnlyList<Journey> Journeys =
    [
        new("Register",
            """{"email": "ada@example.com", "username": "ada", "password": "violet kettle harbour"}""",
            "201", $$"""{"data": {{Account}}}"""),
        new("Login",
            """{"login": "ada", "password": "violet kettle harbour"}""",
            "200", """
                   {"data": {"access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiIyNSIsInJvbGUiOiJVc2VyIn0.c2lnbmF0dXJl",
                             "refresh_token": "5f4b32a7-bc21-48a6-8ed4-03da541a63f1", "token_type": "Bearer", "expires_in": 30}}
                   """),
        new("GetMe", null, "200", $$"""{"data": {{Account}}}"""),
        new("ListApps", null, "200", """
            {"data": [
              {"id": 8, "name": "Strava", "link": "https://play.google.com/store/apps/details?id=com.strava", "points": 45,
               "description": "Track runs and rides.", "category": "health", "completed": false,
               "created_at": "2026-01-10T08:00:00Z", "updated_at": "2026-01-10T08:00:00Z"},
              {"id": 7, "name": "Wise", "link": "https://play.google.com/store/apps/details?id=com.transferwise.android", "points": 60,
               "description": "Send money abroad.", "category": "finance", "completed": true,
               "created_at": "2026-01-09T08:00:00Z", "updated_at": "2026-01-09T08:00:00Z"}],
             "meta": {"page": 1, "size": 2, "total": 8, "total_pages": 4}}
            """),
        new("CompleteApp", null, "201", """
            {"data": {"id": 50, "user_id": 25, "app_id": 8, "status": "approved", "flagged": false, "points": 45,
                      "screenshot": "/api/v1/files/50", "review_reason": null, "reviewed_at": "2026-01-15T09:31:00Z",
                      "created_at": "2026-01-15T09:31:00Z"}}
            """),
        new("CreateTodo",
            """{"title": "Renew passport", "description": "Photos first.", "priority": "high", "due_date": "2026-12-15"}""",
            "201", """
                   {"data": {"id": 1, "title": "Renew passport", "description": "Photos first.", "status": "pending", "priority": "high",
                             "due_date": "2026-12-15", "completed_at": null, "created_at": "2026-01-15T09:32:00Z",
                             "updated_at": "2026-01-15T09:32:00Z", "deleted_at": null}}
                   """),
        new("ListIsins", null, "200", """
            {"data": [
              {"isin": "US0378331005", "lei": "HWUPKR0MPOU8FGXBT394", "country": "US", "first_seen": "2026-01-10T04:30:00Z",
               "last_seen": "2026-01-15T04:30:00Z", "removed_at": null},
              {"isin": "US5949181045", "lei": "INR2EJN1ERAN0W5ZP974", "country": "US", "first_seen": "2026-01-10T04:30:00Z",
               "last_seen": "2026-01-15T04:30:00Z", "removed_at": null}],
             "meta": {"page": 1, "size": 2, "total": 1904112, "total_pages": 952056}}
            """),
        new("GetIsin", null, "200", """
            {"data": {"isin": "DE000BAY0017", "lei": "549300J4U55H3WP3XT59", "country": "DE", "first_seen": "2026-01-10T04:30:00Z",
                      "last_seen": "2026-01-15T04:30:00Z", "removed_at": null}}
            """),
    ];

    /// <summary>The full problem shape: a 400 <c>validation_failed</c> with its <c>errors</c> by field.</summary>
    public const string ValidationProblemExample = """
        {"type": "https://tools.ietf.org/html/rfc9110#section-15.5.1", "title": "Bad Request", "status": 400,
         "detail": "The account cannot be created.", "instance": "/api/v1/auth/register", "code": "validation_failed",
         "errors": {"email": ["Enter a valid email address."], "password": ["A password is required."]},
         "traceId": "01a22013ed977ad08093bf8aecbab2a5"}
        """;

    public static Task Apply(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        DescribeProblemMembers(document);
        document.Components ??= new OpenApiComponents();
        document.Components.Examples ??= new Dictionary<string, IOpenApiExample>();
        document.Components.Examples[ValidationProblem] = new OpenApiExample
        {
            Summary = "A validation problem: every field error at once",
            Description = "Every error is application/problem+json with a stable `code` and a `traceId` (the X-Request-ID, also in the logs); " +
                          "a validation problem adds `errors`, the messages by field.",
            Value = JsonNode.Parse(ValidationProblemExample),
        };

        var journeys = Journeys.ToDictionary(j => j.OperationId, StringComparer.Ordinal);
        foreach (var (path, item) in document.Paths ?? [])
        {
            foreach (var operation in item.Operations?.Values.AsEnumerable() ?? [])
            {
                if (operation.OperationId is { } id && journeys.TryGetValue(id, out var journey))
                {
                    if (journey.Request is not null && operation.RequestBody?.Content?.TryGetValue(Json, out var request) == true)
                    {
                        request.Example = JsonNode.Parse(journey.Request);
                    }

                    if (operation.Responses?.TryGetValue(journey.Status, out var response) == true && response.Content?.TryGetValue(Json, out var body) == true)
                    {
                        body.Example = JsonNode.Parse(journey.Response);
                    }
                }

                foreach (var (status, response) in operation.Responses ?? [])
                {
                    if (response.Content?.TryGetValue(ProblemJson, out var problem) == true && int.TryParse(status, out var code))
                    {
                        ShowProblem(problem, code, path, document);
                    }
                }
            }
        }

        return Task.CompletedTask;
    }

    private static void ShowProblem(OpenApiMediaType media, int status, string path, OpenApiDocument document)
    {
        if (status == StatusCodes.Status400BadRequest)
        {
            media.Examples ??= new Dictionary<string, IOpenApiExample>();
            media.Examples[ProblemCodes.ValidationFailed] = new OpenApiExampleReference(ValidationProblem, document);
            return;
        }

        media.Example = new JsonObject
        {
            ["type"] = TypeOf(status),
            ["title"] = ReasonPhrases.GetReasonPhrase(status),
            ["status"] = status,
            ["detail"] = SampleDetail(status),
            ["instance"] = path,
            ["code"] = ProblemCodes.ForStatus(status),
            ["traceId"] = "01a22013ee647a9a8ac5484daf111644",
        };
    }

    /// <summary>The <c>type</c> the framework gives each status (the RFC section that defines it).</summary>
    private static string TypeOf(int status) => status switch
    {
        422 => "https://tools.ietf.org/html/rfc9110#section-15.5.21",
        429 => "https://tools.ietf.org/html/rfc6585#section-4",
        >= 400 and <= 418 => $"https://tools.ietf.org/html/rfc9110#section-15.5.{status - 399}",
        500 => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
        503 => "https://tools.ietf.org/html/rfc9110#section-15.6.4",
        _ => "about:blank",
    };

    private static string SampleDetail(int status) => status switch
    {
        401 => "Authentication is required.",
        403 => "This needs the Admin role.",
        404 => "App 42 was not found.",
        409 => "The request conflicts with the current state.",
        412 => "If-Match does not match the current ETag.",
        413 => "The upload is larger than this endpoint accepts.",
        415 => "Send the body as the content type this endpoint accepts.",
        422 => "The request cannot be processed as sent.",
        429 => "Too many attempts; try again later.",
        _ => ReasonPhrases.GetReasonPhrase(status) + ".",
    };

    /// <summary>What every AAP problem carries beyond RFC 9457's members, and which members are always there.</summary>
    private static void DescribeProblemMembers(OpenApiDocument document)
    {
        foreach (var name in new[] { "ProblemDetails", "HttpValidationProblemDetails" })
        {
            if (document.Components?.Schemas?.TryGetValue(name, out var found) != true || found is not OpenApiSchema schema)
            {
                continue;
            }

            schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
            schema.Properties["code"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "Stable and machine-readable: validation_failed, invalid_json, invalid_multipart, bad_request, unauthorized, " +
                              "invalid_credentials, invalid_refresh_token, forbidden, cross_site_request, not_found, method_not_allowed, " +
                              "conflict, precondition_failed, payload_too_large, unsupported_media_type, rate_limited, internal_error.",
            };
            schema.Properties["traceId"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "The request id: the X-Request-ID response header, and the id of the request in the logs.",
            };
            schema.Properties["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "For validation_failed: the messages by field (snake_case names, as sent).",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            };
            schema.Required = new HashSet<string>(["type", "title", "status", "detail", "instance", "code", "traceId"], StringComparer.Ordinal);
        }
    }
}
