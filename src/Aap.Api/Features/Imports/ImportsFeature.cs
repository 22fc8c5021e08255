namespace Aap.Api.Features.Imports;

/// <summary>
/// CSV imports (seed 003, Task 2): <see cref="CsvImportService"/>, used by <c>aap import csv</c>. Imported tables
/// are created at run time, apart from AAP's own (PostgreSQL schema <c>imports</c>, SQLite prefix <c>import_</c>).
/// </summary>
internal static class ImportsFeature
{
    public static WebApplicationBuilder AddImportsFeature(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<CsvImportService>();
        builder.Services.AddSingleton<ImportMetrics>();
        return builder;
    }

    /// <summary>No routes yet: the admin API that starts an import as a background job maps here.</summary>
    public static IEndpointRouteBuilder MapImportsFeature(this IEndpointRouteBuilder endpoints) => endpoints;
}
