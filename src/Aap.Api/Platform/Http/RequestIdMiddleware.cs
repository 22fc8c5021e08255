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
        var sent = context.Request.Headers[HeaderName].ToString();
        var requestId = IsAcceptable(sent) ? sent : NewId();
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

    /// <summary>
    /// A new id laid out as a UUID version 7 (RFC 9562: the time in milliseconds first, so ids sort by time, then 74
    /// random bits), in 32 lower-case hex digits. The random bits come from <see cref="Random.Shared"/>: an id must be
    /// unique across nodes, not unguessable, and <see cref="Guid.CreateVersion7()"/> read the kernel's
    /// cryptographic random source, a system call on every request.
    /// </summary>
    internal static string NewId()
    {
        Span<byte> id = stackalloc byte[16];
        Random.Shared.NextBytes(id[6..]);
        var milliseconds = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 5; i >= 0; i--, milliseconds >>= 8)
        {
            id[i] = (byte)milliseconds;
        }

        id[6] = (byte)(0x70 | (id[6] & 0x0F)); // version 7
        id[8] = (byte)(0x80 | (id[8] & 0x3F)); // the RFC's variant
        return Convert.ToHexStringLower(id);
    }

    /// <summary>Only printable tokens are echoed back and logged: no header or log injection.</summary>
    internal static bool IsAcceptable(string value) =>
        value.Length is > 0 and <= MaxLength &&
        value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
