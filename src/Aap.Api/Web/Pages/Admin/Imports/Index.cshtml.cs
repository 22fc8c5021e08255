using Aap.Api.Features.Imports;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Aap.Api.Web.Pages.Admin.Imports;

/// <summary>
/// <c>/admin/imports</c>: the upload form of a CSV import (the API's options, by the same names) and every import,
/// newest first. A started import opens its own page, which follows its progress. The form may carry a file far
/// larger than other forms, so it is read as the API reads its uploads (<see cref="ImportUpload"/>): streamed, a
/// section at a time, refused at once when Content-Length is over <c>Imports:MaxUploadBytes</c> and as soon as the
/// file's bytes pass it otherwise; never spooled whole by the framework first. Hence the antiforgery token, a
/// field of that form, is checked here once the form is read, before anything is stored or started.
/// </summary>
[IgnoreAntiforgeryToken]
[DisableRequestSizeLimit]
internal sealed class IndexModel(ImportAdminService imports, IAntiforgery antiforgery, IOptions<AntiforgeryOptions> antiforgeryOptions) : PageModel
{
    public const int PageSize = 20;

    public PagedEnvelope<ImportResponse> Imports { get; private set; } = new([], new PageMeta(1, PageSize, 0, 0));

    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    public string? Alert { get; private set; }

    public long MaxUploadBytes => imports.MaxUploadBytes;

    public bool AnyActive => Imports.Data.Any(i => ImportStates.IsActive(i.State));

    public PageLinks Pager => new(Imports.Meta, "/admin/imports", PageLinks.Of(Request), "Pages of the imports");

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    // No parameter, not even a CancellationToken: binding one makes the framework read the whole form first.
    public async Task<IActionResult> OnPostAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        var read = await ImportUpload.ReadMultipartAsync(Request, imports.MaxUploadBytes, cancellationToken);
        Failure failure;
        if (read.Succeeded)
        {
            await using var upload = read.Value;
            _posted = upload.Fields;
            if (!await TokenIsValidAsync(upload))
            {
                failure = new Failure(StatusCodes.Status400BadRequest, ProblemCodes.BadRequest,
                    "The form could not be accepted: it is too old or came from elsewhere. Nothing was stored; send the file again from this page.");
            }
            else
            {
                var started = await imports.StartAsync(User.UserId()!.Value, upload, cancellationToken);
                if (started.Succeeded)
                {
                    return LocalRedirect($"/admin/imports/{started.Value.Id}");
                }

                failure = started.Failure;
            }
        }
        else
        {
            failure = read.Failure;
        }

        Response.StatusCode = failure.Status;
        Errors = failure.Errors;
        Alert = failure.Detail;
        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>The form's antiforgery field, checked as the framework would (given as the request token header, so the body is not read again).</summary>
    private async Task<bool> TokenIsValidAsync(ImportUpload upload)
    {
        var options = antiforgeryOptions.Value;
        if (options.HeaderName is null)
        {
            return false;
        }

        Request.Headers[options.HeaderName] = upload.Fields.TryGetValue(options.FormFieldName, out var tokens) && tokens.Count == 1 ? tokens[0] : "";
        return await antiforgery.IsRequestValidAsync(HttpContext);
    }

    public string? ErrorOf(string field) => Errors is not null && Errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    /// <summary>A field of the form just posted (shown again beside its error); null on a GET.</summary>
    public string? Posted(string field) => _posted is not null && _posted.TryGetValue(field, out var values) ? string.Join(",", values) : null;

    private IReadOnlyDictionary<string, List<string>>? _posted;

    // After a post, the first page: the body is the upload, which is not read again for a page number.
    private async Task LoadAsync(CancellationToken cancellationToken) =>
        Imports = await imports.ListAsync(new PageQuery
        {
            Page = HttpMethods.IsPost(Request.Method) ? 1 : Math.Clamp(PageLinks.PageNumberOf(Request), 1, PageQuery.MaxPage), Size = PageSize,
        }, cancellationToken);

    public static string When(DateTime? at) =>
        at is { } value ? value.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "—";
}
