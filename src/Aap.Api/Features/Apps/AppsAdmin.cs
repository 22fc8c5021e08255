using System.Text;
using System.Text.Json;
using Aap.Api.Platform;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Apps;

/// <summary>
/// Publishing and managing apps, for the admin routes of the product API and of the seed dialects. Every write
/// evicts the catalog cache. The rules of an app's fields are checked here rather than by attributes on
/// <see cref="AppRequest"/>: they judge the trimmed, NFC-normalised text, look the category up, and apply as well to
/// a merge patch's result, which no binder sees.
/// </summary>
[FeatureSurface]
internal sealed class AppsAdmin(AppDbContext db, AppsCatalogCache cache, TimeProvider clock, IOptions<JsonOptions> json, AuditLog audit)
{
    public async Task<Result<AdminAppResponse>> CreateAsync(AppRequest request, CancellationToken cancellationToken)
    {
        var app = new App { Link = "" };
        if (await ApplyAsync(app, request, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        db.Set<App>().Add(app);
        return await SaveAsync(app, "app.created", null, cancellationToken);
    }

    public async Task<Result<AdminAppResponse>> ReplaceAsync(long id, AppRequest request, CancellationToken cancellationToken)
    {
        var app = await db.Set<App>().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (app is null)
        {
            return Failure.NotFound($"App {id}");
        }

        var before = await SnapshotAsync(app, cancellationToken);
        return await ApplyAsync(app, request, cancellationToken) ?? await SaveAsync(app, "app.updated", before, cancellationToken);
    }

    /// <summary>
    /// Applies a merge patch (RFC 7396): the app's current fields with the patch over them, validated as a full
    /// replacement. Fields the body leaves out keep their values.
    /// </summary>
    public async Task<Result<AdminAppResponse>> PatchAsync(long id, JsonElement patch, CancellationToken cancellationToken)
    {
        var app = await db.Set<App>().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (app is null)
        {
            return Failure.NotFound($"App {id}");
        }

        var before = await SnapshotAsync(app, cancellationToken);
        var current = new AppRequest(app.Name, app.Link, app.Points, app.Description, before.Category, app.IsActive);
        var (merged, errors) = MergePatch.Apply(current, patch, json.Value.SerializerOptions);
        if (merged is null)
        {
            return Failure.Invalid(errors);
        }

        return await ApplyAsync(app, merged, cancellationToken) ?? await SaveAsync(app, "app.updated", before, cancellationToken);
    }

    /// <summary>Soft-deletes an app: it leaves the catalog at once, and completions keep pointing at it.</summary>
    public async Task<Failure?> DeleteAsync(long id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var app = await db.Set<App>().AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (app is null)
        {
            return Failure.NotFound($"App {id}");
        }

        var deleted = await db.Set<App>().Where(a => a.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, now).SetProperty(a => a.UpdatedAt, now).SetProperty(a => a.Version, a => a.Version + 1), cancellationToken);
        if (deleted != 1)
        {
            return Failure.NotFound($"App {id}");
        }

        var before = await SnapshotAsync(app, cancellationToken);
        await audit.RecordAsync("app.deleted", "app", Key(id), before, before with { UpdatedAt = now, DeletedAt = now }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await cache.EvictAsync();
        return null;
    }

    public async Task<Result<AdminAppResponse>> RestoreAsync(long id, CancellationToken cancellationToken)
    {
        var app = await db.Set<App>().IgnoreQueryFilters([QueryFilters.SoftDelete]).SingleOrDefaultAsync(a => a.Id == id && a.DeletedAt != null, cancellationToken);
        if (app is null)
        {
            return Failure.NotFound($"Deleted app {id}");
        }

        var before = await SnapshotAsync(app, cancellationToken);
        app.DeletedAt = null;
        return await SaveAsync(app, "app.restored", before, cancellationToken);
    }

    /// <summary>
    /// The apps as the admin panel lists them: <see cref="AdminAppFilter.Q"/> searches name and description, the
    /// state picks active, inactive or deleted apps (all live ones when null), sorted by name, points or created_at
    /// (<c>-</c> for descending). Counted and paged in the database.
    /// </summary>
    public async Task<Result<PagedEnvelope<AdminAppResponse>>> ListAsync(AdminAppFilter filter, PageQuery paging, CancellationToken cancellationToken)
    {
        var order = SortQuery.Parse(filter.Sort, "name", AppsEndpoints.SortFields);
        if (!order.Succeeded)
        {
            return order.Failure;
        }

        var query = filter.State == AdminAppState.Deleted
            ? db.Set<App>().AsNoTracking().IgnoreQueryFilters([QueryFilters.SoftDelete]).Where(a => a.DeletedAt != null)
            : db.Set<App>().AsNoTracking();
        query = filter.State switch
        {
            AdminAppState.Active => query.Where(a => a.IsActive),
            AdminAppState.Inactive => query.Where(a => !a.IsActive),
            _ => query,
        };
        if (!string.IsNullOrWhiteSpace(filter.Q))
        {
            var term = App.Normalize(filter.Q);
            query = query.Where(a => a.NormalizedName.Contains(term) || (a.Description != null && a.Description.ToUpper().Contains(term)));
        }

        return await query.OrderBy(order.Value, a => a.Id).Select(AdminProjection).ToPageDataAsync(paging, cancellationToken);
    }

    /// <summary>One app as admins see it, deleted or not, or null.</summary>
    public Task<AdminAppResponse?> FindAsync(long id, CancellationToken cancellationToken) =>
        db.Set<App>().AsNoTracking().IgnoreQueryFilters([QueryFilters.SoftDelete]).Where(a => a.Id == id).Select(AdminProjection).SingleOrDefaultAsync(cancellationToken)!;

    /// <summary>The categories an app can be filed under, by slug: what a form's category choice offers.</summary>
    public async Task<IReadOnlyList<AppCategoryChoice>> CategoryChoicesAsync(CancellationToken cancellationToken) =>
        await db.Set<AppCategory>().AsNoTracking().OrderBy(c => c.Slug).Select(c => new AppCategoryChoice(c.Slug, c.Name)).ToListAsync(cancellationToken);

    /// <summary>Activates or deactivates a live app (an inactive app leaves the catalog but keeps its completions); recorded as <c>app.updated</c>.</summary>
    public async Task<Result<AdminAppResponse>> SetActiveAsync(long id, bool active, CancellationToken cancellationToken)
    {
        var app = await db.Set<App>().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (app is null)
        {
            return Failure.NotFound($"App {id}");
        }

        var before = await SnapshotAsync(app, cancellationToken);
        app.IsActive = active;
        return await SaveAsync(app, "app.updated", before, cancellationToken);
    }

    private static readonly System.Linq.Expressions.Expression<Func<App, AdminAppResponse>> AdminProjection = a => new AdminAppResponse(
        a.Id, a.Name, a.Link, a.Points, a.Description, a.Category != null ? a.Category.Slug : null, a.IsActive, a.CreatedAt, a.UpdatedAt, a.DeletedAt);

    private async Task<Failure?> ApplyAsync(App app, AppRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var name = request.Name?.Trim().Normalize(NormalizationForm.FormC);
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "A name is required.");
        }
        else if (name.Length > App.NameMaxLength)
        {
            errors.Add("name", $"A name has at most {App.NameMaxLength} characters.");
        }
        else if (InputText.HasHiddenCharacters(name))
        {
            errors.Add("name", "The name contains control or invisible characters.");
        }

        var link = request.Link?.Trim();
        if (string.IsNullOrEmpty(link) || link.Length > App.LinkMaxLength ||
            !Uri.TryCreate(link, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            errors.Add("link", "The link is an absolute http or https URL, such as a Play Store page.");
        }

        if (request.Points is not { } points || points < App.MinPoints || points > App.MaxPoints)
        {
            errors.Add("points", $"Points are a whole number from {App.MinPoints} to {App.MaxPoints}.");
        }

        var description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim();
        if (description?.Length > App.DescriptionMaxLength)
        {
            errors.Add("description", $"A description has at most {App.DescriptionMaxLength} characters.");
        }

        long? categoryId = null;
        if (!string.IsNullOrWhiteSpace(request.Category))
        {
            var slug = request.Category.Trim().ToLowerInvariant();
            categoryId = await db.Set<AppCategory>().Where(c => c.Slug == slug).Select(c => (long?)c.Id).SingleOrDefaultAsync(cancellationToken);
            if (categoryId is null)
            {
                var known = await db.Set<AppCategory>().OrderBy(c => c.Slug).Select(c => c.Slug).ToListAsync(cancellationToken);
                errors.Add("category", known.Count == 0
                    ? $"Unknown category '{slug}': there are no categories yet (an admin creates them with POST /api/v1/categories)."
                    : $"Unknown category '{slug}'. Use one of: {string.Join(", ", known)}.");
            }
        }

        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        app.Rename(name!);
        app.Link = link!;
        app.Points = request.Points!.Value;
        app.Description = description;
        app.CategoryId = categoryId;
        app.IsActive = request.IsActive ?? true;
        return null;
    }

    /// <summary>
    /// Saves with the audit record of <paramref name="action"/> in one transaction, and evicts the catalog; a name
    /// already used by a live app is a 409 (and nothing is saved or recorded).
    /// </summary>
    private async Task<Result<AdminAppResponse>> SaveAsync(App app, string action, AdminAppResponse? before, CancellationToken cancellationToken)
    {
        if (await db.Set<App>().AnyAsync(a => a.NormalizedName == app.NormalizedName && a.Id != app.Id, cancellationToken))
        {
            return NameTaken();
        }

        AdminAppResponse after;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            try
            {
                // Saved first so a new app has its id for the record.
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (ex is not DbUpdateConcurrencyException)
            {
                // Two admins raced past the check above: the unique index decided.
                db.ChangeTracker.Clear();
                return NameTaken();
            }

            after = await SnapshotAsync(app, cancellationToken);
            await audit.RecordAsync(action, "app", Key(app.Id), before, after, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await cache.EvictAsync();
        return after;
    }

    private async Task<AdminAppResponse> SnapshotAsync(App app, CancellationToken cancellationToken) =>
        new(app.Id, app.Name, app.Link, app.Points, app.Description, await CategorySlugAsync(app, cancellationToken),
            app.IsActive, app.CreatedAt, app.UpdatedAt, app.DeletedAt);

    private static string Key(long id) => id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string?> CategorySlugAsync(App app, CancellationToken cancellationToken) =>
        app.CategoryId is { } categoryId
            ? await db.Set<AppCategory>().Where(c => c.Id == categoryId).Select(c => c.Slug).SingleAsync(cancellationToken)
            : null;

    private static Failure NameTaken() =>
        new(409, ProblemCodes.Conflict, "Another app already has this name.", new FieldErrors { { "name", "This name is taken (names are compared ignoring case)." } });
}
