using Aap.Api.Platform.Jobs;

namespace Aap.Api.Features.Imports;

/// <summary>
/// CSV imports (seed 003, Task 2): <see cref="CsvImportService"/>, used by <c>aap import csv</c>, and the admin API
/// (<c>/api/v1/admin/imports</c>) whose uploads the queued job <c>csv-imports</c> imports. Imported tables are
/// created at run time, apart from AAP's own (PostgreSQL schema <c>imports</c>, SQLite prefix <c>import_</c>).
/// </summary>
internal static class ImportsFeature
{
    public static WebApplicationBuilder AddImportsFeature(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<CsvImportService>();
        builder.Services.AddSingleton<ImportMetrics>();
        builder.Services.AddOptions<ImportsOptions>().BindConfiguration(ImportsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<ImportAdminService>();
        builder.Services.AddSingleton<ImportCancellations>();
        builder.Services.AddSingleton<ImportJobProbe>();
        builder.AddQueuedJob<ImportJob>(ImportJob.Name,
            "After each import an admin uploads, and every 10 minutes: run the queued CSV imports, oldest first.");
        return builder;
    }

    /// <summary>The routes of <c>/api/v1/admin/imports</c>.</summary>
    public static IEndpointRouteBuilder MapImportsFeature(this IEndpointRouteBuilder endpoints) => ImportEndpoints.Map(endpoints);
}
