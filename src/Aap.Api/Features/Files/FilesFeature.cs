using Aap.Api.Features.Files.Jobs;
using Aap.Api.Platform.Jobs;
using Aap.Api.Platform.Configuration;
using Aap.Api.Platform.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Aap.Api.Features.Files;

/// <summary>Uploaded files: the store they live in, their service, links and routes.</summary>
internal static class FilesFeature
{
    public static WebApplicationBuilder AddFilesFeature(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).PostConfigure(storage => storage.AddDefaultCategories())
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<IFileStore>(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>();
            return storage.Value.ProviderKind == StorageProvider.S3
                ? S3FileStore.Create(storage)
                : new LocalFileStore(storage.Value.LocalPath ?? sp.GetRequiredService<DataDirectory>().Folder("files"));
        });
        services.AddSingleton<FileLinks>();
        services.AddScoped<FileService>();
        services.AddSingleton<FilesMetrics>();
        services.AddScoped<FileDownloads>();
        services.AddOptions<ThumbnailOptions>().BindConfiguration(ThumbnailOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ThumbnailMaker>();
        services.AddOptions<FilesOptions>().BindConfiguration(FilesOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<OrphanSweep>();

        // Multipart bodies up to the file limit, plus room for the form's other parts.
        var maxFile = builder.Configuration.GetValue<long?>($"{StorageOptions.SectionName}:{nameof(StorageOptions.MaxFileBytes)}") ?? new StorageOptions().MaxFileBytes;
        services.Configure<FormOptions>(form => form.MultipartBodyLengthLimit = maxFile + (64 * 1024));
        builder.AddRecurringJob<PurgeDeletedFilesJob>(PurgeDeletedFilesJob.Name,
            "Daily 03:20: remove files deleted more than Jobs:Maintenance:DeletedFileRetentionDays ago (aap files purge).", "0 20 3 * * ?");
        builder.AddRecurringJob<OrphanSweepJob>(OrphanSweepJob.Name,
            "Daily 03:30: remove stored objects no file row names, older than Files:OrphanGraceHours (aap files sweep-orphans).", "0 30 3 * * ?");
        builder.AddQueuedJob<ThumbnailJob>(ThumbnailJob.Name,
            "After each image upload, and every 10 minutes: make the thumbnails still pending, oldest first.");
        return builder;
    }

    /// <summary>The routes of <c>/api/v1/files</c>.</summary>
    public static IEndpointRouteBuilder MapFilesFeature(this IEndpointRouteBuilder endpoints) => FileEndpoints.Map(endpoints);

    /// <summary>Creates the S3 bucket at start when <c>Storage:S3:CreateBucket</c> asks for it.</summary>
    public static async Task PrepareStorageAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        if (app.Services.GetRequiredService<IFileStore>() is S3FileStore s3)
        {
            await s3.EnsureBucketAsync(cancellationToken);
        }
    }
}
