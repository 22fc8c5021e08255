using System.Globalization;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Aap.Api.Platform.Settings;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Settings;

/// <summary>
/// <c>/admin/settings</c>: every runtime setting with its description, bounds, default and current value, a form per
/// setting (the same bounds check as <c>PUT /api/v1/admin/settings/{key}</c>), and its latest changes from the audit
/// log. Seed 004's "token lifetimes on a web page".
/// </summary>
internal sealed class IndexModel(RuntimeSettings settings, AuditQueries audit) : PageModel
{
    public const int HistorySize = 5;

    [BindProperty(SupportsGet = true, Name = "saved")]
    public string? Saved { get; set; }

    public IReadOnlyList<SettingView> Settings { get; private set; } = [];

    /// <summary>The setting whose form was refused, with the value as typed and the reason.</summary>
    public (string Key, string? Value, string Error)? Refused { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(string? key, string? value, CancellationToken cancellationToken)
    {
        if (key is null || !settings.TryGetDefinition(key, out var definition))
        {
            return NotFound();
        }

        if (!int.TryParse(value?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) || !definition.Accepts(number))
        {
            Refused = (key, value, $"'{key}' takes a whole number from {definition.Min} to {definition.Max}.");
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync(cancellationToken);
            return Page();
        }

        await settings.SetAsync(definition, number, User.UserId(), cancellationToken);
        return Redirect($"/admin/settings?saved={Uri.EscapeDataString(key)}#setting-{Anchor(key)}");
    }

    public static string Anchor(string key) => key.Replace('.', '-').Replace('_', '-');

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var all = await settings.ListAsync(cancellationToken);
        var views = new List<SettingView>(all.Count);
        foreach (var (definition, value, stored) in all)
        {
            var history = await audit.SearchAsync(new AuditFilter { EntityType = "setting", EntityId = definition.Key },
                new PageQuery { Page = 1, Size = HistorySize }, cancellationToken);
            views.Add(new SettingView(definition, value, stored?.UpdatedAt, history.Succeeded ? history.Value : null));
        }

        Settings = views;
    }

    internal sealed record SettingView(RuntimeSettingDefinition Definition, int Value, DateTime? UpdatedAt, PagedEnvelope<AuditEntryResponse>? History);
}
