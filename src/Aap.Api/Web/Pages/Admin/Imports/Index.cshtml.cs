using Aap.Api.Features.Imports;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Imports;

/// <summary>
/// <c>/admin/imports</c>: the upload form of a CSV import (the API's options, by the same names) and every import,
/// newest first. A started import opens its own page, which follows its progress. The form may carry a file far
/// larger than other forms: the framework spools it to disk, and <see cref="ImportUpload"/> enforces
/// <c>Imports:MaxUploadBytes</c>.
/// </summary>
[RequestFormLimits(MultipartBodyLengthLimit = long.MaxValue, ValueLengthLimit = 16 * 1024)]
[DisableRequestSizeLimit]
internal sealed class IndexModel(ImportAdminService imports) : PageModel
{
    public const int PageSize = 20;

    public PagedEnvelope<ImportResponse> Imports { get; private set; } = new([], new PageMeta(1, PageSize, 0, 0));

    public IReadOnlyDictionary<string, string[]>? Errors { get; private set; }

    public string? Alert { get; private set; }

    public long MaxUploadBytes => imports.MaxUploadBytes;

    public bool AnyActive => Imports.Data.Any(i => ImportStates.IsActive(i.State));

    public PageLinks Pager => new(Imports.Meta, "/admin/imports", PageLinks.Of(Request), "Pages of the imports");

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var read = await ImportUpload.FromFormAsync(Request.Form, imports.MaxUploadBytes, cancellationToken);
        Failure failure;
        if (read.Succeeded)
        {
            await using var upload = read.Value;
            var started = await imports.StartAsync(User.UserId()!.Value, upload, cancellationToken);
            if (started.Succeeded)
            {
                return LocalRedirect($"/admin/imports/{started.Value.Id}");
            }

            failure = started.Failure;
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

    public string? ErrorOf(string field) => Errors is not null && Errors.TryGetValue(field, out var messages) ? string.Join(" ", messages) : null;

    public string? Posted(string field) => Request.HasFormContentType ? Request.Form[field].ToString() : null;

    private async Task LoadAsync(CancellationToken cancellationToken) =>
        Imports = await imports.ListAsync(new PageQuery { Page = Math.Clamp(PageLinks.PageNumberOf(Request), 1, PageQuery.MaxPage), Size = PageSize }, cancellationToken);

    public static string When(DateTime? at) =>
        at is { } value ? value.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) : "—";
}
