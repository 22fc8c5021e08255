namespace Aap.Api.Platform.Http;

/// <summary>
/// Gives every request an id: the caller's <c>X-Request-ID</c> when it is a short token, a new one otherwise.
/// It becomes <see cref="HttpContext.TraceIdentifier"/> (so problems carry it as <c>traceId</c>), is on every
/// log event of the request and is returned on every response.
/// </summary>
internal sealed class RequestIdMiddleware(RequestDelegate next)
{
    public const string HeaderName = "X-Request-ID";
    private const int MaxLength = 128;

    public Task InvokeAsync(HttpContext context)
    {
        var requestId = IsAcceptable(context.Request.Headers[HeaderName].ToString())
            ? context.Request.Headers[HeaderName].ToString()
            : Guid.CreateVersion7().ToString("N");
        context.TraceIdentifier = requestId;
        // Set when the response starts, so that error responses (whose headers the exception handler clears) carry it too.
        context.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            context.Response.Headers[HeaderName] = context.TraceIdentifier;
            return Task.CompletedTask;
        }, context);
        return next(context);
    }

    /// <summary>Only printable tokens are echoed back and logged: no header or log injection.</summary>
    internal static bool IsAcceptable(string value) =>
        value.Length is > 0 and <= MaxLength &&
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
