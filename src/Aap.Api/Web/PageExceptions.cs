using Microsoft.AspNetCore.Diagnostics;

namespace Aap.Api.Web;

/// <summary>
/// Confines the pages' status-code pages (registered just before) to page requests, so that the API's routes keep
/// the platform's problem+json. An unhandled exception on a page becomes an empty 500, which the status-code pages render as the HTML error page
/// (the platform's exception handler would answer problem+json). The exception is logged here, without its details
/// reaching the browser.
/// </summary>
internal sealed partial class PageExceptions(RequestDelegate next, ILogger<PageExceptions> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!PageRequests.IsPageRequest(context))
        {
            if (context.Features.Get<IStatusCodePagesFeature>() is { } statusCodePages)
            {
                statusCodePages.Enabled = false;
            }

            await next(context);
            return;
        }

        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            LogPageFailed(logger, ex, context.Request.Path);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on page {Path}")]
    private static partial void LogPageFailed(ILogger logger, Exception exception, PathString path);
}
