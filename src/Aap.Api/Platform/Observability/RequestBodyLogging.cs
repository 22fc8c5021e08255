using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Serilog.Events;

namespace Aap.Api.Platform.Observability;

/// <summary>
/// With <c>Log:RequestBodies</c> on and this source at Debug, one Debug event per request that has a body: JSON and
/// form bodies, up to <c>Log:RequestBodyLimitBytes</c>, with secret fields masked (<see cref="LogRedaction"/>); any
/// other body (multipart uploads, files, plain text) only by content type and length, never its bytes. The body is
/// read from a rewindable buffer and rewound, so the endpoint reads it whole as it would otherwise. Not in the
/// pipeline at all when the setting is off.
/// </summary>
internal sealed class RequestBodyLogging(RequestDelegate next, LogOptions options, Serilog.ILogger logger)
{
    /// <summary>The source context of the body events, to raise to Debug alone under <c>Serilog:MinimumLevel:Override</c>.</summary>
    public const string SourceContext = "Aap.Api.Platform.Observability.RequestBodies";

    private readonly Serilog.ILogger _log = logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, SourceContext);

    public async Task InvokeAsync(HttpContext context)
    {
        if (_log.IsEnabled(LogEventLevel.Debug) && context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            await LogAsync(context);
        }

        await next(context);
    }

    private async Task LogAsync(HttpContext context)
    {
        var request = context.Request;
        var contentType = request.ContentType;
        var json = request.HasJsonContentType();
        var form = !json && MediaType(contentType).Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
        var tooLarge = request.ContentLength > context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (!(json || form) || tooLarge)
        {
            _log.Debug("HTTP {RequestMethod} {RequestPath} request body not logged: {RequestContentType}, {RequestContentLength} bytes",
                request.Method, request.Path.Value, contentType, request.ContentLength);
            return;
        }

        request.EnableBuffering();
        var limit = options.RequestBodyLimitBytes;
        var buffer = new byte[limit + 1];
        var read = 0;
        try
        {
            while (read < buffer.Length)
            {
                var count = await request.Body.ReadAsync(buffer.AsMemory(read), context.RequestAborted);
                if (count == 0)
                {
                    break;
                }

                read += count;
            }
        }
        catch (Exception exception) when (exception is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The endpoint meets the same failure when it reads and answers it as it always has.
            return;
        }
        finally
        {
            request.Body.Position = 0;
        }

        var truncated = read > limit;
        var bytes = buffer.AsSpan(0, Math.Min(read, limit));
        var body = json
            ? LogRedaction.MaskJson(bytes, complete: !truncated) ?? "[not valid JSON]"
            : LogRedaction.RedactForm(Encoding.UTF8.GetString(bytes), truncated);
        _log.Debug("HTTP {RequestMethod} {RequestPath} request body ({RequestContentType}, {RequestContentLength} bytes, truncated {RequestBodyTruncated}): {RequestBody}",
            request.Method, request.Path.Value, contentType, request.ContentLength ?? (truncated ? null : read), truncated, body);
    }

    private static ReadOnlySpan<char> MediaType(string? contentType)
    {
        var type = contentType.AsSpan();
        var semicolon = type.IndexOf(';');
        return (semicolon >= 0 ? type[..semicolon] : type).Trim();
    }
}
