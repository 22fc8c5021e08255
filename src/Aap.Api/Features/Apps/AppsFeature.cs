using Aap.Api.Platform.Persistence.Seeding;

namespace Aap.Api.Features.Apps;

/// <summary>
/// The apps catalog: admins publish Android apps with the points they are worth; everyone browses the active ones.
/// Other features read it through <see cref="AppsCatalog"/>; admins (of the product API and the seed dialects) write
/// through <see cref="AppsAdmin"/>. Whether a caller completed an app is asked of <see cref="ICompletedApps"/>, which
/// the rewards feature answers.
/// </summary>
internal static class AppsFeature
{
    public static WebApplicationBuilder AddAppsFeature(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ISeedContributor, AppsSeed>()
            .AddMemoryCache(cache => cache.SizeLimit = 10_000)
            .AddSingleton<AppsCatalogCache>()
            .AddSingleton<AppsMetrics>()
            .AddScoped<AppsCatalog>()
            .AddScoped<AppsAdmin>()
            .AddScoped<AppCategories>();
        return builder;
    }

    public static IEndpointRouteBuilder MapAppsFeature(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapAppsEndpoints().MapAppsAdminEndpoints().MapCategoryEndpoints();
}
