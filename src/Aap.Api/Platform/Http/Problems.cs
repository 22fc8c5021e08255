using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Aap.Api.Platform.Http;

/// <summary>The stable, machine-readable <c>code</c> of every problem response.</summary>
internal static class ProblemCodes
{
    public const string BadRequest = "bad_request";
    public const string ValidationFailed = "validation_failed";
    public const string InvalidJson = "invalid_json";
    public const string InvalidMultipart = "invalid_multipart";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string NotAcceptable = "not_acceptable";
    public const string Conflict = "conflict";
    public const string PreconditionFailed = "precondition_failed";
    public const string PayloadTooLarge = "payload_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string RateLimited = "rate_limited";
    public const string InternalError = "internal_error";
    public const string ServiceUnavailable = "service_unavailable";
    public const string DatabaseUnavailable = "database_unavailable";
    public const string StorageUnavailable = "storage_unavailable";
    public const string InsufficientStorage = "insufficient_storage";

    public static string ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        406 => NotAcceptable,
        409 => Conflict,
        412 => PreconditionFailed,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        422 => ValidationFailed,
        429 => RateLimited,
        503 => ServiceUnavailable,
        507 => InsufficientStorage,
        >= 500 => InternalError,
        _ => BadRequest,
    };
}

/// <summary>Builds RFC 9457 problem results for the expected outcomes of handlers.</summary>
internal static partial class Problems
{
    public static ProblemHttpResult Create(int status, string code, string detail, IDictionary<string, string[]>? errors = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (errors is not null)
        {
            extensions["errors"] = errors;
        }

        return TypedResults.Problem(detail: detail, statusCode: status, extensions: extensions);
    }

    public static ProblemHttpResult NotFound(string what) => Create(StatusCodes.Status404NotFound, ProblemCodes.NotFound, $"{what} was not found.");

    public static ProblemHttpResult Validation(string field, string message) =>
        Create(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "One or more fields are invalid.", new FieldErrors { { field, message } });

    /// <summary>Fills in what every problem carries: <c>code</c>, <c>instance</c>, <c>traceId</c> and a useful <c>detail</c>.</summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var http = context.HttpContext;
        var status = problem.Status ?? http.Response.StatusCode;

        problem.Instance ??= $"{http.Request.PathBase}{http.Request.Path}";
        problem.Title ??= Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        problem.Type ??= $"https://www.rfc-editor.org/rfc/rfc9110#status.{status}";
        // One correlation id, the request id that is also in X-Request-ID and in the logs, under the documented name.
        problem.Extensions.Remove("trace_id");
        problem.Extensions["traceId"] = http.TraceIdentifier;
        if (!problem.Extensions.ContainsKey("code"))
        {
            problem.Extensions["code"] = problem is HttpValidationProblemDetails ? ProblemCodes.ValidationFailed : ProblemCodes.ForStatus(status);
        }

        if (problem is HttpValidationProblemDetails validation)
        {
            problem.Detail ??= "One or more fields are invalid.";
            problem.Title = "Validation failed";
            // The validator reports CLR member paths ("Items[0].DueDate"); clients know the wire names ("items[0].due_date").
            var errors = validation.Errors.ToList();
            validation.Errors.Clear();
            foreach (var (key, messages) in errors)
            {
                validation.Errors[WireName(key)] = messages;
            }
        }

        problem.Detail ??= status switch
        {
            404 => $"Nothing is found at {http.Request.Method} {http.Request.Path}.",
            405 => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
            415 => MediaTypes.SendWhat(http, endpoint: null),
            401 => "Authentication is required.",
            403 => "You are not allowed to do this.",
            _ => null,
        };
    }
}

internal static partial class Problems
{
    internal static string WireName(string memberPath) =>
        string.Join('.', memberPath.Split('.').Select(segment =>
        {
            var bracket = segment.IndexOf('[', StringComparison.Ordinal);
            return bracket < 0
                ? JsonNamingPolicy.SnakeCaseLower.ConvertName(segment)
                : JsonNamingPolicy.SnakeCaseLower.ConvertName(segment[..bracket]) + segment[bracket..];
        }));
}

/// <summary>
/// Turns what escapes a handler into a problem response: bad requests that the framework raises while binding
/// (malformed JSON, wrong types, oversized or unsupported bodies) keep their 4xx status and say what is wrong;
/// a dependency that is down is a 503 naming it (<see cref="DependencyFailures"/>); anything else is a 500 with no
/// internals, logged in full with the request id.
/// </summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (DependencyFailures.Classify(exception) is { } outage)
        {
            LogDependencyDown(outage.Dependency, context.Request.Method, context.Request.Path, context.TraceIdentifier, exception.GetBaseException().Message);
            DependencyFailures.Refuse(context, outage);
            var refusal = new ProblemDetails { Status = outage.Status, Detail = outage.Detail };
            refusal.Extensions["code"] = outage.Code;
            refusal.Extensions["dependency"] = outage.Dependency;
            return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = refusal, Exception = exception });
        }

        var (status, code, detail, errors) = exception is BadHttpRequestException { InnerException: JsonException } &&
            await JsonBodyErrors.DescribeAsync(context, cancellationToken) is { } fields
            ? (400, ProblemCodes.InvalidJson, JsonBodyErrors.Detail(fields), fields)
            : Describe(context, exception);
        if (status >= 500)
        {
            LogUnhandled(exception, context.Request.Method, context.Request.Path, context.TraceIdentifier);
        }
        else
        {
            LogBadRequest(status, context.Request.Method, context.Request.Path, detail);
        }

        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Detail = detail };
        problem.Extensions["code"] = code;
        if (errors is not null)
        {
            problem.Extensions["errors"] = errors;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    private static (int Status, string Code, string Detail, Dictionary<string, string[]>? Errors) Describe(HttpContext context, Exception exception)
    {
        switch (exception)
        {
            case BadHttpRequestException { InnerException: JsonException json }:
                var path = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? null : json.Path;
                var message = path is null
                    ? "The request body is not valid JSON."
                    : $"The value at '{path}' is missing, malformed or of the wrong type.";
                return (400, ProblemCodes.InvalidJson, message, path is null ? null : new() { [JsonField(path)] = [message] });

            case BadHttpRequestException bad when bad.StatusCode == 413:
                return (413, ProblemCodes.PayloadTooLarge, "The request body is larger than this endpoint accepts.", null);

            case BadHttpRequestException bad when bad.StatusCode == 415:
                return (415, ProblemCodes.UnsupportedMediaType, MediaTypes.SendWhat(context, context.Features.Get<IExceptionHandlerFeature>()?.Endpoint) ?? bad.Message, null);

            case BadHttpRequestException bad when bad.StatusCode == 400 && IsMissingBody(bad):
                // "Implicit body inferred for parameter ... but no body was provided", or a body of JSON null.
                return (400, ProblemCodes.BadRequest, context.Request.ContentLength > 0 ? "A JSON body is required: send an object, not null." : "A JSON body is required.", null);

            case BadHttpRequestException bad when BindingFailure().Match(bad.Message) is { Success: true } failure:
                var field = JsonNamingPolicy.SnakeCaseLower.ConvertName(failure.Groups["name"].Value);
                var invalid = $"'{failure.Groups["value"].Value}' is not a valid value for '{field}'.";
                return (400, ProblemCodes.ValidationFailed, invalid, new() { [field] = [invalid] });

            case BadHttpRequestException bad:
                return (bad.StatusCode, ProblemCodes.ForStatus(bad.StatusCode), bad.Message, null);

            case var text when IsUnstorableText(text):
                return (400, ProblemCodes.BadRequest, "A text value contains a NUL character (U+0000), which cannot be stored or searched; remove it.", null);

            case Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException:
                return (409, ProblemCodes.Conflict, "The resource was changed by another request; read it again and retry.", null);

            default:
                return (500, ProblemCodes.InternalError, "An unexpected error occurred. Quote the traceId when reporting it.", null);
        }
    }

    /// <summary>
    /// PostgreSQL refuses a NUL character in any text ("invalid byte sequence for encoding UTF8: 0x00", SQLSTATE 22021),
    /// whether it is stored or only compared; it can only have come from the client, in a query or a body.
    /// </summary>
    private static bool IsUnstorableText(Exception exception) =>
        (exception as System.Data.Common.DbException ?? exception.InnerException as System.Data.Common.DbException) is { } database
        and not Microsoft.Data.Sqlite.SqliteException && IsPostgresNul(database);

    /// <summary>Apart, so that only a database error other than SQLite's loads the PostgreSQL driver (<c>LoadedAssembliesTests</c>).</summary>
    private static bool IsPostgresNul(System.Data.Common.DbException exception) => exception is Npgsql.PostgresException { SqlState: "22021" };

    private static bool IsMissingBody(BadHttpRequestException bad) =>
        bad.Message.StartsWith("Implicit body inferred for parameter", StringComparison.Ordinal) ||
        bad.Message.EndsWith("was not provided from body.", StringComparison.Ordinal);

    /// <summary>"$.items[0].title" -> "items[0].title": the field name as the client wrote it.</summary>
    private static string JsonField(string path) => path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;

    /// <summary>Route and query binding failures: 'Failed to bind parameter "int? Page" from "abc".'</summary>
    [System.Text.RegularExpressions.GeneratedRegex("Failed to bind parameter \"[^\"]*? (?<name>[^\" ]+)\" from \"(?<value>[^\"]*)\"\\.", System.Text.RegularExpressions.RegexOptions.None, 1000)]
    private static partial System.Text.RegularExpressions.Regex BindingFailure();

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path} (request {RequestId})")]
    private partial void LogUnhandled(Exception exception, string method, PathString path, string requestId);

    // A warning without the stack: an outage is not a bug, and it can repeat for every request until the server is back.
    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Dependency} is unavailable: {Method} {Path} refused (request {RequestId}): {Reason}")]
    private partial void LogDependencyDown(string dependency, string method, PathString path, string requestId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bad request {Status} for {Method} {Path}: {Detail}")]
    private partial void LogBadRequest(int status, string method, PathString path, string detail);
}
