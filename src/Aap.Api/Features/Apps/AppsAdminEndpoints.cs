using System.Text;
using System.Text.Json;
using Aap.Api.Features.Identity;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Apps;

/// <summary>A new app, or the full replacement of one.</summary>
public sealed record AppRequest(string? Name, string? Link, int? Points, string? Description, string? Category, bool? IsActive);

/// <summary>An app as admins see it: the catalog fields plus its state.</summary>
internal sealed record AdminAppResponse(long Id, string Name, string Link, int Points, string? Description, string? Category, bool IsActive, DateTime CreatedAt, DateTime UpdatedAt, DateTime? DeletedAt);

/// <summary>Admins publish and manage apps: <c>POST/PUT/PATCH/DELETE /api/v1/apps</c>. Every write evicts the catalog cache.</summary>
internal static class AppsAdminEndpoints
{
    public static IEndpointRouteBuilder MapAppsAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var apps = endpoints.MapGroup("/api/v1/apps").WithTags("Apps").RequireAuthorization(Policies.Admin)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403);
        apps.MapPost("", Create).WithName("CreateApp").WithSummary("Publish an app (admin).").ProducesProblem(409);
        apps.MapPut("/{id}", Replace).WithName("ReplaceApp").WithSummary("Replace an app's fields (admin).").ProducesProblem(404).ProducesProblem(409);
        apps.MapPatch("/{id}", Patch).WithName("PatchApp").Accepts<JsonElement>(MergePatch.MediaType, "application/json")
            .WithSummary("Change the fields sent (JSON merge patch, RFC 7396); null clears description or category (admin).").ProducesProblem(404).ProducesProblem(409);
        apps.MapDelete("/{id}", Delete).WithName("DeleteApp").WithSummary("Soft-delete an app (admin).").ProducesProblem(404);
        apps.MapPost("/{id}/restore", Restore).WithName("RestoreApp").WithSummary("Bring back a deleted app (admin).").ProducesProblem(404).ProducesProblem(409);
        return endpoints;
    }

    internal static async Task<Results<Created<Envelope<AdminAppResponse>>, ProblemHttpResult>> Create(
        AppRequest request, AppDbContext db, AppsCatalogCache cache, CancellationToken cancellationToken)
    {
        var app = new App { Link = "" };
        if (await ApplyAsync(app, request, db, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        db.Set<App>().Add(app);
        if (await SaveAsync(db, cache, cancellationToken) is { } conflict)
        {
            return conflict;
        }

        return TypedResults.Created($"/api/v1/apps/{app.Id}", new Envelope<AdminAppResponse>(await ToResponseAsync(db, app, cancellationToken)));
    }

    internal static async Task<Results<Ok<Envelope<AdminAppResponse>>, ProblemHttpResult>> Replace(
        long id, AppRequest request, AppDbContext db, AppsCatalogCache cache, CancellationToken cancellationToken)
    {
        var app = await db.Set<App>().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (app is null)
        {
            return Problems.NotFound($"App {id}");
        }

        if (await ApplyAsync(app, request, db, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        return await SaveAsync(db, cache, cancellationToken) is { } conflict
            ? conflict
            : TypedResults.Ok(new Envelope<AdminAppResponse>(await ToResponseAsync(db, app, cancellationToken)));
    }

    internal static async Task<Results<Ok<Envelope<AdminAppResponse>>, ProblemHttpResult>> Patch(
        long id, JsonElement patch, AppDbContext db, AppsCatalogCache cache, IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        var app = await db.Set<App>().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (app is null)
        {
            return Problems.NotFound($"App {id}");
        }

        if (await MergeAsync(app, patch, db, json.Value.SerializerOptions, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        return await SaveAsync(db, cache, cancellationToken) is { } conflict
            ? conflict
            : TypedResults.Ok(new Envelope<AdminAppResponse>(await ToResponseAsync(db, app, cancellationToken)));
    }

    /// <summary>
    /// Applies a merge patch: the app's current fields with the patch over them, validated as a full replacement.
    /// Fields the body leaves out keep their values.
    /// </summary>
    internal static async Task<ProblemHttpResult?> MergeAsync(App app, JsonElement patch, AppDbContext db, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        var category = app.CategoryId is { } categoryId
            ? await db.Set<AppCategory>().Where(c => c.Id == categoryId).Select(c => c.Slug).SingleAsync(cancellationToken)
            : null;
        var current = new AppRequest(app.Name, app.Link, app.Points, app.Description, category, app.IsActive);
        var (merged, errors) = MergePatch.Apply(current, patch, json);
        return merged is null
            ? Problems.Create(400, ProblemCodes.ValidationFailed, "One or more fields are invalid.", errors)
            : await ApplyAsync(app, merged, db, cancellationToken);
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        long id, AppDbContext db, AppsCatalogCache cache, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var deleted = await db.Set<App>().Where(a => a.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.DeletedAt, now).SetProperty(a => a.UpdatedAt, now).SetProperty(a => a.Version, a => a.Version + 1), cancellationToken);
        cache.Evict();
        return deleted == 1 ? TypedResults.NoContent() : Problems.NotFound($"App {id}");
    }

    internal static async Task<Results<Ok<Envelope<AdminAppResponse>>, ProblemHttpResult>> Restore(
        long id, AppDbContext db, AppsCatalogCache cache, CancellationToken cancellationToken)
    {
        var app = await db.Set<App>().IgnoreQueryFilters([QueryFilters.SoftDelete]).SingleOrDefaultAsync(a => a.Id == id && a.DeletedAt != null, cancellationToken);
        if (app is null)
        {
            return Problems.NotFound($"Deleted app {id}");
        }

        app.DeletedAt = null;
        return await SaveAsync(db, cache, cancellationToken) is { } conflict
            ? conflict
            : TypedResults.Ok(new Envelope<AdminAppResponse>(await ToResponseAsync(db, app, cancellationToken)));
    }

    internal static async Task<ProblemHttpResult?> ApplyAsync(App app, AppRequest request, AppDbContext db, CancellationToken cancellationToken)
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
        else if (AccountService.HasHiddenCharacters(name))
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
                errors.Add("category", $"Unknown category '{slug}'.");
            }
        }

        if (errors.Count > 0)
        {
            return Problems.Create(400, ProblemCodes.ValidationFailed, "One or more fields are invalid.", errors);
        }

        app.Rename(name!);
        app.Link = link!;
        app.Points = request.Points!.Value;
        app.Description = description;
        app.CategoryId = categoryId;
        app.IsActive = request.IsActive ?? true;
        return null;
    }

    /// <summary>Saves and evicts the catalog; a name already used by a live app is a 409.</summary>
    internal static async Task<ProblemHttpResult?> SaveAsync(AppDbContext db, AppsCatalogCache cache, CancellationToken cancellationToken)
    {
        var names = db.ChangeTracker.Entries<App>().Where(e => e.State is EntityState.Added or EntityState.Modified)
            .Select(e => (e.Entity.Id, e.Entity.NormalizedName)).ToList();
        foreach (var (id, normalized) in names)
        {
            if (await db.Set<App>().AnyAsync(a => a.NormalizedName == normalized && a.Id != id, cancellationToken))
            {
                return Conflict();
            }
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex is not DbUpdateConcurrencyException)
        {
            // Two admins raced past the check above: the unique index decided.
            return Conflict();
        }

        cache.Evict();
        return null;
    }

    private static ProblemHttpResult Conflict() =>
        Problems.Create(409, ProblemCodes.Conflict, "Another app already has this name.", new FieldErrors { { "name", "This name is taken (names are compared ignoring case)." } });

    internal static async Task<AdminAppResponse> ToResponseAsync(AppDbContext db, App app, CancellationToken cancellationToken)
    {
        var category = app.CategoryId is { } categoryId
            ? await db.Set<AppCategory>().Where(c => c.Id == categoryId).Select(c => c.Slug).SingleAsync(cancellationToken)
            : null;
        return new AdminAppResponse(app.Id, app.Name, app.Link, app.Points, app.Description, category, app.IsActive, app.CreatedAt, app.UpdatedAt, app.DeletedAt);
    }
}
