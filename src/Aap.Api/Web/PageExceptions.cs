using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Diagnostics;

namespace Aap.Api.Web;

/// <summary>
/// Confines the pages' status-code pages (registered just before) to page requests, so that the API's routes keep
/// the platform's problem+json. An unhandled exception on a page becomes an empty 500, which the status-code pages render as the HTML error page
/// (the platform's exception handler would answer problem+json); a dependency that is down becomes an empty 503 with
/// <c>Retry-After</c>, rendered the same way. The exception is logged here, without its details reaching the browser.
/// </summary>
internal sealed partial class PageExceptions(RequestDelegate next, ILogger<PageExceptions> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (PageRequests.IsPage(context) && !PageRequests.IsPageMethod(context.Request.Method) && context.Features.Get<IStatusCodeReExecuteFeature>() is null)
        {
            // Pages answer GET, HEAD and POST only (a DELETE that path normalisation turned into "/", say): a 405,
            // rendered as the HTML error page for a browser and as a problem for everyone else.
            context.Response.Headers.Allow = "GET, HEAD, POST";
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            if (!PageRequests.AcceptsHtml(context.Request) && context.Features.Get<IStatusCodePagesFeature>() is { } pages)
            {
                pages.Enabled = false;
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext { HttpContext = context });
            }

            return;
        }

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
            context.Response.Clear();
            if (DependencyFailures.Classify(ex) is { } outage)
            {
                // A dependency that is down: the error page says so with the same 503 (and Retry-After) as the API.
                LogDependencyDown(logger, outage.Dependency, context.Request.Path, ex.GetBaseException().Message);
                DependencyFailures.Refuse(context, outage);
                return;
            }

            LogPageFailed(logger, ex, context.Request.Path);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Dependency} is unavailable: page {Path} refused: {Reason}")]
    private static partial void LogDependencyDown(ILogger logger, string dependency, PathString path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on page {Path}")]
    private static partial void LogPageFailed(ILogger logger, Exception exception, PathString path);
}
