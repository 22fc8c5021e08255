using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Aap.Api.Platform.OpenApi;

/// <summary>
/// Lists the document's tags in the order a newcomer reads the API, each with a sentence on what it holds: the
/// service, signing in, the caller, the catalog and what it earns, the caller's own tasks and files, then the
/// administration, and last the seed documents' routes. Swagger UI shows its sections in this order. Tags are named
/// by the endpoints (<c>WithTags</c>); this only orders and describes them, and keeps any tag it does not know
/// (after the administration, by name), so a new feature's tag is never lost.
/// </summary>
internal static class ReadingOrder
{
    public const string SeedDialects = "Seed dialects";

    /// <summary>
    /// The sections Swagger UI shows closed until a reader opens them (<see cref="DocsScript"/>): the seed dialects,
    /// last, so that a newcomer reads /api/v1 first and still sees, from the section's description, what they are for.
    /// </summary>
    public static readonly IReadOnlyList<string> Collapsed = [SeedDialects];

    /// <summary>The known tags, in reading order, with their descriptions.</summary>
    public static readonly IReadOnlyList<(string Name, string Description)> Tags =
    [
        ("Status", "Whether the service runs, which version, on which database. No sign-in needed."),
        ("Auth", "Accounts and tokens: register, log in (paste the access_token into Authorize above), refresh, log out."),
        ("Me", "The signed-in caller's account: read it, change the username, email or password."),
        ("Apps", "The catalog: apps whose task earns points when completed. Anyone may read it; admins publish and edit."),
        ("Completions", "Completing an app's task: upload a screenshot as proof, then follow its review (pending, approved, rejected)."),
        ("Points", "What completions earn: the caller's balance and ledger, transfers between users, the leaderboard."),
        ("Todos", "The caller's own task list: create, filter, sort, change and restore tasks."),
        ("Files", "Uploads: the caller's files, downloads and signed links."),
        ("ISINs", "The ISIN list (ISO 6166) the daily isin-download job keeps from GLEIF's ISIN-to-LEI file: look one up, or page through them by prefix, LEI and country. Signed-in callers."),
        ("Admin", "Administration (role Admin)."),
        (SeedDialects,
            "The routes, bodies and messages of the customer seed documents, kept exactly as those documents specify for " +
            "clients written against them. They reach the same accounts and data as /api/v1; new clients should use /api/v1. " +
            "Closed at first: click the heading to open it."),
    ];

    public static Task Apply(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var known = Tags.Select((tag, index) => (tag.Name, tag.Description, index)).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var existing = document.Tags?.Where(t => t.Name is not null).ToDictionary(t => t.Name!, StringComparer.Ordinal) ?? [];
        var used = (document.Paths?.Values.AsEnumerable() ?? []).SelectMany(p => p.Operations?.Values.AsEnumerable() ?? [])
            .SelectMany(o => o.Tags?.Select(t => t.Name) ?? [])
            .OfType<string>()
            .Concat(existing.Keys)
            .ToHashSet(StringComparer.Ordinal);

        var ordered = new SortedSet<OpenApiTag>(Comparer<OpenApiTag>.Create((a, b) =>
        {
            var byRank = Rank(a.Name!).CompareTo(Rank(b.Name!));
            return byRank != 0 ? byRank : string.CompareOrdinal(a.Name, b.Name);
        }));
        foreach (var name in used)
        {
            var tag = existing.TryGetValue(name, out var declared) ? declared : new OpenApiTag { Name = name };
            tag.Description ??= known.TryGetValue(name, out var entry) ? entry.Description : AdminDescription(name);
            ordered.Add(tag);
        }

        document.Tags = ordered;
        return Task.CompletedTask;

        int Rank(string name) =>
            known.TryGetValue(name, out var entry) ? entry.index * 10
            : IsAdmin(name) ? known["Admin"].index * 10 + 1
            : known[SeedDialects].index * 10 - 1;
    }

    private static bool IsAdmin(string name) => name.StartsWith("Admin", StringComparison.Ordinal);

    /// <summary>"Admin: rewards" and the like: the administration of one area.</summary>
    private static string? AdminDescription(string name) =>
        IsAdmin(name) && name.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon
            ? $"Administration of {name[(colon + 1)..].Trim()} (role Admin)."
            : null;

    /// <summary>Where Swagger UI loads <see cref="DocsScript"/> from (a file of its own: the docs' CSP allows no inline script).</summary>
    public const string DocsScriptPath = "/docs/reading-order.js";

    /// <summary>
    /// Closes the <see cref="Collapsed"/> sections once Swagger UI has started. Swagger UI opens every section alike
    /// (its <c>docExpansion</c> is one setting for all) and runs configured plugins through <c>eval</c>, which the CSP
    /// forbids; its layout state, set from outside, closes one section as a reader's click would.
    /// </summary>
    public static string DocsScript() => $$"""
        // Generated by AAP: closes the sections a newcomer does not need first ({{string.Join(", ", Collapsed)}}).
        (function () {
          "use strict";
          var collapsed = {{System.Text.Json.JsonSerializer.Serialize(Collapsed)}};
          function close() {
            if (!window.ui || !window.ui.layoutActions) {
              return false;
            }
            collapsed.forEach(function (tag) { window.ui.layoutActions.show(["operations-tag", tag], false); });
            return true;
          }
          // Swagger UI starts in the page's own load handler; this one, added earlier, runs before it, so wait a turn.
          window.addEventListener("load", function () {
            window.setTimeout(close, 0);
          });
        })();
        """;
}
