using System.Data;
using System.Text;
using System.Text.RegularExpressions;
using Aap.Api.Platform;
using Aap.Api.Platform.Audit;
using Aap.Api.Platform.Http;
using Aap.Api.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Aap.Api.Features.Apps;

/// <summary>
/// The categories apps are filed under: listed for everyone, created, renamed and deleted by admins. A category in
/// use by a live app cannot be deleted (409, naming how many apps use it); deleted apps that still point at it let
/// go of it. Every write evicts the catalog cache, whose pages show each app's category slug.
/// </summary>
[FeatureSurface]
internal sealed partial class AppCategories(AppDbContext db, AppsCatalogCache cache, AuditLog audit)
{
    public const int SlugMaxLength = 50;
    public const int NameMaxLength = 100;

    /// <summary>
    /// Every category by slug, with the number of active apps filed under it. Read through the catalog cache (every
    /// page of <c>/apps</c> shows the list): a write to a category or an app on this node evicts it at once, another
    /// node's write within a second (<see cref="AppsCatalogCache"/>), as for the catalog's pages.
    /// </summary>
    public async Task<List<CategoryResponse>> ListAsync(CancellationToken cancellationToken)
    {
        var cached = await cache.GetOrCreateAsync(ListCacheKey, async () =>
            await db.Set<AppCategory>().AsNoTracking().OrderBy(c => c.Slug)
                .Select(c => new CategoryResponse(c.Slug, c.Name, db.Set<App>().Count(a => a.CategoryId == c.Id && a.IsActive)))
                .ToArrayAsync(cancellationToken));

        // A copy: the cached array is shared by every request.
        return [.. cached];
    }

    private const string ListCacheKey = "categories";

    public async Task<Result<CategoryResponse>> CreateAsync(CategoryRequest request, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var name = CheckName(request.Name, errors);
        var slug = CheckSlug(request.Slug, errors);
        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        var category = new AppCategory { Slug = slug!, Name = name! };
        db.Set<AppCategory>().Add(category);
        return await SaveAsync(category, "category.created", null, cancellationToken);
    }

    /// <summary>Changes the name, the slug or both; a field left out (or null) is kept.</summary>
    public async Task<Result<CategoryResponse>> UpdateAsync(string slug, CategoryRequest request, CancellationToken cancellationToken)
    {
        var category = await db.Set<AppCategory>().SingleOrDefaultAsync(c => c.Slug == Key(slug), cancellationToken);
        if (category is null)
        {
            return NotFound(slug);
        }

        var errors = new FieldErrors();
        var name = request.Name is null ? category.Name : CheckName(request.Name, errors);
        var newSlug = request.Slug is null ? category.Slug : CheckSlug(request.Slug, errors);
        if (errors.Count > 0)
        {
            return Failure.Invalid(errors);
        }

        var before = new CategoryAuditSnapshot(category.Slug, category.Name);
        category.Name = name!;
        category.Slug = newSlug!;
        return await SaveAsync(category, "category.updated", before, cancellationToken);
    }

    public async Task<Failure?> DeleteAsync(string slug, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var key = Key(slug);
        var found = await db.Set<AppCategory>().AsNoTracking().Where(c => c.Slug == key).SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return NotFound(slug);
        }

        long? id = found.Id;

        // Live apps (active or not) keep their category until an admin moves them; deleted ones let go of it.
        var used = await db.Set<App>().CountAsync(a => a.CategoryId == id, cancellationToken);
        if (used > 0)
        {
            return new Failure(409, ProblemCodes.Conflict,
                $"The category '{key}' is used by {used} app(s); move them to another category (or none) first.");
        }

        await db.Set<App>().IgnoreQueryFilters([QueryFilters.SoftDelete]).Where(a => a.CategoryId == id)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.CategoryId, (long?)null), cancellationToken);
        await db.Set<AppCategory>().Where(c => c.Id == id).ExecuteDeleteAsync(cancellationToken);
        await audit.RecordAsync("category.deleted", "category", found.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            new CategoryAuditSnapshot(found.Slug, found.Name), null, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await cache.EvictAsync();
        return null;
    }

    private async Task<Result<CategoryResponse>> SaveAsync(AppCategory category, string action, CategoryAuditSnapshot? before, CancellationToken cancellationToken)
    {
        if (await db.Set<AppCategory>().AnyAsync(c => c.Slug == category.Slug && c.Id != category.Id, cancellationToken))
        {
            return SlugTaken();
        }

        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Two admins raced past the check above: the unique index decided.
                db.ChangeTracker.Clear();
                return SlugTaken();
            }

            await audit.RecordAsync(action, "category", category.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                before, new CategoryAuditSnapshot(category.Slug, category.Name), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await cache.EvictAsync();
        var apps = await db.Set<App>().CountAsync(a => a.CategoryId == category.Id && a.IsActive, cancellationToken);
        return new CategoryResponse(category.Slug, category.Name, apps);
    }

    private static string? CheckName(string? value, FieldErrors errors)
    {
        var name = value?.Trim().Normalize(NormalizationForm.FormC);
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "A name is required.");
        }
        else if (name.Length > NameMaxLength)
        {
            errors.Add("name", $"A name has at most {NameMaxLength} characters.");
        }
        else if (InputText.HasHiddenCharacters(name))
        {
            errors.Add("name", "The name contains control or invisible characters.");
        }
        else
        {
            return name;
        }

        return null;
    }

    private static string? CheckSlug(string? value, FieldErrors errors)
    {
        var slug = value?.Trim().Normalize(NormalizationForm.FormC).ToLowerInvariant();
        if (string.IsNullOrEmpty(slug) || slug.Length > SlugMaxLength || !SlugPattern().IsMatch(slug))
        {
            errors.Add("slug", $"A slug is 1 to {SlugMaxLength} lower-case letters a-z, digits and single hyphens between them, such as 'board-games'.");
            return null;
        }

        return slug;
    }

    private static string Key(string slug) => slug.Trim().ToLowerInvariant();

    private static Failure NotFound(string slug) => Failure.NotFound($"Category '{Key(slug)}'");

    private static Failure SlugTaken() =>
        new(409, ProblemCodes.Conflict, "Another category already has this slug.", new FieldErrors { { "slug", "This slug is taken." } });

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();
}

/// <summary>What the audit log keeps of a category.</summary>
internal sealed record CategoryAuditSnapshot(string Slug, string Name);
