using Aap.Api.Platform.Http;
using Aap.Api.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Aap.Api.Features.Apps;

/// <summary>
/// <c>GET /api/v1/categories</c> for everyone; <c>POST</c>, <c>PATCH /{slug}</c> and <c>DELETE /{slug}</c> for
/// admins, over <see cref="AppCategories"/>.
/// </summary>
internal static class CategoryEndpoints
{
    public static IEndpointRouteBuilder MapCategoryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/categories", ListCategories).WithName("ListCategories").WithTags("Apps")
            .WithMetadata(endpoints.ServiceProvider.GetRequiredService<AppsCatalogCache>().OutputPolicy)
            .WithSummary("Every category (slug, name, number of active apps), by slug; the slug is what apps' category field and filter take.");

        var admin = endpoints.MapGroup("/api/v1/categories").WithTags("Apps").RequireAuthorization(Policies.Admin)
            .ProducesProblem(400).ProducesProblem(401).ProducesProblem(403);
        admin.MapPost("", CreateCategory).WithName("CreateCategory").WithSummary("Create a category (admin).").ProducesProblem(409);
        admin.MapPatch("/{slug}", UpdateCategory).WithName("UpdateCategory")
            .WithSummary("Rename a category: a new name and/or slug; fields left out are kept (admin).").ProducesProblem(404).ProducesProblem(409);
        admin.MapDelete("/{slug}", DeleteCategory).WithName("DeleteCategory")
            .WithSummary("Delete a category that no live app uses; 409 while one does (admin).").ProducesProblem(404).ProducesProblem(409);
        return endpoints;
    }

    internal static async Task<Ok<Envelope<List<CategoryResponse>>>> ListCategories(AppCategories categories, CancellationToken cancellationToken) =>
        TypedResults.Ok(new Envelope<List<CategoryResponse>>(await categories.ListAsync(cancellationToken)));

    internal static async Task<Results<Created<Envelope<CategoryResponse>>, ProblemHttpResult>> CreateCategory(
        CategoryRequest request, AppCategories categories, CancellationToken cancellationToken)
    {
        var created = await categories.CreateAsync(request, cancellationToken);
        return created.Succeeded
            ? TypedResults.Created($"/api/v1/categories/{created.Value.Slug}", new Envelope<CategoryResponse>(created.Value))
            : created.Failure.ToProblem();
    }

    internal static async Task<Results<Ok<Envelope<CategoryResponse>>, ProblemHttpResult>> UpdateCategory(
        string slug, CategoryRequest request, AppCategories categories, CancellationToken cancellationToken)
    {
        var updated = await categories.UpdateAsync(slug, request, cancellationToken);
        return updated.Succeeded ? TypedResults.Ok(new Envelope<CategoryResponse>(updated.Value)) : updated.Failure.ToProblem();
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteCategory(string slug, AppCategories categories, CancellationToken cancellationToken) =>
        await categories.DeleteAsync(slug, cancellationToken) is { } failure ? failure.ToProblem() : TypedResults.NoContent();
}
