using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Storage;
using Microsoft.Extensions.Options;

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
        builder.AddRecurringJob<ImportRetentionJob>(ImportRetentionJob.Name,
            "Daily 03:40: remove the upload and rejects files of imports ended more than Imports:RetentionDays ago; their records stay.", "0 40 3 * * ?");
        builder.Services.AddSingleton<IValidateOptions<StorageOptions>, ImportsFolderIsNoCategory>();
        return builder;
    }

    /// <summary>The routes of <c>/api/v1/admin/imports</c>.</summary>
    public static IEndpointRouteBuilder MapImportsFeature(this IEndpointRouteBuilder endpoints) => ImportEndpoints.Map(endpoints);
}

/// <summary>
/// The file store's folder <c>imports/</c> holds the imports' uploads and rejects, which no file row names: were it a
/// file category, the orphan sweep would list it and remove a queued import's upload once older than its grace. A
/// category of that name is refused at startup.
/// </summary>
internal sealed class ImportsFolderIsNoCategory : IValidateOptions<StorageOptions>
{
    public const string Folder = "imports";

    public ValidateOptionsResult Validate(string? name, StorageOptions options) => options.Categories.ContainsKey(Folder)
        ? ValidateOptionsResult.Fail($"Storage:Categories may not name a category '{Folder}': that folder of the file store holds the CSV imports' uploads and rejects.")
        : ValidateOptionsResult.Success;
}
