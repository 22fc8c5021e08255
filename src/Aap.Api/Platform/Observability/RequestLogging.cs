using System.Diagnostics;
using Aap.Api.Platform.Security;
using Serilog.Events;
using Serilog.Parsing;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// One event per request, written when the answer is done: method, path, the query string and chosen request and
/// response headers with their secrets redacted (<see cref="LogRedaction"/>), status, duration and, once
/// authentication has run, the user id; the logger's enrichers add the request id, the connection id and the
/// application. Information; Error for a 5xx or an exception that reaches it; Debug for <c>/health</c>.
/// </summary>
/// <remarks>
/// The event's properties go straight into the dictionary the event keeps, made large enough for what the enrichers
/// add, in the order the file shows them. Serilog.AspNetCore's middleware, which this replaces, began a diagnostic
/// context on every request (an <see cref="AsyncLocal{T}"/> set and reset, which copies the execution context twice),
/// concatenated the properties through an iterator and let the event's dictionary grow as the enrichers filled it:
/// about an eighth of what a signed-in request allocated. Nothing in the service sets properties on a diagnostic
/// context, so none is begun.
/// </remarks>
internal sealed class RequestLogging(RequestDelegate next, Serilog.ILogger logger)
{
    /// <summary>The source context of the request events, to set their level alone under <c>Serilog:MinimumLevel:Override</c>.</summary>
    public const string SourceContext = "Aap.Api.Platform.Observability.RequestLogging";

    /// <summary>The properties set here (eight at most) and what the enrichers add (source, request id, connection id, application, request path).</summary>
    private const int Capacity = 16;

    private static readonly MessageTemplate Template =
        new MessageTemplateParser().Parse("HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms");

    private readonly Serilog.ILogger _log = logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, SourceContext);

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        catch (Exception exception) when (Write(context, StatusCodes.Status500InternalServerError, started, exception))
        {
            // Never reached: the event is written by the filter, where the exception is still on its way to the
            // server (which logs it and answers 500), and the filter declines to catch it.
        }

        Write(context, context.Response.StatusCode, started, exception: null);
    }

    private bool Write(HttpContext context, int statusCode, long started, Exception? exception)
    {
        var elapsedMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var level = exception is not null || statusCode >= 500 ? LogEventLevel.Error
            : context.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Debug
            : LogEventLevel.Information;
        if (!_log.IsEnabled(level))
        {
            return false;
        }

        var request = context.Request;
        var properties = new Dictionary<string, LogEventPropertyValue>(Capacity);
        if (context.User.FindFirst(Caller.SubjectClaim)?.Value is { } userId)
        {
            properties.Add("UserId", new ScalarValue(userId));
        }

        if (request.QueryString.HasValue)
        {
            properties.Add("QueryString", new ScalarValue(LogRedaction.RedactQuery(request.QueryString.Value!)));
        }

        if (LogRedaction.RequestHeaders(request.Headers) is { } requestHeaders)
        {
            properties.Add("RequestHeaders", requestHeaders);
        }

        if (LogRedaction.ResponseHeaders(context.Response.Headers) is { } responseHeaders)
        {
            properties.Add("ResponseHeaders", responseHeaders);
        }

        properties.Add("RequestMethod", new ScalarValue(request.Method));
        properties.Add("RequestPath", new ScalarValue(request.Path.Value ?? string.Empty));
        properties.Add("StatusCode", new ScalarValue(statusCode));
        properties.Add("Elapsed", new ScalarValue(elapsedMs));
        var activity = Activity.Current;
        _log.Write(LogEvent.UnstableAssembleFromParts(
            DateTimeOffset.Now, level, exception, Template, properties, activity?.TraceId ?? default, activity?.SpanId ?? default));
        return false;
    }
}
