using System.Text.Json;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Aap.Api.Web.Pages.Admin.Audit;

/// <summary>
/// <c>/admin/audit</c>: the audit log, newest first, with the filters of <c>GET /api/v1/admin/audit</c> (actor,
/// action, entity type and id, from and to) in the query string, paged; each entry shows the fields it changed.
/// </summary>
internal sealed class IndexModel(AuditQueries audit) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "actor")]
    public string? Actor { get; set; }

    [BindProperty(SupportsGet = true, Name = "action")]
    public string? Action { get; set; }

    [BindProperty(SupportsGet = true, Name = "entity_type")]
    public string? EntityType { get; set; }

    [BindProperty(SupportsGet = true, Name = "entity_id")]
    public string? EntityId { get; set; }

    [BindProperty(SupportsGet = true, Name = "from")]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true, Name = "to")]
    public string? To { get; set; }

    /// <summary>
    /// <c>?page=</c>, read by <see cref="PageLinks.PageNumberOf"/>: a property bound by the name <c>page</c> gets Razor
    /// Pages' route value of that name (the page's path) instead, and every link led back to page 1.
    /// </summary>
    public int PageNumber => PageLinks.PageNumberOf(Request);

    public PagedEnvelope<AuditEntryResponse>? Result { get; private set; }

    public Failure? Failure { get; private set; }

    public PageLinks Pager => new(Result!.Meta, "/admin/audit", new Dictionary<string, string?>
    {
        ["actor"] = Actor, ["action"] = Action, ["entity_type"] = EntityType, ["entity_id"] = EntityId, ["from"] = From, ["to"] = To,
    }, "Pages of the audit log", "#results");

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var filter = new AuditFilter { Actor = Actor, Action = Action, EntityType = EntityType, EntityId = EntityId, From = From, To = EndOfDay(To) };
        var paging = new PageQuery { Page = PageNumber, Size = PageQuery.DefaultSize };
        var listed = await audit.SearchAsync(filter, paging, cancellationToken);
        if (listed.Succeeded)
        {
            Result = listed.Value;
        }
        else
        {
            Failure = listed.Failure;
            Response.StatusCode = listed.Failure.Status;
        }
    }

    /// <summary>A date alone in "To" (the date picker's value) means the end of that day, so the day is included.</summary>
    private static string? EndOfDay(string? to) =>
        to?.Trim() is { Length: 10 } date && DateOnly.TryParseExact(date, "yyyy-MM-dd", out _) ? date + "T23:59:59.9999999Z" : to;

    /// <summary>The fields whose values differ between before and after (a field only on one side counts), in order.</summary>
    public static IReadOnlyList<Change> Diff(JsonElement? before, JsonElement? after)
    {
        static Dictionary<string, string> Fields(JsonElement? json) =>
            json is { ValueKind: JsonValueKind.Object } o
                ? o.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Null ? "null" : p.Value.ToString(), StringComparer.Ordinal)
                : json is { } other ? new Dictionary<string, string>(StringComparer.Ordinal) { ["value"] = other.ToString() } : [];

        var old = Fields(before);
        var now = Fields(after);
        return [.. old.Keys.Concat(now.Keys).Distinct(StringComparer.Ordinal)
            .Select(k => new Change(k, old.GetValueOrDefault(k), now.GetValueOrDefault(k)))
            .Where(c => c.Before != c.After)];
    }

    internal sealed record Change(string Field, string? Before, string? After);
}
